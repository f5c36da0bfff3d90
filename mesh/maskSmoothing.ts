/**
 * How much the binary mask is smoothed before marching cubes places its vertices (see
 * `MaskSmoothing` in `marchingCubes.ts`). It exists for thick-slice (anisotropic) grids: a box filter
 * within the slice, as wide as the gap between the in-plane spacing and the slice spacing, lets vertices
 * on the edges between slices slide to where the neighbouring slices' contours say the surface passes,
 * so slice terraces turn into ramps (a form of shape interpolation between slices). Isotropic grids get
 * none: there the constrained Taubin smoothing of `extractSurface` removes the staircase (measured on
 * analytic shapes in test/mesh/smoothness.test.ts), while a blurred mask would squeeze a one-voxel
 * sheet such as the skin to a sliver (both its sides pulled to the voxel centres).
 * Isomorphic: no Node built-ins here.
 */
import { spacingOf, type Mat4, type Vec3 } from './grid.ts';
import type { MaskSmoothing } from './marchingCubes.ts';
import { withDefaults } from './withDefaults.ts';

export interface MaskSmoothingOptions {
  /**
   * Width of the smoothing along each axis as a Gaussian σ, in multiples of how much coarser the
   * grid's largest spacing is than that axis's spacing. 0 = none (vertices at edge midpoints).
   */
  strength?: number;
}

export const MASK_SMOOTHING_FOR_DEFAULTS: Required<MaskSmoothingOptions> = { strength: 1 };

/**
 * Box half-widths per voxel axis: σ_a = strength × (largest spacing − spacing_a), and a box of
 * half-width r has σ ≈ √(r(r + 1)/3), so r_a = round(√3·σ_a / spacing_a). The coarsest axis (and every
 * axis of an isotropic grid) gets 0; at strength 1, 0.7 × 0.9 × 2.5 mm gives 4, 3, 0 and
 * 0.98 × 0.98 × 2 mm gives 2, 2, 0. Returns `undefined` when no axis is smoothed. Vertices stay on their
 * grid edges, so a structure thin in-plane shrinks by at most half an in-plane voxel per side (and the
 * volume is restored later).
 */
export function maskSmoothingFor(affine: Mat4, options: MaskSmoothingOptions = {}): MaskSmoothing | undefined {
  const { strength } = withDefaults(MASK_SMOOTHING_FOR_DEFAULTS, options);
  if (strength <= 0) return undefined;
  const spacing = spacingOf(affine);
  const largest = Math.max(...spacing);
  const radius = spacing.map((s) => Math.round((Math.sqrt(3) * strength * (largest - s)) / s)) as Vec3;
  return radius.some((r) => r > 0) ? { radius } : undefined;
}
