import { copyFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { exportOnnx, HF_GENERATION_CONFIG_FILE, HF_TOKENIZER_FILES, type Policy } from '@spar/policy';
import type { ExperimentContext } from '@spar/service-kit';

/**
 * A policy's export folder (`model.onnx`, `config.json`, the tokenizer): exportOnnx with the
 * recipe's symbol vocabulary as `tokenizer.json`, or, for an imported text model (warmStart.from:
 * hf), the model folder's own tokenizer files and generation_config.json copied beside it, so
 * that `spar export --format hf` writes a folder with the model's tokenizer. Each file lands by
 * rename: a crash leaves the previous file or the new one, never a part.
 */
export async function exportPolicy(policy: Policy, dir: string, ctx: ExperimentContext): Promise<{ model: string; sha256: string }> {
  const hfDir = ctx.config.warmStart?.from === 'hf' ? ctx.config.warmStart.path : undefined;
  if (hfDir === undefined) return exportOnnx(policy, dir, { tokenizer: ctx.vocab });
  const exp = await exportOnnx(policy, dir);
  for (const name of [...HF_TOKENIZER_FILES, HF_GENERATION_CONFIG_FILE]) {
    const tmp = join(dir, `.${name}.tmp`);
    try {
      await copyFile(join(hfDir, name), tmp);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // optional files the model does not ship
      throw e;
    }
    await rename(tmp, join(dir, name));
  }
  return exp;
}
