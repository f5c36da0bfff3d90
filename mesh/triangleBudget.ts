/**
 * Shares a whole case's triangle budget between its structures in proportion to surface area
 * (a bigger surface needs more triangles for the same detail), never giving a structure more than it
 * needs: a structure that already meets the error budget with fewer triangles keeps its count, and
 * what it leaves is shared among the others ("water filling").
 * Isomorphic: no Node built-ins here.
 */
import { withDefaults } from './withDefaults.ts';

export interface BudgetRequest {
  /** Surface area (any unit, the same for all). */
  area: number;
  /** Triangles the structure has after simplifying to the error budget alone. */
  wanted: number;
}

export interface TriangleBudgetOptions {
  /** Triangles for the whole case. */
  maxTriangles: number;
  /** Least triangles any structure is given (a closed surface needs a few). */
  minTriangles?: number;
}

export const TRIANGLE_BUDGET_DEFAULTS = { minTriangles: 16 };

/**
 * Returns the triangle cap per request, in order: `wanted` where the budget allows, otherwise the
 * structure's area share of what is left.
 *
 * 1. Share the remaining budget among the remaining structures by area.
 * 2. Structures wanting no more than their share get what they want and leave the pool; repeat.
 * 3. When every remaining structure wants more than its share, each gets its share.
 */
export function shareTriangleBudget(requests: readonly BudgetRequest[], options: TriangleBudgetOptions): number[] {
  const { maxTriangles, minTriangles } = withDefaults(TRIANGLE_BUDGET_DEFAULTS, options);
  const caps = requests.map((r) => r.wanted);
  let remaining = requests.map((_, i) => i);
  let budget = maxTriangles;
  while (remaining.length > 0) {
    // 1. Shares of what is left.
    const totalArea = remaining.reduce((sum, i) => sum + Math.max(requests[i].area, 0), 0);
    const shares = new Map(
      remaining.map((i) => [i, totalArea > 0 ? (budget * Math.max(requests[i].area, 0)) / totalArea : budget / remaining.length]),
    );

    // 2. Satisfied structures leave the pool.
    const satisfied = remaining.filter((i) => requests[i].wanted <= shares.get(i)!);
    if (satisfied.length === 0) {
      // 3. Everyone is capped.
      for (const i of remaining) caps[i] = Math.max(minTriangles, Math.floor(shares.get(i)!));
      break;
    }
    for (const i of satisfied) budget -= requests[i].wanted;
    remaining = remaining.filter((i) => requests[i].wanted > shares.get(i)!);
  }
  return caps;
}

/**
 * Finishes every structure under a shared budget, and makes the total hold even where a structure
 * cannot be simplified down to its cap and stay closed (small or thin ones stop above it).
 *
 * 1. Caps from `shareTriangleBudget`; finish everyone under their cap.
 * 2. While the total is over budget (at most `rounds` times): structures that stopped above their cap
 *    keep what they have; the budget left is shared again among those that met their cap, and any
 *    whose new cap is lower is finished again under it.
 *
 * `finish(i, cap)` must be repeatable (each call starts from the same surface); `trianglesOf` reads a
 * result's triangle count.
 */
export async function finishWithinBudget<R>(
  requests: readonly BudgetRequest[],
  options: TriangleBudgetOptions & { rounds?: number },
  finish: (index: number, cap: number) => Promise<R>,
  trianglesOf: (result: R) => number,
): Promise<R[]> {
  const { maxTriangles, minTriangles, rounds } = withDefaults({ ...TRIANGLE_BUDGET_DEFAULTS, rounds: 3 }, options);
  // 1. First caps.
  let caps = shareTriangleBudget(requests, { maxTriangles, minTriangles });
  const results = await Promise.all(requests.map((_, i) => finish(i, caps[i])));

  // 2. Settle.
  for (let round = 0; round < rounds; round++) {
    const total = results.reduce((sum, r) => sum + trianglesOf(r), 0);
    if (total <= maxTriangles) break;
    const flexible = requests.map((_, i) => i).filter((i) => trianglesOf(results[i]) <= caps[i] && trianglesOf(results[i]) > minTriangles);
    if (flexible.length === 0) break;
    const stuck = results.reduce((sum, r, i) => sum + (flexible.includes(i) ? 0 : trianglesOf(r)), 0);
    const shared = shareTriangleBudget(
      flexible.map((i) => ({ area: requests[i].area, wanted: trianglesOf(results[i]) })),
      { maxTriangles: Math.max(0, maxTriangles - stuck), minTriangles },
    );
    caps = [...caps];
    const again: number[] = [];
    flexible.forEach((i, k) => {
      if (shared[k] < trianglesOf(results[i])) {
        caps[i] = shared[k];
        again.push(i);
      }
    });
    if (again.length === 0) break;
    const redone = await Promise.all(again.map((i) => finish(i, caps[i])));
    again.forEach((i, k) => (results[i] = redone[k]));
  }
  return results;
}
