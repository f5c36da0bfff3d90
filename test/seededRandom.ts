/**
 * A seeded pseudo-random generator in [0, 1) (the classic C library linear congruential one), so a test
 * that draws random data draws the same data every run and a failure reproduces.
 */
export function seededRandom(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}
