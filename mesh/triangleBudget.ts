/**
 * Shares a whole case's triangle budget between its structures in proportion to surface area
 * (a bigger surface needs more triangles for the same detail), never giving a structure more than it
 * needs, and never less than a floor: a structure that already meets the error budget with fewer
 * triangles keeps its count, what it leaves goes to the others ("water filling"), and no structure can
 * be starved by another's share — each keeps at least `minTriangles` (or all it needs, if fewer).
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
  /**
   * Least triangles any structure is given (or all it wants, if fewer), whatever the others need: the
   * floor that keeps a small surface a recognisable, closed shape.
   */
  minTriangles?: number;
}

export const TRIANGLE_BUDGET_DEFAULTS = { minTriangles: 200 };

/**
 * Returns the triangle cap per request, in order: cap_i = clamp(⌊λ · area_i⌋, floor_i, wanted_i) with
 * floor_i = min(wanted_i, minTriangles) and the largest λ whose caps fit the budget.
 *
 * 1. Everything fits: everyone gets what they want.
 * 2. Even the floors do not fit: everyone gets their floor (the budget is then exceeded, by the floors).
 * 3. Otherwise bisect λ (the caps grow monotonically with it), then hand the rounding remainder to the
 *    structures still below what they want, largest area first.
 */
export function shareTriangleBudget(requests: readonly BudgetRequest[], options: TriangleBudgetOptions): number[] {
  const { maxTriangles, minTriangles } = withDefaults(TRIANGLE_BUDGET_DEFAULTS, options);
  const wanted = requests.map((r) => Math.max(0, Math.floor(r.wanted)));
  const floors = wanted.map((w) => Math.min(w, minTriangles));
  const area = requests.map((r) => Math.max(r.area, 0));
  const sum = (values: number[]) => values.reduce((s, v) => s + v, 0);
  // 1–2.
  if (sum(wanted) <= maxTriangles) return wanted;
  if (sum(floors) >= maxTriangles) return floors;
  // 3. Caps for a given λ; structures without area share what the others leave equally.
  const capsFor = (lambda: number) => wanted.map((w, i) => Math.min(w, Math.max(floors[i], Math.floor(lambda * (area[i] > 0 ? area[i] : 1e-9)))));
  let low = 0;
  let high = maxTriangles / Math.max(1e-9, Math.min(...area.filter((a) => a > 0), Infinity));
  if (!Number.isFinite(high)) high = 1e12;
  for (let step = 0; step < 100 && high - low > 1e-12 * high; step++) {
    const mid = (low + high) / 2;
    if (sum(capsFor(mid)) <= maxTriangles) low = mid;
    else high = mid;
  }
  const caps = capsFor(low);
  let left = maxTriangles - sum(caps);
  const order = caps.map((_, i) => i).filter((i) => caps[i] < wanted[i]).sort((a, b) => area[b] - area[a]);
  for (const i of order) {
    if (left <= 0) break;
    const more = Math.min(left, wanted[i] - caps[i]);
    caps[i] += more;
    left -= more;
  }
  return caps;
}

/**
 * Finishes every structure under a shared budget, and makes the total hold even where a structure
 * cannot be simplified down to its cap and stay closed (it then stops above it).
 *
 * 1. Caps from `shareTriangleBudget`; finish everyone under their cap.
 * 2. While the total is over budget (at most `rounds` times): structures that stopped above their cap
 *    keep what they have; the budget left is shared again among those that met their cap (never below
 *    their floor), and any whose new cap is lower is finished again under it.
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
    const floorOf = (i: number) => Math.min(requests[i].wanted, minTriangles);
    const flexible = requests.map((_, i) => i).filter((i) => trianglesOf(results[i]) <= caps[i] && trianglesOf(results[i]) > floorOf(i));
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
