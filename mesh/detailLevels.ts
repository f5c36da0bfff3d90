/**
 * The levels of detail a case is written at: the desktop's (finer, for a workstation's GPU) and the
 * headset's (lighter, for a mobile GPU in a Quest or HoloLens browser drawing two eyes at 72–90 Hz).
 * Each level is one GLB with one draw call per structure; both come from the same smoothed surfaces,
 * share the same origin (the body's centre), and differ only in how far each surface is simplified.
 *
 * A level is finished under two budgets: triangles (shared between structures by `finishWithinBudget`)
 * and file size (checked on the written GLB; should it be over, the triangle budget is cut in proportion
 * and the level written again).
 * Isomorphic: no Node built-ins here.
 */
import type { StructureMesh } from './structure.ts';
import { finishWithinBudget, type BudgetRequest } from './triangleBudget.ts';
import { withDefaults } from './withDefaults.ts';

export type DetailLevel = 'desktop' | 'xr';

export const DETAIL_LEVELS: readonly DetailLevel[] = ['desktop', 'xr'];

export interface LevelBudget {
  /** Triangles for the whole case at this level. */
  maxTriangles: number;
  /** Largest GLB, bytes. */
  maxBytes: number;
}

/** The budgets of the guide: a desktop browser, and a standalone headset's mobile GPU. */
export const LEVEL_BUDGETS: Record<DetailLevel, LevelBudget> = {
  desktop: { maxTriangles: 500_000, maxBytes: 15_000_000 },
  xr: { maxTriangles: 300_000, maxBytes: 8_000_000 },
};

export interface FinishLevelOptions extends LevelBudget {
  /** Fewest triangles any structure is cut to (see `TriangleBudgetOptions.minTriangles`). */
  minTriangles?: number;
  /** Most times the level is written again to fit `maxBytes`. */
  byteRounds?: number;
}

export const FINISH_LEVEL_DEFAULTS = { byteRounds: 3 };

export interface FinishedLevel {
  meshes: StructureMesh[];
  glb: Uint8Array;
  triangles: number;
  /** The triangle budget the level was finished under (lower than asked when the bytes did not fit). */
  maxTriangles: number;
}

/**
 * 1. Finish every structure under the level's triangle budget (`finishWithinBudget`); write the GLB.
 * 2. If the file is over `maxBytes`, cut the triangle budget to the fraction that should fit (with 5 %
 *    to spare) and go again, at most `byteRounds` times.
 *
 * `finish(i, cap)` finishes structure i under a triangle cap (repeatable); `write` makes the GLB.
 */
export async function finishLevel(
  requests: readonly BudgetRequest[],
  options: FinishLevelOptions,
  finish: (index: number, cap: number) => Promise<StructureMesh>,
  write: (meshes: StructureMesh[]) => Promise<Uint8Array>,
): Promise<FinishedLevel> {
  const { maxBytes, minTriangles, byteRounds } = withDefaults(FINISH_LEVEL_DEFAULTS, options);
  let maxTriangles = options.maxTriangles;
  for (let round = 0; ; round++) {
    // 1. Triangles, then bytes.
    const meshes = await finishWithinBudget(requests, { maxTriangles, minTriangles }, finish, (m) => m.structure.triangles);
    const glb = await write(meshes);
    const triangles = meshes.reduce((sum, m) => sum + m.structure.triangles, 0);
    if (glb.byteLength <= maxBytes || round >= byteRounds) return { meshes, glb, triangles, maxTriangles };
    // 2. Too big: fewer triangles.
    maxTriangles = Math.floor(Math.min(maxTriangles, triangles) * (maxBytes / glb.byteLength) * 0.95);
  }
}
