/**
 * Phantom variants for the rules model's contrast tests and benchmark: a CT whose aorta is harder to
 * tell from bone than the plain phantom's — arterial-phase blood above the enhanced-bone seed level,
 * with patches of calcified plaque in its wall — and the exact truth (plaque is aorta).
 */
import { spacingOf, type Vec3 } from '../../mesh/grid.ts';
import { erode } from '../../server/segment/rules/morphology.ts';
import { makePhantom, PHANTOM_LABELS, type Phantom } from '../../server/volume/phantom.ts';

/**
 * The contrast phantom with arterial blood at `arteryHu` (portal-phase 280 HU in the plain phantom;
 * veins and organs unchanged) and calcified plaque at about `plaqueHu` in roughly a third of the outer
 * 2 mm (at least one voxel) of the arterial wall, in patches.
 */
export function calcifiedAortaPhantom(spacingMm: Vec3, options: { arteryHu?: number; plaqueHu?: number } = {}): Phantom {
  const { arteryHu = 400, plaqueHu = 700 } = options;
  const phantom = makePhantom({ contrast: true, spacingMm });
  const hu = phantom.ct.data;
  const labels = phantom.labels.data;
  const dims = phantom.ct.dims as Vec3;
  const spacing = spacingOf(phantom.ct.affine);
  const arterial = new Set<number>([PHANTOM_LABELS.aorta, PHANTOM_LABELS.iliac_artery_left, PHANTOM_LABELS.iliac_artery_right]);
  const arteries = Uint8Array.from(labels, (v) => (arterial.has(v) ? 1 : 0));
  for (let p = 0; p < hu.length; p++) if (arteries[p]) hu[p] += arteryHu - 280;
  const inner = erode(arteries, dims, spacing, Math.max(2, ...spacing));
  const [nx, ny] = dims;
  for (let p = 0; p < hu.length; p++) {
    if (!arteries[p] || inner[p]) continue;
    const x = (p % nx) * spacing[0];
    const y = (Math.floor(p / nx) % ny) * spacing[1];
    const z = Math.floor(p / (nx * ny)) * spacing[2];
    if (Math.sin(z / 9) + Math.sin(x / 7 + y / 5) > 0.6) hu[p] = plaqueHu + ((p * 7919) % 201) - 100;
  }
  return phantom;
}
