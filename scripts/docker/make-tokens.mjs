// The compose stack's first-run setup (the `tokens` service in docker-compose.yml): make the API
// and gRPC bearer tokens once and keep them in <dir> (the spar-secrets volume), never in an image.
//   node scripts/docker/make-tokens.mjs <dir>                 create what is missing, keep the rest
//   node scripts/docker/make-tokens.mjs <dir> --print api     then print one (api | grpc) on stdout
// A token given in the environment (SPAR_API_TOKEN, SPAR_GRPC_TOKEN) replaces the stored one.
// Files are 64 hex characters (32 random bytes), mode 0400, owned by whoever runs this (uid 1000
// in the image: the services' user).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TOKENS = { api: { file: 'api-token', env: 'SPAR_API_TOKEN' }, grpc: { file: 'grpc-token', env: 'SPAR_GRPC_TOKEN' } };
const [dir, flag, which] = process.argv.slice(2);
const fail = (msg) => { console.error(`make-tokens: ${msg}`); process.exit(2); };
if (!dir || (flag !== undefined && (flag !== '--print' || !(which in TOKENS)))) fail('usage: make-tokens.mjs <dir> [--print api|grpc]');

for (const { file, env } of Object.values(TOKENS)) {
  const path = join(dir, file);
  const given = process.env[env];
  if (given !== undefined && given !== '') {
    if (given.length < 16) fail(`${env} must be at least 16 characters`);
    if (existsSync(path) && readFileSync(path, 'utf8').trim() === given) continue;
    if (existsSync(path)) { chmodSync(path, 0o600); rmSync(path); }
    writeFileSync(path, `${given}\n`, { mode: 0o400 });
    console.error(`make-tokens: ${file} set from ${env}`);
  } else if (!existsSync(path)) {
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o400 });
    console.error(`make-tokens: ${file} created`);
  }
}
if (flag === '--print') process.stdout.write(readFileSync(join(dir, TOKENS[which].file), 'utf8'));
else console.error('make-tokens: read the API token with: docker compose run --rm -T tokens scripts/docker/make-tokens.mjs /secrets --print api');
