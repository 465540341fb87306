import { main } from './index.ts';

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
