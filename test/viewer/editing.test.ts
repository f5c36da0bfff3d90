/**
 * The editing tools' voxel work, without a browser: brush discs and balls in millimetres on an
 * anisotropic grid, the Hounsfield range, paint that spares other structures, erase that touches only
 * its own, undo/redo and "unsaved", grow-preview acceptance, and the boxes sent to the server.
 */
import { describe, expect, it } from 'vitest';
import { composeAffine, type Vec3 } from '../../mesh/grid.ts';
import { forEachBrushVoxel } from '../../app/viewer/editing/brush.ts';
import { applyChange, BACKGROUND_SEED, beginStroke, changeFromBox, continueStroke, createEditSession, endStroke, growAccept, isUnsaved, seedBox, seedsInBox } from '../../app/viewer/editing/editSession.ts';
import { INITIAL_BRUSH } from '../../app/viewer/editing/editState.ts';
import { labelBox, labelsInBox } from '../../app/viewer/editing/labelTransfer.ts';
import type { CtVolume } from '../../app/viewer/slices/ctVolume.ts';
import { sliceFrames } from '../../app/viewer/slices/sliceGeometry.ts';

const DIMS: Vec3 = [40, 40, 20];
const AFFINE = composeAffine([0, 0, 0], [0.5, 0.5, 2], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
const FRAMES = sliceFrames(DIMS, AFFINE);

/** A CT of one value everywhere but a bright block (i < 20), whole slabs loaded. */
function ct(): CtVolume {
  const data = new Int16Array(DIMS[0] * DIMS[1] * DIMS[2]);
  for (let n = 0; n < data.length; n++) data[n] = n % DIMS[0] < 20 ? 300 : 40;
  const manifest = { slabs: { depth: DIMS[2], count: 1 }, coarse: { factor: [1, 1, 1], dims: DIMS }, range: [40, 300] } as unknown as CtVolume['manifest'];
  return { manifest, dims: DIMS, coarse: data, slabs: [data], slabsLoaded: 1 };
}

function count(center: Vec3, shape: Partial<Parameters<typeof forEachBrushVoxel>[1]>): number {
  let n = 0;
  forEachBrushVoxel(center, { dims: DIMS, spacing: [0.5, 0.5, 2], radiusMm: 3, ...shape }, () => n++);
  return n;
}

describe('brush', () => {
  it('covers a disc of the radius in millimetres in the view, or a ball', () => {
    // Disc of 3 mm on 0.5 mm pixels: about π·6² = 113 voxels, in one slice.
    const disc = count([20, 20, 10], { frame: FRAMES.axial });
    expect(disc).toBeGreaterThan(105);
    expect(disc).toBeLessThan(121);
    // The coronal view's disc spans 2 mm slices: 3 slices (−2, 0, +2 mm) by 13 columns.
    expect(count([20, 20, 10], { frame: FRAMES.coronal })).toBeLessThan(disc);
    // A ball: the three slices within 3 mm along k (2 mm apart): the disc, and two of radius √(3² − 2²) mm.
    const ball = count([20, 20, 10], {});
    expect(ball).toBeGreaterThan(disc * (1 + 2 * (5 / 9) * 0.9));
    expect(ball).toBeLessThan(disc * (1 + 2 * (5 / 9) * 1.2));
    // Only inside a Hounsfield range: the half of the disc on the bright side.
    const bright = count([20, 20, 10], { frame: FRAMES.axial, huRange: [200, 400], ct: ct() });
    expect(bright).toBeGreaterThan(disc * 0.4);
    expect(bright).toBeLessThan(disc * 0.6);
    // Clipped at the grid's edge.
    expect(count([0, 0, 0], { frame: FRAMES.axial })).toBeLessThan(disc / 3);
  });
});

describe('edit session', () => {
  it('paints without overwriting other structures, erases only its own, and undoes and redoes', () => {
    const data = new Uint8Array(DIMS[0] * DIMS[1] * DIMS[2]);
    data.fill(7, 0, DIMS[0] * 20); // rows j < 20 of slice 0 belong to structure 7
    const session = createEditSession({ dims: DIMS, data, revision: 0 });
    const stroke = { kind: 'paint' as const, value: 3, brush: { ...INITIAL_BRUSH, radiusMm: 2 }, frame: FRAMES.axial, affine: AFFINE, ct: null };
    beginStroke(session, [10, 20, 0], stroke);
    continueStroke(session, [30, 20, 0]);
    endStroke(session);
    const painted = data.filter((v) => v === 3).length;
    // A 4 mm wide band 20 voxels long, minus the half on structure 7's rows.
    expect(painted).toBeGreaterThan(20 * 4);
    expect(data.filter((v) => v === 7).length).toBe(DIMS[0] * 20);
    expect(isUnsaved(session)).toBe(true);

    beginStroke(session, [20, 19, 0], { ...stroke, kind: 'erase', value: 7 });
    endStroke(session);
    expect(data.filter((v) => v === 7).length).toBeLessThan(DIMS[0] * 20);
    expect(data.filter((v) => v === 3).length).toBe(painted);

    expect(session.history.undo(data)).toBe(true);
    expect(data.filter((v) => v === 7).length).toBe(DIMS[0] * 20);
    expect(session.history.undo(data)).toBe(true);
    expect(data.filter((v) => v === 3).length).toBe(0);
    expect(isUnsaved(session)).toBe(false);
    expect(session.history.undo(data)).toBe(false);
    expect(session.history.redo(data)).toBe(true);
    expect(data.filter((v) => v === 3).length).toBe(painted);
    // Saved here; a new stroke makes it unsaved, its undo saved again.
    session.savedPosition = session.history.position();
    beginStroke(session, [5, 30, 0], stroke);
    endStroke(session);
    expect(isUnsaved(session)).toBe(true);
    session.history.undo(data);
    expect(isUnsaved(session)).toBe(false);
    expect(session.history.depth()).toEqual({ undo: 1, redo: 1 });
  });

  it('accepts a grow preview only for the seeded structures, and cuts boxes around seeds and labels', () => {
    const data = new Uint16Array(DIMS[0] * DIMS[1] * DIMS[2]);
    const session = createEditSession({ dims: DIMS, data, revision: 0 });
    // Seeds: structure 5 and background, on slice 4.
    beginStroke(session, [10, 10, 4], { kind: 'seeds', value: 5, brush: { ...INITIAL_BRUSH, radiusMm: 1 }, frame: FRAMES.axial, affine: AFFINE, ct: null });
    endStroke(session);
    beginStroke(session, [30, 30, 4], { kind: 'seeds', value: BACKGROUND_SEED, brush: { ...INITIAL_BRUSH, radiusMm: 1 }, frame: FRAMES.axial, affine: AFFINE, ct: null });
    endStroke(session);
    expect(session.history.depth().undo).toBe(0); // seeds are not edits
    const box = seedBox(session, AFFINE, 2)!;
    // Seeds 1 mm (2 voxels) around (10, 10) and (30, 30), plus a 2 mm margin: 4 voxels in-plane, 1 slice along k.
    expect(box).toEqual([4, 4, 3, 37, 37, 6]);
    const seeds = seedsInBox(session, box);
    expect(seeds.filter((v) => v === 5).length + seeds.filter((v) => v === BACKGROUND_SEED).length).toBe(session.seeds.size);

    // A preview: structure 5 on the left half of the box, background elsewhere; a voxel of structure 9 in it stays.
    data[20 + 20 * DIMS[0] + 4 * DIMS[0] * DIMS[1]] = 9;
    data[30 + 20 * DIMS[0] + 4 * DIMS[0] * DIMS[1]] = 5; // structure 5 where the preview says background: cleared
    const preview = new Uint16Array((box[3] - box[0]) * (box[4] - box[1]) * (box[5] - box[2])).map((_, n) => (n % (box[3] - box[0]) < 15 ? 5 : BACKGROUND_SEED));
    const change = changeFromBox(session, box, preview, growAccept(new Set([5, BACKGROUND_SEED])));
    applyChange(session, change);
    expect(data[20 + 20 * DIMS[0] + 4 * DIMS[0] * DIMS[1]]).toBe(9);
    expect(data[30 + 20 * DIMS[0] + 4 * DIMS[0] * DIMS[1]]).toBe(0);
    expect(data[10 + 10 * DIMS[0] + 4 * DIMS[0] * DIMS[1]]).toBe(5);
    expect(data.includes(BACKGROUND_SEED)).toBe(false);

    const around = labelBox(data, DIMS, 5, 1)!;
    // Structure 5 now fills i 4…18 of the box, all its rows and slices; one voxel of margin.
    expect(around).toEqual([3, 3, 2, 20, 38, 7]);
    const cut = labelsInBox(data, DIMS, around);
    expect(cut.filter((v) => v === 5).length).toBe(data.filter((v) => v === 5).length);
    expect(labelBox(data, DIMS, 42)).toBeNull();
  });
});
