/**
 * Widening the float types Hugging Face checkpoints ship in to float32, the engine's type. Every
 * conversion here is exact: BF16 is the top half of a float32, and every F16 value (subnormals,
 * ±Inf and NaN payloads included) is representable in float32. The one narrowing, float32 → BF16
 * for an export, rounds as PyTorch does.
 */
import type { CheckpointTensor } from '../checkpoint/safetensors.ts';

/** BF16 bit patterns → float32: the 16 bits become the high half (exact, NaN payloads kept). */
export function bf16ToF32(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i]! << 16;
  return new Float32Array(out.buffer);
}

/**
 * float32 → BF16 bit patterns, rounded to nearest, ties to even, as PyTorch's `.to(torch.bfloat16)`
 * (c10::BFloat16): values beyond the largest BF16 become ±Inf, and every NaN becomes 0x7FC0.
 */
export function f32ToBf16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i]!;
    out[i] = (b & 0x7fffffff) > 0x7f800000 ? 0x7fc0 : (b + 0x7fff + ((b >>> 16) & 1)) >>> 16; // below 2^32 for every non-NaN b
  }
  return out;
}

/** IEEE half bit patterns → float32 (exact). */
export function f16ToF32(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = (h & 0x8000) << 16;
    const exp = (h >>> 10) & 0x1f;
    const man = h & 0x3ff;
    if (exp === 0x1f) out[i] = sign | 0x7f800000 | (man << 13); // ±Inf, NaN (payload kept)
    else if (exp !== 0) out[i] = sign | ((exp + 112) << 23) | (man << 13); // rebias 15 → 127
    else if (man === 0) out[i] = sign; // ±0
    else {
      // Subnormal: man · 2^-24. Normalise: shift until the implicit bit (0x400) is set.
      let m = man;
      let e = 113; // exponent of 2^-14 in float32 bias, before the shifts
      while ((m & 0x400) === 0) { m <<= 1; e--; }
      out[i] = sign | (e << 23) | ((m & 0x3ff) << 13);
    }
  }
  return new Float32Array(out.buffer);
}

/** The float32 values of a float tensor (a fresh array), or undefined for a non-float dtype. */
export function toFloat32(t: CheckpointTensor): Float32Array | undefined {
  switch (t.dtype) {
    case 'float32': return Float32Array.from(t.data as Float32Array);
    case 'bfloat16': return bf16ToF32(t.data as Uint16Array);
    case 'float16': return f16ToF32(t.data as Uint16Array);
    case 'float64': return Float32Array.from(t.data as Float64Array);
    default: return undefined;
  }
}
