/**
 * Sharing a case's triangle budget: structures that need less than their area share keep what they
 * need, the rest share what is left in proportion to area, and the total never exceeds the budget.
 */
import { describe, expect, it } from 'vitest';
import { finishWithinBudget, shareTriangleBudget } from '../../mesh/triangleBudget.ts';
import { seededRandom } from '../seededRandom.ts';

describe('shareTriangleBudget', () => {
  it('gives everyone what they want when the total fits', () => {
    const caps = shareTriangleBudget(
      [
        { area: 10, wanted: 400 },
        { area: 1, wanted: 300 },
        { area: 1, wanted: 200 },
      ],
      { maxTriangles: 1000 },
    );
    expect(caps).toEqual([400, 300, 200]);
  });

  it('caps structures by area share and hands on what small ones leave', () => {
    // Budget 1000; areas 6 : 3 : 1. The third needs 50 (< its share of 100): it keeps 50 and the
    // remaining 950 is shared 6 : 3 between the other two (the rounding remainder to the largest).
    const caps = shareTriangleBudget(
      [
        { area: 6, wanted: 5000 },
        { area: 3, wanted: 5000 },
        { area: 1, wanted: 50 },
      ],
      { maxTriangles: 1000, minTriangles: 0 },
    );
    expect(caps).toEqual([Math.floor((950 * 6) / 9) + 1, Math.floor((950 * 3) / 9), 50]);
    expect(caps.reduce((a, b) => a + b, 0)).toBe(1000);
  });

  it('never exceeds the budget, whatever the mix', () => {
    const next = seededRandom(7);
    for (let trial = 0; trial < 50; trial++) {
      const requests = Array.from({ length: 1 + Math.floor(next() * 60) }, () => ({ area: next() * 1000, wanted: Math.floor(next() * 40_000) }));
      const budget = 1000 + Math.floor(next() * 500_000);
      const caps = shareTriangleBudget(requests, { maxTriangles: budget, minTriangles: 0 });
      const total = caps.reduce((a, b) => a + b, 0);
      expect(total).toBeLessThanOrEqual(Math.max(budget, 0));
      caps.forEach((c, i) => expect(c).toBeLessThanOrEqual(requests[i].wanted));
      // Nothing is left unused while someone is capped (up to rounding).
      if (caps.some((c, i) => c < requests[i].wanted)) expect(total).toBeGreaterThan(budget - requests.length);
    }
  });

  it('never starves a structure below its floor because another one is huge', () => {
    // One structure with an enormous surface and need (a noisy whole-skeleton "bone") next to small
    // ones: they keep their floor (or all they need, if less), the big one takes the rest.
    const requests = [
      { area: 1_000_000, wanted: 2_000_000 },
      { area: 10, wanted: 8000 },
      { area: 10, wanted: 150 },
      { area: 1, wanted: 5000 },
    ];
    const caps = shareTriangleBudget(requests, { maxTriangles: 500_000, minTriangles: 200 });
    expect(caps[1]).toBeGreaterThanOrEqual(200);
    expect(caps[2]).toBe(150);
    expect(caps[3]).toBeGreaterThanOrEqual(200);
    expect(caps.reduce((a, b) => a + b, 0)).toBe(500_000);
  });
});

describe('finishWithinBudget', () => {
  it('holds the total when some structures stop above their cap', async () => {
    // Structures 0 and 1 cannot go below 600 triangles (like thin ribs that would pinch open).
    const floor = [600, 600, 0, 0, 0];
    const requests = [1, 1, 4, 4, 4].map((area) => ({ area, wanted: 5000 }));
    const calls: number[][] = [];
    const results = await finishWithinBudget(requests, { maxTriangles: 3000, minTriangles: 0 }, async (i, cap) => {
      calls.push([i, cap]);
      return { triangles: Math.max(floor[i], Math.min(cap, requests[i].wanted)) };
    }, (r) => r.triangles);
    const total = results.reduce((s, r) => s + r.triangles, 0);
    expect(total).toBeLessThanOrEqual(3000);
    expect(total).toBeGreaterThan(2990);
    expect(results[0].triangles).toBe(600);
    // The others were finished again under lower caps.
    expect(calls.length).toBeGreaterThan(5);
  });

  it('keeps the floors when one structure cannot be simplified to its cap at all', async () => {
    // Structure 0 stays at 400 000 triangles whatever its cap: the others keep their floors.
    const requests = [{ area: 1000, wanted: 400_000 }, ...[1, 1, 1].map((area) => ({ area, wanted: 5000 }))];
    const results = await finishWithinBudget(requests, { maxTriangles: 300_000, minTriangles: 200 }, async (i, cap) => ({ triangles: i === 0 ? 400_000 : Math.min(cap, 5000) }), (r) => r.triangles);
    for (const r of results.slice(1)) expect(r.triangles).toBeGreaterThanOrEqual(200);
  });
});
