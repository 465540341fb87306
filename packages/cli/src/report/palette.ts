/**
 * Line styles, in order: the Okabe–Ito colour-blind-safe palette (yellow left out: too faint on
 * white), each with its own dash pattern so the lines stay apart in greyscale too.
 */
export const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#000000'] as const;
export const DASHES = [undefined, '7 3', '2 3', '9 3 2 3'] as const;

export function lineStyle(i: number): { stroke: string; dash: string | undefined } {
  return { stroke: COLOURS[i % COLOURS.length]!, dash: DASHES[i % DASHES.length] };
}

export const INK = '#222222';
export const MUTED = '#666666';
export const GRID = '#e5e5e5';
export const WARM_SHADE = '#000000';
