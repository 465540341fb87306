import { builtinRecipes } from '@spar/recipes';
import { exitStartFailure } from '@spar/service-kit';
import { main } from './index.ts';

main(builtinRecipes()).catch(exitStartFailure('learner'));
