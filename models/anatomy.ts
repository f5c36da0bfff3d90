/**
 * The anatomy catalogue: what a structure name that a model emits means for people — a tissue group,
 * a readable name and a display colour close to the conventions of anatomy atlases and surgical
 * planning software (bone ivory, arteries red, veins blue, liver brown, kidneys reddish brown, spleen
 * purple, lungs pink, airways light blue, muscle dark red, fat yellow, skin a skin tone).
 *
 * Every TotalSegmentator v2 `total` structure (117 names) is here, the structures of the other open
 * TotalSegmentator CT tasks `holocase model install` offers, and the names holocase's own models and
 * phantom use. Isomorphic: no Node built-ins, no imports but the types.
 */
import type { AnatomyEntry, TissueGroup } from './anatomy-types.ts';

export type { AnatomyEntry, TissueGroup } from './anatomy-types.ts';

/** Colour of each group, used for structures the catalogue does not know. */
export const GROUP_COLORS: Record<TissueGroup, string> = {
  bone: '#eee3c4',
  vessel: '#c0392b',
  organ: '#c97a5d',
  muscle: '#8b2323',
  airway: '#9fd3ef',
  other: '#b8a89a',
};

const COLORS = {
  bone: '#eee3c4',
  vertebra: '#ece0bd',
  rib: '#f0e6cb',
  cartilage: '#d5e3e6',
  artery: '#cc2a2a',
  vein: '#2f5db0',
  portal: '#5b4fb5',
  pulmonaryVein: '#c0395a',
  heart: '#a4262c',
  liver: '#a0522d',
  kidney: '#a8473a',
  cyst: '#e6df9a',
  spleen: '#7b3f8c',
  lung: '#f2a7b8',
  airway: '#9fd3ef',
  muscle: '#8b2323',
  fat: '#f2d16b',
  skin: '#e0ac8e',
} as const;

const SIDES: Record<string, string> = { left: 'Left', right: 'Right' };

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

const entries: AnatomyEntry[] = [];
const add = (name: string, displayName: string, group: TissueGroup, color: string) => entries.push({ name, displayName, group, color });
/** `base_left` and `base_right` from one description (`{side}` is replaced by Left/Right). */
const sided = (base: string, display: string, group: TissueGroup, color: string) => {
  for (const side of ['left', 'right']) add(`${base}_${side}`, display.replace('{side}', SIDES[side]), group, color);
};

// Organs (TotalSegmentator order).
add('spleen', 'Spleen', 'organ', COLORS.spleen);
sided('kidney', '{side} kidney', 'organ', COLORS.kidney);
add('gallbladder', 'Gallbladder', 'organ', '#4f8a3c');
add('liver', 'Liver', 'organ', COLORS.liver);
add('stomach', 'Stomach', 'organ', '#d4886f');
add('pancreas', 'Pancreas', 'organ', '#e3b55e');
sided('adrenal_gland', '{side} adrenal gland', 'organ', '#d49a36');
add('lung_upper_lobe_left', 'Left upper lung lobe', 'organ', '#f2a7b8');
add('lung_lower_lobe_left', 'Left lower lung lobe', 'organ', '#ec94a9');
add('lung_upper_lobe_right', 'Right upper lung lobe', 'organ', '#f4b3c2');
add('lung_middle_lobe_right', 'Right middle lung lobe', 'organ', '#f0a0b3');
add('lung_lower_lobe_right', 'Right lower lung lobe', 'organ', '#ea8ea4');
add('esophagus', 'Esophagus', 'organ', '#c67b69');
add('trachea', 'Trachea', 'airway', COLORS.airway);
add('thyroid_gland', 'Thyroid gland', 'organ', '#b4463f');
add('small_bowel', 'Small bowel', 'organ', '#e0a27c');
add('duodenum', 'Duodenum', 'organ', '#d8976a');
add('colon', 'Colon', 'organ', '#b37d58');
add('urinary_bladder', 'Urinary bladder', 'organ', '#e6cf5f');
add('prostate', 'Prostate', 'organ', '#b06a8a');
sided('kidney_cyst', '{side} kidney cyst', 'organ', COLORS.cyst);

// Spine and bones.
add('sacrum', 'Sacrum', 'bone', COLORS.bone);
add('vertebrae_S1', 'S1 vertebra', 'bone', COLORS.vertebra);
for (let n = 5; n >= 1; n--) add(`vertebrae_L${n}`, `L${n} vertebra`, 'bone', COLORS.vertebra);
for (let n = 12; n >= 1; n--) add(`vertebrae_T${n}`, `T${n} vertebra`, 'bone', COLORS.vertebra);
for (let n = 7; n >= 1; n--) add(`vertebrae_C${n}`, `C${n} vertebra`, 'bone', COLORS.vertebra);

// Heart and vessels.
add('heart', 'Heart', 'organ', COLORS.heart);
add('aorta', 'Aorta', 'vessel', COLORS.artery);
add('pulmonary_vein', 'Pulmonary veins', 'vessel', COLORS.pulmonaryVein);
add('brachiocephalic_trunk', 'Brachiocephalic trunk', 'vessel', COLORS.artery);
sided('subclavian_artery', '{side} subclavian artery', 'vessel', COLORS.artery);
sided('common_carotid_artery', '{side} common carotid artery', 'vessel', COLORS.artery);
sided('brachiocephalic_vein', '{side} brachiocephalic vein', 'vessel', COLORS.vein);
add('atrial_appendage_left', 'Left atrial appendage', 'organ', '#b3343a');
add('superior_vena_cava', 'Superior vena cava', 'vessel', COLORS.vein);
add('inferior_vena_cava', 'Inferior vena cava', 'vessel', COLORS.vein);
add('portal_vein_and_splenic_vein', 'Portal and splenic vein', 'vessel', COLORS.portal);
sided('iliac_artery', '{side} common iliac artery', 'vessel', COLORS.artery);
sided('iliac_vena', '{side} common iliac vein', 'vessel', COLORS.vein);

// Limb girdles and long bones.
sided('humerus', '{side} humerus', 'bone', COLORS.bone);
sided('scapula', '{side} scapula', 'bone', COLORS.bone);
sided('clavicula', '{side} clavicle', 'bone', COLORS.bone);
sided('femur', '{side} femur', 'bone', COLORS.bone);
sided('hip', '{side} hip bone', 'bone', COLORS.bone);
add('spinal_cord', 'Spinal cord', 'organ', '#f0d27a');

// Muscles.
sided('gluteus_maximus', '{side} gluteus maximus', 'muscle', COLORS.muscle);
sided('gluteus_medius', '{side} gluteus medius', 'muscle', '#932a2a');
sided('gluteus_minimus', '{side} gluteus minimus', 'muscle', '#902a2a');
sided('autochthon', '{side} autochthonous back muscles', 'muscle', '#822020');
sided('iliopsoas', '{side} iliopsoas', 'muscle', '#942b2b');

// Head.
add('brain', 'Brain', 'organ', '#e6c3bb');
add('skull', 'Skull', 'bone', COLORS.bone);

// Ribs, sternum, costal cartilage.
for (const side of ['left', 'right']) {
  for (let n = 1; n <= 12; n++) add(`rib_${side}_${n}`, `${SIDES[side]} ${ordinal(n)} rib`, 'bone', COLORS.rib);
}
add('sternum', 'Sternum', 'bone', COLORS.bone);
add('costal_cartilages', 'Costal cartilages', 'bone', COLORS.cartilage);

// Structures of TotalSegmentator's other open CT tasks (lung vessels, liver vessels, liver segments, body).
add('lung_airways', 'Airways (bronchial tree)', 'airway', COLORS.airway);
add('lung_airways_wall', 'Airway walls', 'airway', '#7fb8d8');
add('lung_arteries', 'Pulmonary arteries', 'vessel', '#3b5fc0');
add('lung_veins', 'Pulmonary veins (in the lungs)', 'vessel', COLORS.pulmonaryVein);
add('liver_vessels', 'Liver vessels', 'vessel', COLORS.portal);
add('liver_tumor', 'Liver tumour', 'organ', '#e0c341');
const COUINAUD = ['#8c4a2f', '#a8613b', '#b9774a', '#9b5a3c', '#c0855a', '#8f5034', '#b06d46', '#a35a33'];
for (let n = 1; n <= 8; n++) add(`liver_segment_${n}`, `Liver segment ${['I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII'][n - 1]}`, 'organ', COUINAUD[n - 1]);
add('body_trunc', 'Body (trunk)', 'other', '#d9b8a0');
add('body_extremities', 'Body (extremities)', 'other', '#d2ae95');

// Names holocase's own models and phantom use.
add('skin', 'Skin', 'other', COLORS.skin);
add('subcutaneous_fat', 'Subcutaneous fat', 'other', COLORS.fat);
add('skeletal_muscle', 'Skeletal muscle', 'muscle', COLORS.muscle);
add('body', 'Body', 'other', '#d9b8a0');
add('bone', 'Bone', 'bone', COLORS.bone);
add('lung', 'Lungs', 'organ', COLORS.lung);
sided('lung', '{side} lung', 'organ', COLORS.lung);
add('airway', 'Airway (trachea and bronchi)', 'airway', COLORS.airway);
add('vessels_contrast', 'Contrast-filled vessels', 'vessel', COLORS.artery);
add('soft_tissue', 'Soft tissue', 'other', '#c9937e');

/** Every known structure. */
export const ANATOMY: readonly AnatomyEntry[] = Object.freeze(entries.map((e) => Object.freeze(e)));

const BY_NAME = new Map(ANATOMY.map((e) => [e.name, e]));

const GROUP_PATTERNS: [TissueGroup, RegExp][] = [
  ['airway', /trachea|bronch|airway|larynx/],
  ['vessel', /arter|aorta|vein|vena|vessel|carotid|jugular|portal|trunk|sinus_venosus/],
  ['bone', /vertebra|rib|bone|femur|humerus|skull|sacrum|coccyx|pelvi|scapula|clavic|sternum|tibia|fibula|radius|ulna|patella|mandible|hip|spine|cartilage|calcaneus|tarsal|carpal|phalan/],
  ['muscle', /muscle|gluteus|psoas|autochthon|deltoid|pectoral|rectus|trapezius|latissimus|quadriceps|sartorius|obliqu/],
  ['organ', /liver|kidney|spleen|lung|heart|stomach|pancreas|bowel|colon|bladder|gland|brain|esophag|duoden|prostate|uter|ovar|gall|cord|intestin|rectum|atri|ventric|thymus|eye|nerve/],
];

/** Group guessed from a name's words ("left_renal_artery" → vessel); `other` when nothing matches. */
export function guessGroup(name: string): TissueGroup {
  const lower = name.toLowerCase();
  for (const [group, pattern] of GROUP_PATTERNS) if (pattern.test(lower)) return group;
  return 'other';
}

/** "renal_artery_left" → "Left renal artery". */
export function humanize(name: string): string {
  const words = name.split(/[_\s]+/).filter(Boolean);
  const side = words.findIndex((w) => /^(left|right)$/i.test(w));
  if (side > 0) words.unshift(...words.splice(side, 1));
  const text = words.join(' ').toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const COVERS: Record<string, (part: string) => boolean> = {
  bone: (part) => part !== 'bone' && describeStructure(part).group === 'bone',
  lung: (part) => /^lung_/.test(part),
  lung_left: (part) => /^lung_(upper|middle|lower)_lobe_left$/.test(part),
  lung_right: (part) => /^lung_(upper|middle|lower)_lobe_right$/.test(part),
  airway: (part) => part === 'trachea' || /bronch/.test(part),
  vessels_contrast: (part) => part !== 'vessels_contrast' && describeStructure(part).group === 'vessel',
  skeletal_muscle: (part) => part !== 'skeletal_muscle' && describeStructure(part).group === 'muscle',
};

/**
 * Whether structure `whole` is made of `part` among others: `lung_left` covers the left lung lobes,
 * `bone` every bone, `airway` the trachea, `vessels_contrast` every vessel. Lets a coarse model be
 * compared with a detailed reference structure by structure.
 */
export function structureCovers(whole: string, part: string): boolean {
  return COVERS[whole]?.(part) ?? false;
}

/**
 * What a structure name means for display. Unknown names get a group guessed from the name, that
 * group's colour, a readable version of the name and `known: false` (so callers can report them).
 */
export function describeStructure(name: string): AnatomyEntry & { known: boolean } {
  const entry = BY_NAME.get(name);
  if (entry) return { ...entry, known: true };
  const group = guessGroup(name);
  return { name, displayName: humanize(name), group, color: GROUP_COLORS[group], known: false };
}
