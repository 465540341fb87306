import { exitStartFailure } from '@spar/service-kit';
import { main } from './index.ts';

main().catch(exitStartFailure('proposer'));
