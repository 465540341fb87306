/**
 * Print the rendered Kubernetes manifests (multi-document YAML), without kubectl:
 *   npx tsx scripts/k8s-render.ts                  # deploy/k8s/base
 *   npx tsx scripts/k8s-render.ts external-redis   # deploy/k8s/overlays/external-redis (or any path)
 *   npm run k8s:render -- no-keda
 * Renders with scripts/kustomize-lite.ts (the kustomize subset deploy/k8s uses). An env file that
 * is missing (tokens.env, redis.env) is taken from its .example with a warning on stderr, so the
 * output can be read before the secrets exist; `kubectl apply -k` refuses to run without them.
 */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { K8S_DIR, render, toYaml } from './kustomize-lite.ts';

const arg = process.argv[2];
if (arg === '-h' || arg === '--help') {
  console.log('usage: npx tsx scripts/k8s-render.ts [base | <overlay name> | <directory>]');
  process.exit(0);
}
const dir = !arg || arg === 'base' ? join(K8S_DIR, 'base')
  : existsSync(join(K8S_DIR, 'overlays', arg)) ? join(K8S_DIR, 'overlays', arg)
  : resolve(arg);
try {
  const objs = render(dir, {
    useExampleEnvFiles: true,
    onExample: (p) => console.error(`warning: ${relative(process.cwd(), p)} does not exist; rendered with the PLACEHOLDER values of ${relative(process.cwd(), p)}.example`),
  });
  process.stdout.write(toYaml(objs));
} catch (err) {
  console.error(`k8s-render: ${(err as Error).message}`);
  process.exit(1);
}
