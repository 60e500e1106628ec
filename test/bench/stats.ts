export function mean(values: number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function max(values: number[]): number {
  return values.length === 0 ? NaN : Math.max(...values);
}

/** A deterministic generator, so that every strategy and every run meets the same job lengths. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) / 0x1000000;
  };
}

/** Figures of one run, by name; the report takes the median of each name over the runs. */
export type Figures = Record<string, number>;

export function medianFigures(runs: Figures[]): Figures {
  const names = new Set(runs.flatMap((r) => Object.keys(r)));
  const out: Figures = {};
  for (const name of names) out[name] = median(runs.map((r) => r[name]).filter((v) => v !== undefined && !Number.isNaN(v)));
  return out;
}
