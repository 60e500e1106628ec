/**
 * A deterministic generator in [0, 1) (a linear congruential one): the same seed gives the same job
 * lengths, jitter and phases on every run, so benchmarks and schedule tests are repeatable.
 */
export function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
}
