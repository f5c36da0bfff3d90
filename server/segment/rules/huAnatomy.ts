/**
 * The built-in `hu-anatomy` model: Hounsfield-unit rules, no weights, always available.
 * Body, skin shell, bone, lungs (left/right when separable), airway, and contrast-filled vessels when
 * the scan is enhanced. It cannot tell organs, muscles or unenhanced vessels apart: they share the same
 * soft-tissue HU (see the manifest's `limits`).
 *
 * Works on the CT reoriented exactly to LPS (axial slices along k). The rules decide on a working grid
 * of at least about 1.6 mm (`workingGrid.ts`: a finer scan's voxels are merged by whole factors), and
 * the labels come back on the scan's own voxels, boundaries decided voxel by voxel, in the CT's own voxel
 * order. Parameters come from the manifest's `rules` block.
 */
import { orientationCodes, spacingOf, type Vec3 } from '../../../mesh/grid.ts';
import { HolocaseError } from '../../errors.ts';
import type { StageContext } from '../../pipeline/context.ts';
import { axisMapping, mapVoxels, reorient } from '../../volume/reorient.ts';
import type { Volume } from '../../volume/volume.ts';
import type { RulesManifest } from '../manifest.ts';
import { bodyMask, bodyShell, outsidePieces } from './bodyMask.ts';
import { boneMask } from './bone.ts';
import { contrastLumen, detectContrast, vesselsWithWall } from './contrast.ts';
import { airwayMask, lowDensityLungComponents, lungMasks } from './lungs.ts';
import { blockMeans, refineLabels, workingFactors, type VoxelTest } from './workingGrid.ts';

/** Structure names the rules write; the manifest's label table must give each a label. */
export const HU_ANATOMY_STRUCTURES = ['skin', 'bone', 'lung_left', 'lung_right', 'lung', 'airway', 'vessels_contrast'] as const;

export interface HuAnatomyResult {
  labels: Uint8Array | Uint16Array;
  notes: string[];
  timings: Record<string, number>;
}

/** Tissue codes on the working grid, in paint order (a later code wins); skin is added at the end. */
const T = { outside: 0, body: 1, lungLeft: 2, lungRight: 3, lung: 4, airway: 5, vessels: 6, bone: 7, skin: 8, removed: 9 } as const;

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function count(mask: Uint8Array): number {
  let c = 0;
  for (let p = 0; p < mask.length; p++) c += mask[p];
  return c;
}

/** Runs the rules on a CT volume in Hounsfield units. */
export async function runHuAnatomy(ct: Volume, manifest: RulesManifest, context: StageContext = {}): Promise<HuAnatomyResult> {
  const rules = manifest.rules;
  const table = new Map(Object.entries(manifest.output.labels).map(([k, name]) => [name, Number(k)]));
  const missing = HU_ANATOMY_STRUCTURES.filter((s) => !table.has(s));
  if (missing.length > 0) {
    throw new HolocaseError('MODEL_INVALID', `models/${manifest.id}/model.json: output.labels must name ${missing.map((m) => `"${m}"`).join(', ')} (the rules model writes them)`);
  }
  const notes: string[] = [];
  const timings: Record<string, number> = {};
  const progress = (fraction: number, message: string) => context.onProgress?.({ stage: 'segment', fraction, message });
  const step = async (name: string, fraction: number, message: string) => {
    context.signal?.throwIfAborted();
    progress(fraction, message);
    await tick();
    return { name, started: performance.now() };
  };
  const done = (s: { name: string; started: number }) => {
    timings[s.name] = (timings[s.name] ?? 0) + performance.now() - s.started;
  };

  // 1. Exact reorientation to LPS, and the working grid.
  let s = await step('reorientMs', 0.02, 'reorienting to LPS');
  const original = orientationCodes(ct.affine);
  const lps = reorient(ct, 'LPS');
  const dims = lps.dims as Vec3;
  const spacing = spacingOf(lps.affine);
  done(s);
  s = await step('workingGridMs', 0.03, 'working grid');
  const factors = workingFactors(spacing, { maxSpacingMm: rules.workingSpacingMm });
  const merged = factors.some((f) => f > 1);
  const work = merged ? blockMeans(lps.data, dims, factors) : { data: lps.data, dims };
  const hu = work.data;
  const wdims = work.dims;
  const wspacing = spacing.map((v, a) => v * factors[a]) as Vec3;
  const n = hu.length;
  if (merged) notes.push(`rules decided on a ${wspacing.map((v) => +v.toFixed(2)).join(' × ')} mm working grid (${wdims.join('×')}); boundaries refined on the scan's own voxels`);
  done(s);

  // 2. Body.
  s = await step('bodyMs', 0.05, 'body outline');
  const body = bodyMask(hu, wdims, wspacing, { thresholdHu: rules.bodyHu, openingMm: rules.bodyOpeningMm });
  const bodyVoxels = count(body);
  if (bodyVoxels === 0) notes.push(`no body found (no voxels above ${rules.bodyHu} HU)`);
  const pieces = outsidePieces(hu, body, wdims, rules.bodyHu, Math.ceil(1000 / (wspacing[0] * wspacing[1] * wspacing[2])));
  if (pieces > 0) notes.push(`${pieces} object(s) outside the body removed (table, mattress or positioning aids)`);
  done(s);

  // 3. Contrast: blood pool → vessel lumen.
  s = await step('contrastMs', 0.25, 'looking for contrast-filled blood');
  const finding = detectContrast(hu, body, wdims, wspacing, rules.contrast);
  notes.push(finding.summary);
  if (ct.meta.contrastAgent && !finding.enhanced) notes.push('the DICOM header records a contrast agent, but no enhanced blood pool was found (late phase or oral contrast?)');
  const lumen = finding.enhanced ? contrastLumen(hu, body, finding, wdims, wspacing, rules.contrast) : undefined;
  done(s);

  // 4. Bone; with contrast, the vessels' calcified plaque and wall around their lumen.
  s = await step('boneMs', 0.45, 'bone');
  // With contrast, enhanced organs reach bone-like HU: bone then starts only from denser voxels and
  // reaches only so far beyond them (marrow deeper inside comes back by hole filling); dense voxels the
  // lumen reaches first are plaque in the vessel wall, not bone.
  const { enhancedGrowMm, enhancedSeedHu, ...boneRules } = rules.bone;
  const { bone, claimed } = lumen
    ? boneMask(hu, body, wdims, wspacing, { ...boneRules, seedHu: Math.max(boneRules.seedHu, enhancedSeedHu), growMm: enhancedGrowMm, lumenReachMm: rules.contrast.plaqueMm, maxSmoothStdHu: rules.contrast.maxLocalStdHu }, lumen)
    : boneMask(hu, body, wdims, wspacing, boneRules);
  const vessels = lumen ? vesselsWithWall(hu, body, lumen, claimed, bone, finding, wdims, wspacing, rules.contrast) : new Uint8Array(n);
  done(s);

  // 5. Lungs and airway.
  s = await step('lungMs', 0.7, 'lungs and airway');
  const air = lowDensityLungComponents(hu, body, wdims, wspacing, rules.lung);
  const airway = count(air) > 0 ? airwayMask(hu, body, air, wdims, wspacing, rules.airway) : new Uint8Array(n);
  const lungs = lungMasks(body, airway, air, wdims, wspacing);
  if (count(air) > 0 && !lungs.split) notes.push('the lungs touch across the midline and could not be separated; labelled as one "lung"');
  done(s);

  // 6. One tissue per voxel on the working grid (later ones win): body < lungs < airway < vessels < bone.
  s = await step('composeMs', 0.85, 'label map');
  const tissue = new Uint8Array(n);
  const paint = (mask: Uint8Array, code: number) => {
    for (let p = 0; p < n; p++) if (mask[p]) tissue[p] = code;
  };
  // Tissue cut off the body (table, blankets) stays outside when the boundaries are refined.
  for (let p = 0; p < n; p++) if (hu[p] > rules.bodyHu) tissue[p] = T.removed;
  paint(body, T.body);
  paint(lungs.left, T.lungLeft);
  paint(lungs.right, T.lungRight);
  paint(lungs.both, T.lung);
  paint(airway, T.airway);
  paint(vessels, T.vessels);
  paint(bone, T.bone);
  done(s);

  // 7. Back on the scan's own voxels; then the skin: the body's outer shell where nothing else is.
  s = await step('refineMs', 0.9, 'boundaries at full resolution');
  const lungTest: VoxelTest = { keep: [-Infinity, rules.lung.airHu], claim: [-Infinity, rules.lung.airHu] };
  const tests: (VoxelTest | undefined)[] = [];
  tests[T.lungLeft] = lungTest;
  tests[T.lungRight] = lungTest;
  tests[T.lung] = lungTest;
  // The airway's rim: pure air next to it, where the merged voxels were part wall and counted as lung.
  tests[T.airway] = { keep: [-Infinity, rules.lung.airHu], claim: [-Infinity, rules.airway.airHu], over: [T.lungLeft, T.lungRight, T.lung] };
  tests[T.vessels] = { keep: [rules.contrast.wallMinHu, Infinity], claim: [finding.lumenRangeHu[0], Infinity] };
  // Bone takes voxels from soft tissue half-way to its seed level (an enhanced liver or a disc beside
  // bone is above lowHu, not cortex).
  const seedHu = finding.enhanced ? Math.max(rules.bone.seedHu, rules.bone.enhancedSeedHu) : rules.bone.seedHu;
  tests[T.bone] = { keep: [rules.bone.lowHu, Infinity], claim: [(rules.bone.lowHu + seedHu) / 2, Infinity] };
  const full = merged ? refineLabels(tissue, wdims, factors, lps.data, dims, { body: T.body, outside: T.outside, removed: T.removed, bodyHu: rules.bodyHu, tests }) : tissue;
  for (let p = 0; p < full.length; p++) if (full[p] === T.removed) full[p] = T.outside;
  const skin = bodyShell(full, dims, spacing, rules.skinMm); // every tissue code but outside (0) is body
  const names = ['', '', 'lung_left', 'lung_right', 'lung', 'airway', 'vessels_contrast', 'bone', 'skin'];
  const value = names.map((name) => (name ? table.get(name)! : 0));
  const LabelArray = Math.max(...table.values()) > 255 ? Uint16Array : Uint8Array;
  const labels = new LabelArray(full.length);
  for (let p = 0; p < full.length; p++) labels[p] = value[full[p] === T.body && skin[p] ? T.skin : full[p]];
  const back = original === 'LPS' ? labels : mapVoxels(labels, dims, axisMapping('LPS', original));
  done(s);
  return { labels: back, notes, timings };
}
