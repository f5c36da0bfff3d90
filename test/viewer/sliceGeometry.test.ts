/**
 * The slice views' geometry: whatever the order and direction of a volume's voxel axes, the axial view
 * shows the patient's right on the screen's left and anterior at the top, the coronal view the head at
 * the top, the sagittal view anterior on the left; and screen ↔ plane ↔ voxel round trips.
 */
import { describe, expect, it } from 'vitest';
import { applyAffine, composeAffine, type Vec3 } from '../../mesh/grid.ts';
import { placeInView, planeToScreen, planeToView, planeToVoxel, screenToPlane, sliceFrames, viewToPlane, type SliceAxis } from '../../app/viewer/slices/sliceGeometry.ts';

/** LPS of the voxel shown at a screen point (mm) of a view at slice `index`. */
function lpsAt(dims: Vec3, affine: number[], axis: SliceAxis, index: number, x: number, y: number): Vec3 {
  const f = sliceFrames(dims, affine)[axis];
  const [u, v] = screenToPlane(f, x, y);
  return applyAffine(affine, planeToVoxel(f, index, u, v));
}

const GRIDS: Record<string, { dims: Vec3; affine: number[] }> = {
  LPS: { dims: [40, 30, 20], affine: composeAffine([0, 0, 0], [0.8, 0.8, 2], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]) },
  // NIfTI order read into LPS: i toward the patient's right, j anterior.
  RAS: { dims: [40, 30, 20], affine: composeAffine([50, 40, 0], [0.8, 0.8, 2], [[-1, 0, 0], [0, -1, 0], [0, 0, 1]]) },
  // A sagittally acquired series: i anterior→posterior, j head→feet, k right→left.
  PIL: { dims: [30, 20, 40], affine: composeAffine([0, 0, 100], [1, 1.5, 0.7], [[0, 1, 0], [0, 0, -1], [1, 0, 0]]) },
};

describe('slice views', () => {
  for (const [name, { dims, affine }] of Object.entries(GRIDS)) {
    it(`keeps the radiological orientation for a ${name} grid`, () => {
      const frames = sliceFrames(dims, affine);
      // Each view steps through a different voxel axis, and the plane fills its screen extent.
      expect(new Set(Object.values(frames).map((f) => f.normal)).size).toBe(3);
      const at = (axis: SliceAxis, fx: number, fy: number) => {
        const f = frames[axis];
        return lpsAt(dims, affine, axis, 3, f.screenWidthMm * fx, f.screenHeightMm * fy);
      };
      // Axial: right of the screen is the patient's left (+L); down is posterior (+P); one S level.
      expect(at('axial', 0.9, 0.5)[0]).toBeGreaterThan(at('axial', 0.1, 0.5)[0]);
      expect(at('axial', 0.5, 0.9)[1]).toBeGreaterThan(at('axial', 0.5, 0.1)[1]);
      expect(at('axial', 0.9, 0.9)[2]).toBeCloseTo(at('axial', 0.1, 0.1)[2], 6);
      // Coronal: right is +L, down is inferior.
      expect(at('coronal', 0.9, 0.5)[0]).toBeGreaterThan(at('coronal', 0.1, 0.5)[0]);
      expect(at('coronal', 0.5, 0.9)[2]).toBeLessThan(at('coronal', 0.5, 0.1)[2]);
      // Sagittal: right is posterior, down is inferior.
      expect(at('sagittal', 0.9, 0.5)[1]).toBeGreaterThan(at('sagittal', 0.1, 0.5)[1]);
      expect(at('sagittal', 0.5, 0.9)[2]).toBeLessThan(at('sagittal', 0.5, 0.1)[2]);
    });
  }

  it('sizes the plane in millimetres and maps screen, plane and view back and forth', () => {
    const { dims, affine } = GRIDS.RAS;
    const f = sliceFrames(dims, affine).coronal;
    // Coronal of a 40 × 30 × 20 grid at 0.8 × 0.8 × 2 mm: 32 mm wide, 40 mm high.
    expect(f.screenWidthMm).toBeCloseTo(32, 9);
    expect(f.screenHeightMm).toBeCloseTo(40, 9);
    const [x, y] = planeToScreen(f, 7, 11);
    expect(screenToPlane(f, x, y).map((v) => Number(v.toFixed(9)))).toEqual([7, 11]);
    // Fitted into a 200 × 100 view: the height limits, 2.5 px per mm, centred.
    const place = placeInView(f, 1, [0, 0], 200, 100);
    expect(place.scale).toBeCloseTo(2.5, 9);
    expect(place.x0).toBeCloseTo(100 - 40, 9);
    const [vx, vy] = planeToView(f, place, 7, 11);
    expect(viewToPlane(f, place, vx, vy).map((v) => Number(v.toFixed(9)))).toEqual([7, 11]);
    // The plane's outer corners touch the view's top and bottom edges.
    const ys = [-0.5, f.height - 0.5].map((v) => planeToView(f, place, -0.5, v)[1]);
    expect(Math.min(...ys)).toBeCloseTo(0, 9);
    expect(Math.max(...ys)).toBeCloseTo(100, 9);
  });
});
