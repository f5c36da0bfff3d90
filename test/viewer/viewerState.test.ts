/**
 * The viewer store's slice and editing parts: the crosshair on the CT grid and its round trip through
 * the scene's frame, what a new revision's model keeps of the user's choices, and the tools a user
 * without edit rights cannot pick up.
 */
import { describe, expect, it } from 'vitest';
import { composeAffine, type Vec3 } from '../../mesh/grid.ts';
import { voxelToCaseFrame } from '../../app/viewer/slices/sliceState.ts';
import { createViewerStore, type StructureEntry } from '../../app/viewer/viewerStore.ts';

const DIMS: Vec3 = [100, 80, 60];
// RAS-ordered voxels (as NIfTI stores them), read into LPS.
const AFFINE = composeAffine([120, 90, -300], [0.8, 0.8, 2], [[-1, 0, 0], [0, -1, 0], [0, 0, 1]]);

describe('viewer store: crosshair', () => {
  it('starts in the middle of the grid, steps and clamps per view, and maps to the scene and back', () => {
    const store = createViewerStore();
    const s = () => store.getState();
    s().setGrid(DIMS, AFFINE);
    expect(s().cursor).toEqual([50, 40, 30]);
    s().stepSlice('axial', 5);
    expect(s().cursor).toEqual([50, 40, 35]);
    s().stepSlice('sagittal', -1000);
    expect(s().cursor).toEqual([0, 40, 35]);
    s().setCursor([12.4, 300, -4]);
    expect(s().cursor).toEqual([12, 79, 0]);

    // Without the scene's centre there is no link to 3D; with it, voxel → scene → voxel is the identity.
    expect(voxelToCaseFrame(s(), [10, 20, 30])).toBeNull();
    s().setSceneCenter([40, 20, -250]);
    const p = voxelToCaseFrame(s(), [10, 20, 30])!;
    // Voxel (10, 20, 30) is at LPS (112, 74, −240) mm: 72 mm left, 10 mm up, 54 mm posterior of the centre.
    expect(p.map((v) => Number(v.toFixed(6)))).toEqual([0.072, 0.01, -0.054]);
    s().setCursorFromCaseFrame(p);
    expect(s().cursor).toEqual([10, 20, 30]);
    // A point outside the grid goes to the nearest voxel inside it.
    s().setCursorFromCaseFrame([5, 5, 5]);
    expect(s().cursor!.every((v, a) => v >= 0 && v < DIMS[a])).toBe(true);
  });
});

describe('viewer store: a new revision and editing rights', () => {
  const first: StructureEntry[] = [
    { name: 'liver', displayName: 'Liver', group: 'organ', color: '#a0522d', label: 5 },
    { name: 'skin', displayName: 'Skin', group: 'other', color: '#e0ac8e', label: 200 },
  ];

  it("keeps the user's hiding and opacity for the structures a new model still has", () => {
    const store = createViewerStore();
    const s = () => store.getState();
    s().setStructures(first);
    expect(s().opacity).toEqual({ skin: 0.18 });
    s().toggleStructure('liver');
    s().setOpacity('skin', 0.5);
    s().setStructures([...first, { name: 'tumour', displayName: 'Tumour', group: 'other', color: '#c83232', label: 201 }, { name: 'body', displayName: 'Body', group: 'other', color: '#ccc', label: 202 }]);
    expect(s().hidden).toEqual({ liver: true });
    expect(s().opacity).toEqual({ skin: 0.5, body: 0.18 });
    s().setStructures(first.slice(1));
    expect(s().hidden).toEqual({});
  });

  it('keeps a user without edit rights on the navigation tool', () => {
    const store = createViewerStore();
    const s = () => store.getState();
    s().setTool('brush');
    expect(s().tool).toBe('navigate');
    s().setEditCase('case-1');
    s().setTool('brush');
    expect(s().tool).toBe('brush');
    s().setEditCase(null);
    expect(s().tool).toBe('navigate');
    expect(s().canEdit).toBe(false);
    s().setBrush({ radiusMm: 500 });
    expect(s().brush.radiusMm).toBe(50);
  });
});
