import { main } from './main.ts';

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  process.stderr.write(`spar: ${(err as Error).message}\n`);
  process.exit(1);
});
