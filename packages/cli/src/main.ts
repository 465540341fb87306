import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseConfigText, TERMINAL_STATES } from '@spar/core';
import { apiTokenFromEnv, ControllerClient } from './client.ts';
import { runExport } from './export.ts';
import { runLocal } from './local.ts';
import { budgetOf, progressLine, StatusLine } from './progress.ts';
import { writeReport } from './report/index.ts';

const USAGE = `usage:
  spar local  [--config FILE] [--max-steps N] [--data-dir DIR]   run everything on this machine (npm start)
  spar submit FILE [--max-steps N] [--wait-ready]                 submit an experiment (YAML or JSON)
  spar status [ID]                                                list experiments, or show one
  spar watch  ID                                                  follow an experiment until it ends
  spar stop   ID                                                  stop an experiment
  spar report ID|RUN_DIR [--out FILE.svg]                         evaluation curves and league ratings as one SVG
  spar export ID|--from DIR --format hf|peft --out DIR [--data-dir DIR] [--tokenizer DIR] [--dtype float32|bfloat16] [--model-type T]
                                                                  a policy as a Hugging Face model folder (latest checkpoint, else the export)
options: --url URL (controller, default $SPAR_URL or http://127.0.0.1:8080), token from $SPAR_API_TOKEN (or the file $SPAR_API_TOKEN_FILE)`;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      config: { type: 'string' }, 'max-steps': { type: 'string' }, 'data-dir': { type: 'string' }, out: { type: 'string' }, url: { type: 'string' }, 'wait-ready': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      format: { type: 'string' }, from: { type: 'string' }, tokenizer: { type: 'string' }, dtype: { type: 'string' }, 'model-type': { type: 'string' },
    },
  });
  const [cmd, arg] = positionals;
  if (values.help || !cmd) { process.stderr.write(`${USAGE}\n`); return cmd ? 0 : 2; }
  const maxSteps = values['max-steps'] === undefined ? undefined : Number(values['max-steps']);
  if (maxSteps !== undefined && (!Number.isInteger(maxSteps) || maxSteps < 1)) { process.stderr.write('--max-steps must be a positive integer\n'); return 2; }
  if (cmd === 'local') return runLocal({ config: values.config, maxSteps, dataDir: values['data-dir'] });
  if (cmd === 'export') {
    const summary = await runExport({
      experimentId: arg, format: values.format, out: values.out, from: values.from, tokenizer: values.tokenizer,
      dataDir: values['data-dir'] ?? process.env.SPAR_DATA_DIR, dtype: values.dtype, modelType: values['model-type'],
    });
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  }
  const client = new ControllerClient(values.url ?? process.env.SPAR_URL ?? 'http://127.0.0.1:8080', apiTokenFromEnv());
  switch (cmd) {
    case 'submit': {
      if (!arg) break;
      const cfg = parseConfigText(readFileSync(arg, 'utf8')) as { budget?: object };
      if (maxSteps !== undefined) cfg.budget = { ...(cfg.budget ?? {}), maxSteps };
      if (values['wait-ready']) {
        for (let i = 0; ; i++) {
          try { await client.list(); break; } catch (err) {
            if (i >= 600) throw err;
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      }
      const rec = await client.submit(cfg);
      process.stdout.write(`${rec.id}\n`);
      return 0;
    }
    case 'status':
      process.stdout.write(`${JSON.stringify(arg ? await client.get(arg) : await client.list(), null, 2)}\n`);
      return 0;
    case 'report':
      if (!arg) break;
      process.stdout.write(`${await writeReport({ target: arg, out: values.out, fetch: (id) => client.get(id) })}\n`);
      return 0;
    case 'stop':
      if (!arg) break;
      process.stdout.write(`${JSON.stringify(await client.stop(arg))}\n`);
      return 0;
    case 'watch': {
      if (!arg) break;
      const line = new StatusLine();
      for (;;) {
        const r = await client.get(arg);
        line.update(progressLine(r, budgetOf(r)));
        if (TERMINAL_STATES.includes(r.state)) { line.done(); process.stdout.write(`${JSON.stringify({ experimentId: r.id, status: r.state, steps: r.step, policyVersion: r.policyVersion, eval: r.eval ?? {} })}\n`); return 0; }
        await new Promise((res) => setTimeout(res, 1000));
      }
    }
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}
