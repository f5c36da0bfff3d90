/**
 * The anatomy catalogue: every TotalSegmentator v2 name and holocase's extra names, readable names,
 * groups and colours surgeons recognise, and the fallback for unknown names.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ANATOMY, describeStructure, GROUP_COLORS, structureCovers } from '../../models/anatomy.ts';
import { TISSUE_GROUPS } from '../../models/anatomy-types.ts';

const CLASSES = new URL('../../../shared/fixtures/totalsegmentator/classes_total_v2.json', import.meta.url);

/** Hue (degrees), saturation and lightness (0–1) of `#rrggbb`. */
function hsl(color: string): [number, number, number] {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16) / 255);
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const l = (max + min) / 2;
  const d = max - min;
  if (d === 0) return [0, 0, l];
  const s = d / (1 - Math.abs(2 * l - 1));
  const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return [(h * 60 + 360) % 360, s, l];
}

describe('anatomy catalogue', () => {
  it('holds all 117 TotalSegmentator v2 names and the extra names, each once, valid', async () => {
    const names: string[] = Object.values(JSON.parse(await readFile(CLASSES, 'utf8')));
    expect(names).toHaveLength(117);
    const known = new Set(ANATOMY.map((e) => e.name));
    expect(names.filter((n) => !known.has(n))).toEqual([]);
    for (const extra of ['skin', 'subcutaneous_fat', 'skeletal_muscle', 'body', 'bone', 'lung', 'airway', 'vessels_contrast', 'soft_tissue']) expect(known.has(extra), extra).toBe(true);
    expect(known.size).toBe(ANATOMY.length);
    for (const e of ANATOMY) {
      expect(e.color, e.name).toMatch(/^#[0-9a-f]{6}$/);
      expect(TISSUE_GROUPS).toContain(e.group);
      expect(e.displayName.length).toBeGreaterThan(2);
      expect(describeStructure(e.name)).toEqual({ ...e, known: true });
    }
  });

  it('reads like an atlas', () => {
    expect(describeStructure('vertebrae_L2').displayName).toBe('L2 vertebra');
    expect(describeStructure('lung_upper_lobe_left').displayName).toBe('Left upper lung lobe');
    expect(describeStructure('inferior_vena_cava').displayName).toBe('Inferior vena cava');
    expect(describeStructure('rib_right_3').displayName).toBe('Right 3rd rib');
    expect(describeStructure('rib_left_11').displayName).toBe('Left 11th rib');
    expect(describeStructure('kidney_left').displayName).toBe('Left kidney');
    expect(describeStructure('clavicula_right').displayName).toBe('Right clavicle');
    expect(describeStructure('gluteus_maximus_left').displayName).toBe('Left gluteus maximus');
  });

  it('groups structures as a surgeon would', () => {
    const group = (n: string) => describeStructure(n).group;
    for (const n of ['vertebrae_T7', 'rib_left_1', 'sternum', 'femur_right', 'hip_left', 'skull', 'sacrum', 'bone']) expect(group(n), n).toBe('bone');
    for (const n of ['aorta', 'inferior_vena_cava', 'portal_vein_and_splenic_vein', 'iliac_artery_left', 'common_carotid_artery_right', 'vessels_contrast']) expect(group(n), n).toBe('vessel');
    for (const n of ['liver', 'spleen', 'kidney_right', 'heart', 'lung_lower_lobe_right', 'colon']) expect(group(n), n).toBe('organ');
    for (const n of ['iliopsoas_left', 'autochthon_right', 'gluteus_medius_left', 'skeletal_muscle']) expect(group(n), n).toBe('muscle');
    for (const n of ['trachea', 'airway']) expect(group(n), n).toBe('airway');
    for (const n of ['skin', 'subcutaneous_fat']) expect(group(n), n).toBe('other');
  });

  it('colours follow the conventions: bone ivory, arteries red, veins blue, liver brown, spleen purple, lungs pink, airways light blue, muscle dark red, fat yellow', () => {
    const c = (n: string) => hsl(describeStructure(n).color);
    const [, boneS, boneL] = c('vertebrae_L1');
    expect(boneL).toBeGreaterThan(0.8); // pale
    expect(boneS).toBeLessThan(0.7);
    const red = (h: number) => h < 15 || h > 345;
    expect(red(c('aorta')[0])).toBe(true);
    expect(c('inferior_vena_cava')[0]).toBeGreaterThan(200);
    expect(c('inferior_vena_cava')[0]).toBeLessThan(240);
    const [liverH, , liverL] = c('liver');
    expect(liverH).toBeGreaterThan(10);
    expect(liverH).toBeLessThan(40);
    expect(liverL).toBeLessThan(0.5); // brown, not orange
    expect(c('spleen')[0]).toBeGreaterThan(260);
    expect(c('spleen')[0]).toBeLessThan(320);
    const [lungH, , lungL] = c('lung_upper_lobe_right');
    expect(lungH > 330 || lungH < 10).toBe(true);
    expect(lungL).toBeGreaterThan(0.7);
    expect(c('trachea')[0]).toBeGreaterThan(180);
    expect(c('trachea')[0]).toBeLessThan(220);
    expect(c('trachea')[2]).toBeGreaterThan(0.7);
    const [muscleH, , muscleL] = c('iliopsoas_left');
    expect(red(muscleH)).toBe(true);
    expect(muscleL).toBeLessThan(0.4);
    expect(c('subcutaneous_fat')[0]).toBeGreaterThan(40);
    expect(c('subcutaneous_fat')[0]).toBeLessThan(60);
    const [kidneyH, , kidneyL] = c('kidney_left');
    expect(kidneyH < 20 || kidneyH > 350).toBe(true);
    expect(kidneyL).toBeLessThan(0.5);
  });

  it('unknown names fall back to a group guessed from the name, with its colour, and say they are unknown', () => {
    expect(describeStructure('renal_artery_left')).toEqual({ name: 'renal_artery_left', displayName: 'Left renal artery', group: 'vessel', color: GROUP_COLORS.vessel, known: false });
    expect(describeStructure('tibia_right')).toMatchObject({ group: 'bone', color: GROUP_COLORS.bone, known: false, displayName: 'Right tibia' });
    expect(describeStructure('deltoid_left')).toMatchObject({ group: 'muscle', known: false });
    expect(describeStructure('main_bronchus_left')).toMatchObject({ group: 'airway', known: false });
    expect(describeStructure('uterus')).toMatchObject({ group: 'organ', known: false });
    expect(describeStructure('tumour_1')).toMatchObject({ group: 'other', color: GROUP_COLORS.other, known: false });
  });

  it('knows which coarse structures are made of which detailed ones', () => {
    expect(structureCovers('lung_left', 'lung_lower_lobe_left')).toBe(true);
    expect(structureCovers('lung_left', 'lung_lower_lobe_right')).toBe(false);
    expect(structureCovers('bone', 'rib_right_4')).toBe(true);
    expect(structureCovers('bone', 'liver')).toBe(false);
    expect(structureCovers('airway', 'trachea')).toBe(true);
    expect(structureCovers('vessels_contrast', 'aorta')).toBe(true);
    expect(structureCovers('liver', 'liver')).toBe(false);
  });
});
