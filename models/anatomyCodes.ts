/**
 * DICOM codes for the anatomy catalogue: what a structure is in SNOMED CT (coding scheme `SCT`), as a
 * DICOM Segmentation's segments carry it (Segmented Property Category and Type, laterality as a type
 * modifier, an anatomic region where the type is a finding such as a cyst). PACS viewers show and
 * search segments by these codes, not by holocase's names.
 *
 * Sources (so every code can be checked):
 * - TotalSegmentator's published SNOMED mapping for its structure names
 *   (`totalsegmentator/resources/totalsegmentator_snomed_mapping.csv`, Apache-2.0, repository commit
 *   0e65a448 — the same commit as the fixtures), with two corrections: the spelling of "Gluteus minimus
 *   muscle", and the unsided `gluteus_minimus` row, which repeats the gluteus medius code (78333006)
 *   where its sided rows have 75297007.
 * - For holocase's own coarse structures: DICOM CID 7166 "Common Tissue Segmentation Types" as dcmqi's
 *   3D Slicer General Anatomy context lists it (Skin 39937001, Bone 272673000, Tissue 85756007,
 *   Organ 2861001, Muscle 71616004) and codes from the mapping above (Lung 39607008, Trachea and
 *   bronchus 110726009, Blood vessel 59820001).
 * Structures with no exact code (`body`, `soft_tissue`, names a custom model invents) get their tissue
 * group's generic code from the same lists, and `exact: false`.
 *
 * Isomorphic: no Node built-ins, no imports but the catalogue.
 */
import { describeStructure, type TissueGroup } from './anatomy.ts';

/** One coded concept: code value, scheme, meaning. */
export interface CodedConcept {
  value: string;
  scheme: 'SCT';
  meaning: string;
}

/** A structure's codes as a DICOM Segmentation segment needs them. */
export interface StructureCodes {
  /** Segmented Property Category (CID 7150): anatomical structure, tissue, morphologically altered structure, physical object. */
  category: CodedConcept;
  /** Segmented Property Type. */
  type: CodedConcept;
  /** Segmented Property Type Modifier: laterality, or a qualifier such as COVID-19. */
  typeModifier?: CodedConcept;
  /** Anatomic Region, where the type is a finding located in an organ (a kidney cyst). */
  region?: CodedConcept;
  regionModifier?: CodedConcept;
  /** False when only the tissue group's generic code was available. */
  exact: boolean;
}

type Pair = [value: string, meaning: string];
type Side = 'left' | 'right';

interface Row {
  type: Pair;
  category?: keyof typeof CATEGORIES;
  side?: Side;
  typeModifier?: Pair;
  region?: Pair;
  regionSide?: Side;
}

const sct = ([value, meaning]: Pair): CodedConcept => ({ value, scheme: 'SCT', meaning });

const CATEGORIES = {
  anatomy: sct(['123037004', 'Anatomical Structure']),
  tissue: sct(['85756007', 'Tissue']),
  morphology: sct(['49755003', 'Morphologically Altered Structure']),
  object: sct(['260787004', 'Physical object']),
} as const;

const SIDES: Record<Side, CodedConcept> = { left: sct(['7771000', 'Left']), right: sct(['24028007', 'Right']) };

/** Codes by structure name (TotalSegmentator names, then holocase's own). */
const ROWS: Record<string, Row> = {
  adrenal_gland_left: { type: ['23451007', 'Adrenal gland'], side: 'left' },
  adrenal_gland_right: { type: ['23451007', 'Adrenal gland'], side: 'right' },
  aorta: { type: ['15825003', 'Aorta'] },
  autochthon_left: { type: ['244849004', 'Deep muscle of back'], side: 'left' },
  autochthon_right: { type: ['244849004', 'Deep muscle of back'], side: 'right' },
  brain: { type: ['12738006', 'Brain'] },
  clavicula_left: { type: ['51299004', 'Clavicle'], side: 'left' },
  clavicula_right: { type: ['51299004', 'Clavicle'], side: 'right' },
  colon: { type: ['71854001', 'Colon'] },
  duodenum: { type: ['38848004', 'Duodenum'] },
  esophagus: { type: ['32849002', 'Esophagus'] },
  face: { type: ['89545001', 'Face'] },
  femur_left: { type: ['71341001', 'Femur'], side: 'left' },
  femur_right: { type: ['71341001', 'Femur'], side: 'right' },
  gallbladder: { type: ['28231008', 'Gallbladder'] },
  gluteus_maximus_left: { type: ['181674001', 'Gluteus maximus muscle'], side: 'left' },
  gluteus_maximus_right: { type: ['181674001', 'Gluteus maximus muscle'], side: 'right' },
  gluteus_medius_left: { type: ['78333006', 'Gluteus medius muscle'], side: 'left' },
  gluteus_medius_right: { type: ['78333006', 'Gluteus medius muscle'], side: 'right' },
  gluteus_minimus_left: { type: ['75297007', 'Gluteus minimus muscle'], side: 'left' },
  gluteus_minimus_right: { type: ['75297007', 'Gluteus minimus muscle'], side: 'right' },
  heart_atrium_left: { type: ['82471001', 'Left atrium'] },
  heart_atrium_right: { type: ['73829009', 'Right atrium'] },
  heart_myocardium: { type: ['74281007', 'Myocardium'] },
  heart_ventricle_left: { type: ['87878005', 'Left ventricle of heart'] },
  heart_ventricle_right: { type: ['53085002', 'Right ventricle of heart'] },
  hip_left: { type: ['29836001', 'Hip'], side: 'left' },
  hip_right: { type: ['29836001', 'Hip'], side: 'right' },
  humerus_left: { type: ['85050009', 'Humerus'], side: 'left' },
  humerus_right: { type: ['85050009', 'Humerus'], side: 'right' },
  iliac_artery_left: { type: ['73634005', 'Common iliac artery'], side: 'left' },
  iliac_artery_right: { type: ['73634005', 'Common iliac artery'], side: 'right' },
  iliac_vena_left: { type: ['46027005', 'Common iliac vein'], side: 'left' },
  iliac_vena_right: { type: ['46027005', 'Common iliac vein'], side: 'right' },
  iliopsoas_left: { type: ['68455001', 'Iliopsoas muscle'], side: 'left' },
  iliopsoas_right: { type: ['68455001', 'Iliopsoas muscle'], side: 'right' },
  inferior_vena_cava: { type: ['64131007', 'Inferior vena cava'] },
  kidney_left: { type: ['64033007', 'Kidney'], side: 'left' },
  kidney_right: { type: ['64033007', 'Kidney'], side: 'right' },
  liver: { type: ['10200004', 'Liver'] },
  lung_lower_lobe_left: { type: ['90572001', 'Lower lobe of lung'], side: 'left' },
  lung_lower_lobe_right: { type: ['90572001', 'Lower lobe of lung'], side: 'right' },
  lung_middle_lobe_right: { type: ['72481006', 'Middle lobe of right lung'] },
  lung_upper_lobe_left: { type: ['45653009', 'Upper lobe of lung'], side: 'left' },
  lung_upper_lobe_right: { type: ['45653009', 'Upper lobe of lung'], side: 'right' },
  pancreas: { type: ['15776009', 'Pancreas'] },
  portal_vein_and_splenic_vein: { type: ['110765007', 'Portal vein and splenic vein'] },
  pulmonary_artery: { type: ['81040000', 'Pulmonary artery'] },
  rib_left_1: { type: ['48535007', 'First rib'], side: 'left' },
  rib_left_2: { type: ['78247007', 'Second rib'], side: 'left' },
  rib_left_3: { type: ['25888004', 'Third rib'], side: 'left' },
  rib_left_4: { type: ['25523003', 'Fourth rib'], side: 'left' },
  rib_left_5: { type: ['15339008', 'Fifth rib'], side: 'left' },
  rib_left_6: { type: ['59558009', 'Sixth rib'], side: 'left' },
  rib_left_7: { type: ['24915002', 'Seventh rib'], side: 'left' },
  rib_left_8: { type: ['5953002', 'Eighth rib'], side: 'left' },
  rib_left_9: { type: ['22565002', 'Ninth rib'], side: 'left' },
  rib_left_10: { type: ['77644006', 'Tenth rib'], side: 'left' },
  rib_left_11: { type: ['58830002', 'Eleventh rib'], side: 'left' },
  rib_left_12: { type: ['43993008', 'Twelfth rib'], side: 'left' },
  rib_right_1: { type: ['48535007', 'First rib'], side: 'right' },
  rib_right_2: { type: ['78247007', 'Second rib'], side: 'right' },
  rib_right_3: { type: ['25888004', 'Third rib'], side: 'right' },
  rib_right_4: { type: ['25523003', 'Fourth rib'], side: 'right' },
  rib_right_5: { type: ['15339008', 'Fifth rib'], side: 'right' },
  rib_right_6: { type: ['59558009', 'Sixth rib'], side: 'right' },
  rib_right_7: { type: ['24915002', 'Seventh rib'], side: 'right' },
  rib_right_8: { type: ['5953002', 'Eighth rib'], side: 'right' },
  rib_right_9: { type: ['22565002', 'Ninth rib'], side: 'right' },
  rib_right_10: { type: ['77644006', 'Tenth rib'], side: 'right' },
  rib_right_11: { type: ['58830002', 'Eleventh rib'], side: 'right' },
  rib_right_12: { type: ['43993008', 'Twelfth rib'], side: 'right' },
  sacrum: { type: ['54735007', 'Sacrum'] },
  scapula_left: { type: ['79601000', 'Scapula'], side: 'left' },
  scapula_right: { type: ['79601000', 'Scapula'], side: 'right' },
  small_bowel: { type: ['30315005', 'Small intestine'] },
  spleen: { type: ['78961009', 'Spleen'] },
  stomach: { type: ['69695003', 'Stomach'] },
  trachea: { type: ['44567001', 'Trachea'] },
  urinary_bladder: { type: ['89837001', 'Urinary bladder'] },
  vertebrae_S1: { type: ['65985001', 'S1 vertebra'] },
  vertebrae_C1: { type: ['14806007', 'C1 vertebra'] },
  vertebrae_C2: { type: ['39976000', 'C2 vertebra'] },
  vertebrae_C3: { type: ['113205007', 'C3 vertebra'] },
  vertebrae_C4: { type: ['5329002', 'C4 vertebra'] },
  vertebrae_C5: { type: ['36978003', 'C5 vertebra'] },
  vertebrae_C6: { type: ['36054005', 'C6 vertebra'] },
  vertebrae_C7: { type: ['87391001', 'C7 vertebra'] },
  vertebrae_L1: { type: ['66794005', 'L1 vertebra'] },
  vertebrae_L2: { type: ['14293000', 'L2 vertebra'] },
  vertebrae_L3: { type: ['36470004', 'L3 vertebra'] },
  vertebrae_L4: { type: ['11994002', 'L4 vertebra'] },
  vertebrae_L5: { type: ['49668003', 'L5 vertebra'] },
  vertebrae_T1: { type: ['64864005', 'T1 vertebra'] },
  vertebrae_T2: { type: ['53733008', 'T2 vertebra'] },
  vertebrae_T3: { type: ['1626008', 'T3 vertebra'] },
  vertebrae_T4: { type: ['73071006', 'T4 vertebra'] },
  vertebrae_T5: { type: ['56401006', 'T5 vertebra'] },
  vertebrae_T6: { type: ['45296009', 'T6 vertebra'] },
  vertebrae_T7: { type: ['62487009', 'T7 vertebra'] },
  vertebrae_T8: { type: ['11068009', 'T8 vertebra'] },
  vertebrae_T9: { type: ['82687006', 'T9 vertebra'] },
  vertebrae_T10: { type: ['7610001', 'T10 vertebra'] },
  vertebrae_T11: { type: ['12989004', 'T11 vertebra'] },
  vertebrae_T12: { type: ['23215003', 'T12 vertebra'] },
  heart: { type: ['80891009', 'Heart'] },
  pulmonary_vein: { type: ['122972007', 'Pulmonary vein'] },
  brachiocephalic_trunk: { type: ['12691009', 'Brachiocephalic artery'] },
  subclavian_artery_right: { type: ['29700009', 'Subclavian artery'], side: 'right' },
  subclavian_artery_left: { type: ['29700009', 'Subclavian artery'], side: 'left' },
  common_carotid_artery_right: { type: ['32062004', 'Common carotid artery'], side: 'right' },
  common_carotid_artery_left: { type: ['32062004', 'Common carotid artery'], side: 'left' },
  brachiocephalic_vein_left: { type: ['8887007', 'Brachiocephalic vein'], side: 'left' },
  brachiocephalic_vein_right: { type: ['8887007', 'Brachiocephalic vein'], side: 'right' },
  atrial_appendage_left: { type: ['68786006', 'Auricular appendage'], side: 'left' },
  superior_vena_cava: { type: ['48345005', 'Superior vena cava'] },
  kidney_cyst_left: { type: ['367643001', 'Cyst'], category: 'morphology', region: ['64033007', 'Kidney'], regionSide: 'left' },
  kidney_cyst_right: { type: ['367643001', 'Cyst'], category: 'morphology', region: ['64033007', 'Kidney'], regionSide: 'right' },
  prostate: { type: ['41216001', 'Prostate'] },
  femur: { type: ['71341001', 'Femur'] },
  patella: { type: ['64234005', 'Patella'] },
  tibia: { type: ['12611008', 'Tibia'] },
  fibula: { type: ['87342007', 'Fibula'] },
  tarsal: { type: ['108371006', 'Tarsal bones'] },
  metatarsal: { type: ['53884002', 'Metatarsal'] },
  phalanges_feet: { type: ['28641004', 'Phalanx structure'] },
  humerus: { type: ['85050009', 'Humerus'] },
  ulna: { type: ['23416004', 'Ulna'] },
  radius: { type: ['62413002', 'Radius'] },
  carpal: { type: ['83936004', 'Carpus'] },
  metacarpal: { type: ['36455000', 'Metacarpal bones'] },
  phalanges_hand: { type: ['28641004', 'Phalanx structure'] },
  sternum: { type: ['56873002', 'Sternum'] },
  skull: { type: ['89546000', 'Skull'] },
  subcutaneous_fat: { type: ['67769002', 'Subcutaneous fatty tissue'], category: 'tissue' },
  skeletal_muscle: { type: ['127954009', 'Skeletal muscle'] },
  torso_fat: { type: ['55603005', 'Fat'], category: 'tissue', region: ['22943007', 'Trunk'] },
  spinal_cord: { type: ['2748008', 'Spinal cord'] },
  lung_covid_infiltrate: { type: ['47351003', 'Infiltrate'], category: 'morphology', typeModifier: ['840539006', 'COVID-19'], region: ['39607008', 'Lung'] },
  intracerebral_hemorrhage: { type: ['50960005', 'Hemorrhage'], category: 'morphology', region: ['12738006', 'Brain'] },
  hip_implant: { type: ['40388003', 'Implant'], category: 'object', region: ['24136001', 'Hip joint'] },
  coronary_arteries: { type: ['41801008', 'Coronary artery'] },
  kidney: { type: ['64033007', 'Kidney'] },
  adrenal_gland: { type: ['23451007', 'Adrenal gland'] },
  thyroid_gland: { type: ['69748006', 'Thyroid gland'] },
  vertebrae_lumbar: { type: ['51282000', 'Vertebra'], region: ['122496007', 'Lumbar spine'] },
  vertebrae_thoracic: { type: ['51282000', 'Vertebra'], region: ['122495006', 'Thoracic spine'] },
  vertebrae_cervical: { type: ['51282000', 'Vertebra'], region: ['122494005', 'Cervical spine'] },
  iliac_artery: { type: ['73634005', 'Common iliac artery'] },
  iliac_vena: { type: ['46027005', 'Common iliac vein'] },
  ribs: { type: ['113197003', 'Rib'] },
  scapula: { type: ['79601000', 'Scapula'] },
  clavicula: { type: ['51299004', 'Clavicle'] },
  hip: { type: ['29836001', 'Hip'] },
  gluteus_maximus: { type: ['181674001', 'Gluteus maximus muscle'] },
  gluteus_medius: { type: ['78333006', 'Gluteus medius muscle'] },
  gluteus_minimus: { type: ['75297007', 'Gluteus minimus muscle'] },
  autochthon: { type: ['244849004', 'Deep muscle of back'] },
  iliopsoas: { type: ['68455001', 'Iliopsoas muscle'] },
  lung_vessels: { type: ['59820001', 'Blood vessel'], region: ['39607008', 'Lung'] },
  lung_trachea_bronchia: { type: ['110726009', 'Trachea and bronchus'] },
  body_trunc: { type: ['22943007', 'Trunk'] },
  body_extremities: { type: ['66019005', 'Limb'] },
  vertebrae_body: { type: ['3572006', 'Vertebral body'] },
  lung_pleural: { type: ['3120008', 'Pleural membrane'] },
  pleural_effusion: { type: ['41699000', 'Effusion'], category: 'morphology', region: ['91381003', 'Pleural cavity'] },
  pericardial_effusion: { type: ['41699000', 'Effusion'], category: 'morphology', region: ['25489000', 'Pericardial cavity'] },
  liver_vessels: { type: ['59820001', 'Blood vessel'], region: ['10200004', 'Liver'] },
  liver_tumor: { type: ['108369006', 'Neoplasm'], category: 'morphology', region: ['10200004', 'Liver'] },
  costal_cartilages: { type: ['50016007', 'Costal cartilage'] },
  // holocase's own coarse structures (rules model, phantom).
  skin: { type: ['39937001', 'Skin'], category: 'tissue' },
  bone: { type: ['272673000', 'Bone'], category: 'tissue' },
  lung: { type: ['39607008', 'Lung'] },
  lung_left: { type: ['39607008', 'Lung'], side: 'left' },
  lung_right: { type: ['39607008', 'Lung'], side: 'right' },
  airway: { type: ['110726009', 'Trachea and bronchus'] },
  vessels_contrast: { type: ['59820001', 'Blood vessel'] },
};

/** Each tissue group's generic code, for structures without an exact one. */
const GROUP_ROWS: Record<TissueGroup, Row> = {
  bone: { type: ['272673000', 'Bone'], category: 'tissue' },
  vessel: { type: ['59820001', 'Blood vessel'] },
  organ: { type: ['2861001', 'Organ'], category: 'tissue' },
  muscle: { type: ['71616004', 'Muscle'], category: 'tissue' },
  airway: { type: ['110726009', 'Trachea and bronchus'] },
  other: { type: ['85756007', 'Tissue'], category: 'tissue' },
};

function toCodes(row: Row, exact: boolean): StructureCodes {
  return {
    category: CATEGORIES[row.category ?? 'anatomy'],
    type: sct(row.type),
    ...(row.side ? { typeModifier: SIDES[row.side] } : row.typeModifier ? { typeModifier: sct(row.typeModifier) } : {}),
    ...(row.region ? { region: sct(row.region) } : {}),
    ...(row.regionSide ? { regionModifier: SIDES[row.regionSide] } : {}),
    exact,
  };
}

/** The SNOMED CT codes of a structure; unknown names get their tissue group's generic code. */
export function structureCodes(name: string): StructureCodes {
  const row = ROWS[name];
  if (row) return toCodes(row, true);
  return toCodes(GROUP_ROWS[describeStructure(name).group], false);
}
