/** Dice of one label between two label maps on the same grid (0 when neither has it). */
export function labelDice(a: ArrayLike<number>, b: ArrayLike<number>, label: number): number {
  let na = 0;
  let nb = 0;
  let both = 0;
  for (let p = 0; p < a.length; p++) {
    const x = a[p] === label;
    const y = b[p] === label;
    if (x) na++;
    if (y) nb++;
    if (x && y) both++;
  }
  return na + nb > 0 ? (2 * both) / (na + nb) : 0;
}
