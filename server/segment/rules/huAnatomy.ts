/**
 * The built-in `hu-anatomy` model: Hounsfield-unit rules, no weights, always available.
 * Body, skin shell, bone, lungs (left/right when separable), airway, and contrast-filled vessels when
 * the scan is enhanced. It cannot tell organs, muscles or unenhanced vessels apart: they share the same
 * soft-tissue HU (see the manifest's `limits`).
 *
 * Works on the CT reoriented exactly to LPS (axial slices along k), at the scan's own resolution, and
 * returns labels in the CT's own voxel order. Parameters come from the manifest's `rules` block.
 */
import { orientationCodes, spacingOf, type Vec3 } from '../../../mesh/grid.ts';
import { HolocaseError } from '../../errors.ts';
import type { StageContext } from '../../pipeline/context.ts';
import { axisMapping, mapVoxels, reorient } from '../../volume/reorient.ts';
import type { Volume } from '../../volume/volume.ts';
import type { RulesManifest } from '../manifest.ts';
import { bodyMask, bodyShell, outsidePieces } from './bodyMask.ts';
import { boneMask } from './bone.ts';
import { contrastVessels, detectContrast } from './contrast.ts';
import { airwayMask, lowDensityLungComponents, lungMasks } from './lungs.ts';

/** Structure names the rules write; the manifest's label table must give each a label. */
export const HU_ANATOMY_STRUCTURES = ['skin', 'bone', 'lung_left', 'lung_right', 'lung', 'airway', 'vessels_contrast'] as const;

export interface HuAnatomyResult {
  labels: Uint8Array | Uint16Array;
  notes: string[];
  timings: Record<string, number>;
}

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

  // 1. Exact reorientation to LPS: axial slices along k, patient left = +i.
  let s = await step('reorientMs', 0.02, 'reorienting to LPS');
  const original = orientationCodes(ct.affine);
  const lps = reorient(ct, 'LPS');
  const hu = lps.data;
  const dims = lps.dims as Vec3;
  const spacing = spacingOf(lps.affine);
  const n = hu.length;
  done(s);

  // 2. Body and skin.
  s = await step('bodyMs', 0.05, 'body outline');
  const body = bodyMask(hu, dims, spacing, { thresholdHu: rules.bodyHu, openingMm: rules.bodyOpeningMm });
  const bodyVoxels = count(body);
  if (bodyVoxels === 0) notes.push(`no body found (no voxels above ${rules.bodyHu} HU)`);
  const pieces = outsidePieces(hu, body, dims, rules.bodyHu, Math.ceil(1000 / (spacing[0] * spacing[1] * spacing[2])));
  if (pieces > 0) notes.push(`${pieces} object(s) outside the body removed (table, mattress or positioning aids)`);
  const skin = bodyShell(body, dims, spacing, rules.skinMm);
  done(s);

  // 3. Contrast: blood pool → vessels.
  s = await step('contrastMs', 0.25, 'looking for contrast-filled blood');
  const finding = detectContrast(hu, body, dims, spacing, rules.contrast);
  notes.push(finding.summary);
  if (ct.meta.contrastAgent && !finding.enhanced) notes.push('the DICOM header records a contrast agent, but no enhanced blood pool was found (late phase or oral contrast?)');
  const vessels = finding.enhanced ? contrastVessels(hu, body, finding, dims, spacing, rules.contrast) : new Uint8Array(n);
  done(s);

  // 4. Bone.
  s = await step('boneMs', 0.45, 'bone');
  // With contrast, enhanced organs reach bone-like HU: bone then starts only from denser voxels and
  // reaches only so far beyond them (marrow deeper inside comes back by hole filling).
  const { enhancedGrowMm, enhancedSeedHu, ...boneRules } = rules.bone;
  const bone = finding.enhanced
    ? boneMask(hu, body, dims, spacing, { ...boneRules, seedHu: Math.max(boneRules.seedHu, enhancedSeedHu), growMm: enhancedGrowMm }, vessels)
    : boneMask(hu, body, dims, spacing, boneRules);
  done(s);

  // 5. Lungs and airway.
  s = await step('lungMs', 0.7, 'lungs and airway');
  const air = lowDensityLungComponents(hu, body, dims, spacing, rules.lung);
  const airway = count(air) > 0 ? airwayMask(hu, body, air, dims, spacing, rules.airway) : new Uint8Array(n);
  const lungs = lungMasks(body, airway, air, dims, spacing);
  if (count(air) > 0 && !lungs.split) notes.push('the lungs touch across the midline and could not be separated; labelled as one "lung"');
  done(s);

  // 6. One label per voxel: skin < lungs < airway < vessels < bone.
  s = await step('composeMs', 0.9, 'label map');
  const LabelArray = Math.max(...table.values()) > 255 ? Uint16Array : Uint8Array;
  const labels = new LabelArray(n);
  const paint = (mask: Uint8Array, name: string) => {
    const value = table.get(name)!;
    for (let p = 0; p < n; p++) if (mask[p]) labels[p] = value;
  };
  paint(skin, 'skin');
  paint(lungs.left, 'lung_left');
  paint(lungs.right, 'lung_right');
  paint(lungs.both, 'lung');
  paint(airway, 'airway');
  paint(vessels, 'vessels_contrast');
  paint(bone, 'bone');
  const back = original === 'LPS' ? labels : mapVoxels(labels, dims, axisMapping('LPS', original));
  done(s);
  return { labels: back, notes, timings };
}
