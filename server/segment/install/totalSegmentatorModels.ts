/**
 * The models `holocase model install` knows: TotalSegmentator's openly licensed (Apache-2.0) CT tasks,
 * as the release zips its `download_pretrained_weights` fetches (`map_tasks_config.py`:
 * `TASK_ID_WEIGHTS_CONFIGS`, URL `<base>/<version>/<foldername>.zip`) and the class maps of
 * `map_to_binary.py` (`class_map["total"]`, `class_map_5_parts`, `class_map["lung_vessels"]`, …).
 *
 * TotalSegmentator's recipe for these networks — canonical RAS voxels read in SimpleITK's axis order,
 * the plans' target spacing, sliding window with step 0.5 and no mirroring — is what the importer
 * writes into each bundle's manifest. Tasks TotalSegmentator runs on a crop (lung vessels, liver vessels,
 * liver segments) become model sets here: its 3 mm `total` network finds the organ first, as
 * TotalSegmentator's own cropping does (`python_api.py`, 20 voxels around the organ), and the task's
 * network runs only in the box around it.
 */

/** `class_map_5_parts` of TotalSegmentator v2, in part order; their concatenation is `class_map["total"]`. */
export const TOTAL_PARTS = {
  organs: [
    'spleen', 'kidney_right', 'kidney_left', 'gallbladder', 'liver', 'stomach', 'pancreas', 'adrenal_gland_right', 'adrenal_gland_left',
    'lung_upper_lobe_left', 'lung_lower_lobe_left', 'lung_upper_lobe_right', 'lung_middle_lobe_right', 'lung_lower_lobe_right', 'esophagus',
    'trachea', 'thyroid_gland', 'small_bowel', 'duodenum', 'colon', 'urinary_bladder', 'prostate', 'kidney_cyst_left', 'kidney_cyst_right',
  ],
  vertebrae: [
    'sacrum', 'vertebrae_S1', 'vertebrae_L5', 'vertebrae_L4', 'vertebrae_L3', 'vertebrae_L2', 'vertebrae_L1', 'vertebrae_T12', 'vertebrae_T11',
    'vertebrae_T10', 'vertebrae_T9', 'vertebrae_T8', 'vertebrae_T7', 'vertebrae_T6', 'vertebrae_T5', 'vertebrae_T4', 'vertebrae_T3', 'vertebrae_T2',
    'vertebrae_T1', 'vertebrae_C7', 'vertebrae_C6', 'vertebrae_C5', 'vertebrae_C4', 'vertebrae_C3', 'vertebrae_C2', 'vertebrae_C1',
  ],
  cardiac: [
    'heart', 'aorta', 'pulmonary_vein', 'brachiocephalic_trunk', 'subclavian_artery_right', 'subclavian_artery_left', 'common_carotid_artery_right',
    'common_carotid_artery_left', 'brachiocephalic_vein_left', 'brachiocephalic_vein_right', 'atrial_appendage_left', 'superior_vena_cava',
    'inferior_vena_cava', 'portal_vein_and_splenic_vein', 'iliac_artery_left', 'iliac_artery_right', 'iliac_vena_left', 'iliac_vena_right',
  ],
  muscles: [
    'humerus_left', 'humerus_right', 'scapula_left', 'scapula_right', 'clavicula_left', 'clavicula_right', 'femur_left', 'femur_right', 'hip_left',
    'hip_right', 'spinal_cord', 'gluteus_maximus_left', 'gluteus_maximus_right', 'gluteus_medius_left', 'gluteus_medius_right',
    'gluteus_minimus_left', 'gluteus_minimus_right', 'autochthon_left', 'autochthon_right', 'iliopsoas_left', 'iliopsoas_right', 'brain', 'skull',
  ],
  ribs: [
    ...Array.from({ length: 12 }, (_, n) => `rib_left_${n + 1}`),
    ...Array.from({ length: 12 }, (_, n) => `rib_right_${n + 1}`),
    'sternum',
    'costal_cartilages',
  ],
} as const;

/** `class_map["total"]`: label n is `TOTAL_CLASSES[n - 1]`. */
export const TOTAL_CLASSES: readonly string[] = Object.values(TOTAL_PARTS).flat();

const LUNG_LOBES = ['lung_upper_lobe_left', 'lung_lower_lobe_left', 'lung_upper_lobe_right', 'lung_middle_lobe_right', 'lung_lower_lobe_right'];

/** One network release: a zip that `holocase model import` turns into one bundle. */
export interface ReleaseZip {
  /** nnU-Net dataset id (TotalSegmentator's task id). */
  datasetId: number;
  /** Release zip name without `.zip` (also the `Dataset…` folder inside it). */
  folder: string;
  /** GitHub release tag the zip is attached to. */
  release: string;
  /** Id of the bundle it becomes. */
  bundleId: string;
  /** Bundle name shown in the web app. */
  name: string;
  /** Structures TotalSegmentator lists for this network, in label order (`map_to_binary.py`). */
  classes: readonly string[];
  /** TotalSegmentator's target spacing for it, x, y, z in mm (`resample` in `map_tasks_config.py`). */
  spacingXyz?: [number, number, number];
  /** What this network alone cannot do, in plain words. */
  limits: string;
}

/** A model set the installer writes over its release bundles. */
export interface InstallableSet {
  /** Member bundles in running order: which structures each contributes, and its crop. */
  members: { model: string; classes?: readonly string[]; crop?: { to: readonly string[]; marginMm: number } }[];
  /** The set's label table: label n is `labels[n - 1]` (names no member provides are left out, numbers kept). */
  labels: readonly string[];
}

/** A name `holocase model install <name>` accepts. */
export interface InstallableModel {
  name: string;
  /** Title in the web app and in `segment --list`. */
  title: string;
  description: string;
  /** SPDX id of the weights' licence. */
  license: string;
  /** What the model cannot do, in plain words for the surgeons who see the result. */
  limits: string;
  references: readonly string[];
  /** Release zips to download and import, in order. */
  zips: readonly ReleaseZip[];
  /** When the model is several networks: the set written over them (id = `name`). */
  set?: InstallableSet;
}

/** Where TotalSegmentator's weights are released; `HOLOCASE_MODEL_DOWNLOAD_URL` replaces it (a mirror, a test server). */
export const TOTALSEGMENTATOR_RELEASES = 'https://github.com/wasserth/TotalSegmentator/releases/download';

const TS_PAPER = 'Wasserthal J. et al., TotalSegmentator: robust segmentation of 104 anatomic structures in CT images. Radiology: Artificial Intelligence 2023, doi:10.1148/ryai.230024';
const TS_CODE = 'https://github.com/wasserth/TotalSegmentator (weights: GitHub releases, Apache-2.0)';
const TS_LIMITS =
  'Trained on 1559 CTs from routine clinical practice (many scanners, phases and pathologies). Structures partly outside the scan are cut at its edge. ' +
  'Accuracy drops in children, after major surgery, with metal implants and streak artefacts, and in very unusual anatomy; vertebra and rib numbers can be off by one where the spine has a transitional vertebra. ' +
  'Small vessels and structures thinner than about two voxels of the network spacing are missed. Not a diagnosis: check every structure you plan with.';

const fastZip: ReleaseZip = {
  datasetId: 297,
  folder: 'Dataset297_TotalSegmentator_total_3mm_1559subj',
  release: 'v2.0.0-weights',
  bundleId: 'totalsegmentator-fast',
  name: 'TotalSegmentator total, fast (3 mm)',
  classes: TOTAL_CLASSES,
  spacingXyz: [3, 3, 3],
  limits: `Runs at 3 mm: surfaces are coarse, and thin structures (ribs, costal cartilage, adrenal glands, small vessels) lose detail or are missed. ${TS_LIMITS}`,
};

const part = (datasetId: number, folder: string, key: keyof typeof TOTAL_PARTS, title: string): ReleaseZip => ({
  datasetId,
  folder,
  release: 'v2.0.0-weights',
  bundleId: `totalsegmentator-${key}`,
  name: `TotalSegmentator total, part ${datasetId - 290} of 5: ${title} (1.5 mm)`,
  classes: TOTAL_PARTS[key],
  spacingXyz: [1.5, 1.5, 1.5],
  limits: `One of the five networks of the "totalsegmentator" set; on its own it finds only ${title.toLowerCase()}. ${TS_LIMITS}`,
});

/** Every model `holocase model install` knows, by name. */
export const INSTALLABLE_MODELS: readonly InstallableModel[] = [
  {
    name: 'totalsegmentator',
    title: 'TotalSegmentator total (117 structures, 1.5 mm)',
    description: 'TotalSegmentator v2 "total": 117 organs, bones, muscles and vessels from five 1.5 mm nnU-Net networks run one after another and merged as TotalSegmentator does (a later part wins where two overlap).',
    license: 'Apache-2.0',
    limits: `${TS_LIMITS} Five networks: about five times the time of one.`,
    references: [TS_PAPER, TS_CODE],
    zips: [
      part(291, 'Dataset291_TotalSegmentator_part1_organs_1559subj', 'organs', 'Organs'),
      part(292, 'Dataset292_TotalSegmentator_part2_vertebrae_1532subj', 'vertebrae', 'Vertebrae'),
      part(293, 'Dataset293_TotalSegmentator_part3_cardiac_1559subj', 'cardiac', 'Heart and vessels'),
      part(294, 'Dataset294_TotalSegmentator_part4_muscles_1559subj', 'muscles', 'Muscles and long bones'),
      part(295, 'Dataset295_TotalSegmentator_part5_ribs_1559subj', 'ribs', 'Ribs and sternum'),
    ],
    set: {
      members: (['organs', 'vertebrae', 'cardiac', 'muscles', 'ribs'] as const).map((key) => ({ model: `totalsegmentator-${key}` })),
      labels: TOTAL_CLASSES,
    },
  },
  {
    name: 'totalsegmentator-fast',
    title: fastZip.name,
    description: 'TotalSegmentator v2 "total --fast": the same 117 structures from one 3 mm nnU-Net network; minutes faster on a CPU.',
    license: 'Apache-2.0',
    limits: fastZip.limits,
    references: [TS_PAPER, TS_CODE],
    zips: [fastZip],
  },
  {
    name: 'lung-vessels',
    title: 'TotalSegmentator lung vessels and airways',
    description: 'Pulmonary arteries, pulmonary veins, airways and airway walls inside the lungs (TotalSegmentator "lung_vessels"), with the five lung lobes that the 3 mm total network finds first to crop the scan.',
    license: 'Apache-2.0',
    limits:
      'Trained on 282 CTs; arteries and veins can be confused in the lung periphery and small vessels are missed. Runs only inside the lungs that the 3 mm network finds (lobes at 3 mm). Needs a thin-slice CT (≤ 1.5 mm) to be useful.',
    references: [TS_PAPER, 'Lung vessels: doi:10.1038/s41597-025-06074-6 and arXiv:2404.03010', TS_CODE],
    zips: [
      fastZip,
      {
        datasetId: 117,
        folder: 'Dataset117_lung_airways_arteries_veins_282subj',
        release: 'v2.5.0-weights',
        bundleId: 'lung-vessels-network',
        name: 'TotalSegmentator lung vessels network (no lung crop)',
        classes: ['lung_airways', 'lung_airways_wall', 'lung_arteries', 'lung_veins'],
        spacingXyz: [0.703125, 0.703125, 1],
        limits: 'The lung vessel network on the whole scan; TotalSegmentator runs it only inside the lungs (use the "lung-vessels" set). Trained on 282 CTs.',
      },
    ],
    set: {
      members: [
        { model: 'totalsegmentator-fast', classes: LUNG_LOBES },
        { model: 'lung-vessels-network', crop: { to: LUNG_LOBES, marginMm: 20 } },
      ],
      labels: ['lung_airways', 'lung_airways_wall', 'lung_arteries', 'lung_veins', ...LUNG_LOBES],
    },
  },
  {
    name: 'liver-vessels',
    title: 'TotalSegmentator liver vessels and tumours',
    description: 'Hepatic vessels and liver tumours inside the liver (TotalSegmentator "liver_vessels", trained on the Medical Segmentation Decathlon hepatic vessel data), with the liver that the 3 mm total network finds first to crop the scan.',
    license: 'Apache-2.0',
    limits:
      'Needs a contrast-enhanced (portal-venous) CT. Trained on a small dataset (MSD hepatic vessels), so it is less robust than the total networks: small vessels are missed and tumour outlines are approximate; the tumour label is not a diagnosis. Runs only around the liver found at 3 mm.',
    references: [TS_PAPER, 'Medical Segmentation Decathlon: arXiv:1902.09063', TS_CODE],
    zips: [
      fastZip,
      {
        datasetId: 8,
        folder: 'Dataset008_HepaticVessel',
        release: 'v2.4.0-weights',
        bundleId: 'liver-vessels-network',
        name: 'TotalSegmentator liver vessels network (no liver crop)',
        classes: ['liver_vessels', 'liver_tumor'],
        limits: 'The liver vessel network on the whole scan; TotalSegmentator runs it only around the liver (use the "liver-vessels" set). Contrast-enhanced CT only.',
      },
    ],
    set: {
      members: [
        { model: 'totalsegmentator-fast', classes: ['liver'] },
        { model: 'liver-vessels-network', crop: { to: ['liver'], marginMm: 20 } },
      ],
      labels: ['liver_vessels', 'liver_tumor', 'liver'],
    },
  },
  {
    name: 'liver-segments',
    title: 'TotalSegmentator liver segments (Couinaud 1–8)',
    description: 'The eight Couinaud liver segments (TotalSegmentator "liver_segments"), inside the liver that the 3 mm total network finds first to crop the scan.',
    license: 'Apache-2.0',
    limits:
      'Segment borders follow the hepatic and portal veins as the network learned them from a small dataset; they are approximate planes, not surgical resection lines. Contrast-enhanced CT works best. Runs only around the liver found at 3 mm.',
    references: [TS_PAPER, 'Couinaud segments: doi:10.1007/978-3-030-32692-0_32', TS_CODE],
    zips: [
      fastZip,
      {
        datasetId: 570,
        folder: 'Dataset570_ct_liver_segments',
        release: 'v2.5.0-weights',
        bundleId: 'liver-segments-network',
        name: 'TotalSegmentator liver segments network (no liver crop)',
        classes: Array.from({ length: 8 }, (_, n) => `liver_segment_${n + 1}`),
        spacingXyz: [0.8046879768371582, 0.8046879768371582, 1.5],
        limits: 'The liver segment network on the whole scan; TotalSegmentator runs it only around the liver (use the "liver-segments" set).',
      },
    ],
    set: {
      members: [
        { model: 'totalsegmentator-fast', classes: ['liver'] },
        { model: 'liver-segments-network', crop: { to: ['liver'], marginMm: 20 } },
      ],
      labels: [...Array.from({ length: 8 }, (_, n) => `liver_segment_${n + 1}`), 'liver'],
    },
  },
  {
    name: 'body',
    title: 'TotalSegmentator body (trunk and extremities, 1.5 mm)',
    description: 'The body outline split into trunk and extremities (TotalSegmentator "body").',
    license: 'Apache-2.0',
    limits: 'The whole body volume in two parts (trunk, extremities); no skin layer, fat or muscle of its own. Blankets, cushions and the table are usually, but not always, left out.',
    references: [TS_PAPER, TS_CODE],
    zips: [
      {
        datasetId: 299,
        folder: 'Dataset299_body_1559subj',
        release: 'v2.0.0-weights',
        bundleId: 'body',
        name: 'TotalSegmentator body (trunk and extremities, 1.5 mm)',
        classes: ['body_trunc', 'body_extremities'],
        spacingXyz: [1.5, 1.5, 1.5],
        limits: 'The whole body volume in two parts (trunk, extremities); no skin layer, fat or muscle of its own.',
      },
    ],
  },
];

/** The release zip's address under a base URL. */
export function releaseUrl(zip: ReleaseZip, base = TOTALSEGMENTATOR_RELEASES): string {
  return `${base.replace(/\/+$/, '')}/${zip.release}/${zip.folder}.zip`;
}
