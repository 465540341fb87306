// Generates docs/metrics.md from the metric catalog (run: npx tsx scripts/gen-metrics-doc.ts).
import { writeFileSync } from 'node:fs';
import { METRIC_CATALOG } from '@spar/service-kit';

const rows = Object.entries(METRIC_CATALOG).map(([name, d]) =>
  `| \`${name}\` | ${d.type} | ${d.labels.map((l) => `\`${l}\``).join(', ') || '—'} | ${d.services.join(', ')} | ${d.help} |`);
const doc = `# Metrics reference

Every service serves Prometheus metrics at \`/metrics\` (the controller on its HTTP port, the
others on \`SPAR_OPS_PORT\`). Names follow Prometheus conventions: \`spar_\` prefix, \`_total\` for
counters, \`_seconds\` for durations, base units. Every series also carries \`service_name\`.
Process metrics (CPU, memory, event-loop lag, GC) are exported with the \`spar_process_\` prefix.

This file is generated from \`packages/service-kit/src/metric-catalog.ts\` by
\`npx tsx scripts/gen-metrics-doc.ts\`; a test fails when they disagree. A service cannot create a
metric that is not in the catalog.

| metric | type | labels | exported by | meaning |
|---|---|---|---|---|
${rows.join('\n')}
`;
writeFileSync(new URL('../docs/metrics.md', import.meta.url), doc);
