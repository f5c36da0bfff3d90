/**
 * A procedural CT torso with its exact label map: the ground truth that tests, benchmarks and the demo
 * use wherever real patient data cannot go.
 *
 * The anatomy is a list of solid shapes (ellipsoids, capsules, elliptic cylinders and a few custom
 * regions) in body coordinates: millimetres from the body centre along L (patient left), P (posterior)
 * and S (superior). They are painted in order onto an LPS voxel grid, each evaluated only inside its own
 * bounding box; a voxel belongs to the last shape that contains its centre, so the label map is exact.
 * Skin, fat and muscle come first, then the body cavities, organs, vessels, the airway and the bones.
 * The CT value of a voxel is its tissue's Hounsfield value plus seeded Gaussian noise.
 *
 * Label ids and names are TotalSegmentator v2's (`classes_total_v2.json`); `skin`, `subcutaneous_fat`
 * and `skeletal_muscle` use ids 200–202. The CT couch is painted but never labelled.
 */
import { composeAffine, type Vec3 } from '../../mesh/grid.ts';
import { HolocaseError } from '../errors.ts';
import { parseOrientationCode, reorient } from './reorient.ts';
import type { Volume } from './volume.ts';

export interface PhantomOptions {
  /** Voxel size along the output's first, second and third axis in mm (default 1.5, 1.5, 1.5). */
  spacingMm?: Vec3;
  /** Orientation code of the output voxel axes, e.g. `LPS`, `RAS`, `PIR` (default `LPS`). */
  orientation?: string;
  /** Standard deviation of the Gaussian noise added to every voxel, in HU (default 15; 0 for none). */
  noiseHu?: number;
  /** Seed of the noise generator: the same seed gives the same volume (default 1). */
  seed?: number;
  /** Contrast-enhanced (portal-venous-like) phase: bright aorta, IVC and organs (default true). */
  contrast?: boolean;
  /** A curved CT couch (carbon plate and foam) under the patient's back; never labelled (default true). */
  table?: boolean;
  /** Field of view in mm along L–R, A–P and S–I (default 380 × 280 × 520). */
  fieldOfViewMm?: Vec3;
  /** LPS position of the field of view's centre in mm (default 0, 30, −250: a plausible scanner position). */
  centerLpsMm?: Vec3;
}

export const DEFAULTS: Required<PhantomOptions> = {
  spacingMm: [1.5, 1.5, 1.5],
  orientation: 'LPS',
  noiseHu: 15,
  seed: 1,
  contrast: true,
  table: true,
  fieldOfViewMm: [380, 280, 520],
  centerLpsMm: [0, 30, -250],
};

export interface Phantom {
  /** Hounsfield units, clipped to [−1024, 3071]. */
  ct: Volume<Int16Array>;
  /** Exact label map on the same grid as `ct`. */
  labels: Volume<Uint8Array>;
  /** Label id → structure name, for the labels present. */
  table: Record<number, string>;
}

/** Label ids of every structure the phantom draws (TotalSegmentator v2 ids; 200–202 are extras). */
export const PHANTOM_LABELS = {
  spleen: 1,
  kidney_right: 2,
  kidney_left: 3,
  liver: 5,
  stomach: 6,
  lung_upper_lobe_left: 10,
  lung_lower_lobe_left: 11,
  lung_upper_lobe_right: 12,
  lung_middle_lobe_right: 13,
  lung_lower_lobe_right: 14,
  esophagus: 15,
  trachea: 16,
  urinary_bladder: 21,
  sacrum: 25,
  vertebrae_L5: 27,
  vertebrae_L4: 28,
  vertebrae_L3: 29,
  vertebrae_L2: 30,
  vertebrae_L1: 31,
  vertebrae_T12: 32,
  vertebrae_T11: 33,
  vertebrae_T10: 34,
  vertebrae_T9: 35,
  vertebrae_T8: 36,
  vertebrae_T7: 37,
  vertebrae_T6: 38,
  vertebrae_T5: 39,
  vertebrae_T4: 40,
  vertebrae_T3: 41,
  vertebrae_T2: 42,
  vertebrae_T1: 43,
  heart: 51,
  aorta: 52,
  inferior_vena_cava: 63,
  iliac_artery_left: 65,
  iliac_artery_right: 66,
  iliac_vena_left: 67,
  iliac_vena_right: 68,
  femur_left: 75,
  femur_right: 76,
  hip_left: 77,
  hip_right: 78,
  spinal_cord: 79,
  rib_left_1: 92, rib_left_2: 93, rib_left_3: 94, rib_left_4: 95, rib_left_5: 96, rib_left_6: 97,
  rib_left_7: 98, rib_left_8: 99, rib_left_9: 100, rib_left_10: 101, rib_left_11: 102, rib_left_12: 103,
  rib_right_1: 104, rib_right_2: 105, rib_right_3: 106, rib_right_4: 107, rib_right_5: 108, rib_right_6: 109,
  rib_right_7: 110, rib_right_8: 111, rib_right_9: 112, rib_right_10: 113, rib_right_11: 114, rib_right_12: 115,
  sternum: 116,
  costal_cartilages: 117,
  skin: 200,
  subcutaneous_fat: 201,
  skeletal_muscle: 202,
} as const satisfies Record<string, number>;

type StructureName = keyof typeof PHANTOM_LABELS;

/** Tissue Hounsfield values: [plain, contrast-enhanced]. */
const HU = {
  air: [-1000, -1000],
  skin: [20, 25],
  fat: [-100, -100],
  visceralFat: [-90, -90],
  mediastinum: [-70, -65],
  muscle: [50, 60],
  lung: [-850, -850],
  airwayWall: [60, 70],
  liver: [55, 110],
  spleen: [45, 120],
  kidney: [30, 150],
  heart: [40, 180],
  stomach: [25, 45],
  esophagus: [40, 60],
  bowel: [30, 50],
  stool: [10, 10],
  bladder: [10, 10],
  artery: [40, 280],
  vein: [40, 165],
  cord: [30, 30],
  csf: [10, 10],
  disc: [80, 85],
  cortical: [850, 850],
  cancellous: [250, 250],
  arch: [700, 700],
  sternumCortex: [650, 650],
  hipCortex: [700, 700],
  femurCortex: [1200, 1200],
  marrow: [40, 40],
  cartilage: [120, 120],
  couchPlate: [450, 450],
  couchFoam: [-880, -880],
} as const satisfies Record<string, readonly [number, number]>;

// ---------------------------------------------------------------------------------------------------
// Geometry: solid shapes in body coordinates (x = L, y = P, z = S, mm from the body centre).

/** Axis-aligned bounds `[x0, y0, z0, x1, y1, z1]`. */
type Box = [number, number, number, number, number, number];

interface Solid {
  box: Box;
  inside: (x: number, y: number, z: number) => boolean;
  /**
   * Optional shortcut: the x-range `[x0, x1]` that holds every inside point of row (y, z), or null when
   * the row holds none. With `exact`, every point of the range is inside and `inside` is not asked.
   */
  span?: (y: number, z: number) => [number, number] | null;
  exact?: boolean;
}

interface Shape extends Solid {
  label: number;
  hu: number;
}

type Point = Vec3;

function sphere(c: Point, r: number): Solid {
  return ellipsoid(c, [r, r, r]);
}

/** Ellipsoid with semi-axes `r` along `axes` (unit vectors; default the body axes). */
function ellipsoid(c: Point, r: Vec3, axes: [Vec3, Vec3, Vec3] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]): Solid {
  const half = [0, 1, 2].map((w) => Math.hypot(axes[0][w] * r[0], axes[1][w] * r[1], axes[2][w] * r[2]));
  const a = axes.map((v, n) => v.map((e) => e / r[n]));
  const aligned = axes.every((v, n) => v[n] === 1);
  return {
    span: aligned ? (y, z) => {
      const q = 1 - ((y - c[1]) / r[1]) ** 2 - ((z - c[2]) / r[2]) ** 2;
      if (q < 0) return null;
      const h = r[0] * Math.sqrt(q);
      return [c[0] - h, c[0] + h];
    } : undefined,
    box: [c[0] - half[0], c[1] - half[1], c[2] - half[2], c[0] + half[0], c[1] + half[1], c[2] + half[2]],
    inside: (x, y, z) => {
      const dx = x - c[0], dy = y - c[1], dz = z - c[2];
      const u = a[0][0] * dx + a[0][1] * dy + a[0][2] * dz;
      const v = a[1][0] * dx + a[1][1] * dy + a[1][2] * dz;
      const w = a[2][0] * dx + a[2][1] * dy + a[2][2] * dz;
      return u * u + v * v + w * w <= 1;
    },
  };
}

/** Axes of an ellipsoid turned by `deg` about the S axis (positive turns +L towards +P). */
function turnedAboutS(deg: number): [Vec3, Vec3, Vec3] {
  const t = (deg * Math.PI) / 180;
  return [[Math.cos(t), Math.sin(t), 0], [-Math.sin(t), Math.cos(t), 0], [0, 0, 1]];
}

/** A segment swept by a sphere whose radius runs linearly from `ra` to `rb`. */
function capsule(a: Point, b: Point, ra: number, rb = ra): Solid {
  const ab = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
  const len2 = ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2] || 1;
  const r = Math.max(ra, rb);
  return {
    box: [
      Math.min(a[0], b[0]) - r, Math.min(a[1], b[1]) - r, Math.min(a[2], b[2]) - r,
      Math.max(a[0], b[0]) + r, Math.max(a[1], b[1]) + r, Math.max(a[2], b[2]) + r,
    ],
    inside: (x, y, z) => {
      const px = x - a[0], py = y - a[1], pz = z - a[2];
      let t = (px * ab[0] + py * ab[1] + pz * ab[2]) / len2;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const dx = px - t * ab[0], dy = py - t * ab[1], dz = pz - t * ab[2];
      const rr = ra + (rb - ra) * t;
      return dx * dx + dy * dy + dz * dz <= rr * rr;
    },
  };
}

/** A chain of capsules through `points` (`[x, y, z, radius]`). */
function tube(points: number[][]): Solid[] {
  const out: Solid[] = [];
  for (let n = 1; n < points.length; n++) {
    const p = points[n - 1], q = points[n];
    out.push(capsule([p[0], p[1], p[2]], [q[0], q[1], q[2]], p[3], q[3]));
  }
  return out;
}

/** Elliptic cylinder along S: centre (cx, cy), semi-axes rx, ry, from z0 to z1. */
function cylinderS(cx: number, cy: number, rx: number, ry: number, z0: number, z1: number): Solid {
  return {
    box: [cx - rx, cy - ry, z0, cx + rx, cy + ry, z1],
    inside: (x, y) => {
      const u = (x - cx) / rx, v = (y - cy) / ry;
      return u * u + v * v <= 1;
    },
    span: (y) => {
      const q = 1 - ((y - cy) / ry) ** 2;
      if (q < 0) return null;
      const h = rx * Math.sqrt(q);
      return [cx - h, cx + h];
    },
  };
}

/** A ring around an S-directed axis: radius between rIn and rOut, from z0 to z1. */
function ringS(cx: number, cy: number, rIn: number, rOut: number, z0: number, z1: number): Solid {
  return {
    box: [cx - rOut, cy - rOut, z0, cx + rOut, cy + rOut, z1],
    inside: (x, y) => {
      const d2 = (x - cx) ** 2 + (y - cy) ** 2;
      return d2 <= rOut * rOut && d2 >= rIn * rIn;
    },
  };
}

/** `solid` restricted to where `keep` holds (same bounding box). */
function clip(solid: Solid, keep: (x: number, y: number, z: number) => boolean): Solid {
  return { box: solid.box, span: solid.span, inside: (x, y, z) => solid.inside(x, y, z) && keep(x, y, z) };
}

/**
 * A piecewise-linear function of z with several columns, `rows` = `[z, v1, v2, …]`: `f(z, c)` is column
 * `c` (0 for v1) at height z. The last z's row is memoised because the painter visits voxels slice by slice.
 */
function profile(rows: number[][]): (z: number, column: number) => number {
  const sorted = [...rows].sort((a, b) => a[0] - b[0]);
  const row = new Float64Array(sorted[0].length - 1);
  let last = NaN;
  return (z, column) => {
    if (z !== last) {
      last = z;
      let n = 1;
      while (n < sorted.length - 1 && sorted[n][0] < z) n++;
      const a = sorted[n - 1], b = sorted[n];
      const t = Math.min(1, Math.max(0, (z - a[0]) / (b[0] - a[0])));
      for (let c = 0; c < row.length; c++) row[c] = a[c + 1] + (b[c + 1] - a[c + 1]) * t;
    }
    return row[column];
  };
}

// ---------------------------------------------------------------------------------------------------
// Anatomy.

/** Body outline: [z, half-width (L–R), half-depth (A–P), subcutaneous fat thickness]. */
const BODY = profile([
  [300, 175, 108, 12], [200, 172, 110, 12], [120, 168, 112, 12], [40, 166, 115, 16],
  [-40, 163, 118, 21], [-110, 166, 116, 24], [-170, 175, 110, 25], [-300, 172, 104, 24],
]);
/** The back lies flat on the couch at this depth (mm posterior of the body centre). */
const BACK_Y = 108;
const SKIN_MM = 2.5;

/** Inner surface of the chest and abdominal wall: [z, half-width, half-depth, centre y]. */
const CAVITY = profile([
  [252, 0.1, 0.1, 8], [244, 40, 32, 5], [230, 75, 52, 2], [205, 102, 66, 0], [160, 120, 74, -3],
  [100, 128, 76, -5], [40, 126, 76, -5], [-20, 120, 78, -6], [-90, 122, 82, -8], [-140, 112, 80, -5],
  [-190, 85, 68, 0], [-230, 60, 55, 0], [-246, 40, 40, 0], [-252, 0.1, 0.1, 0],
]);
const CAVITY_TOP = 252;
const CAVITY_BOTTOM = -252;

/** Spine: [z, centre y of the vertebral bodies, body half-width, body half-depth]. */
const SPINE = profile([
  [300, 22, 13, 10], [230, 25, 14, 11], [150, 36, 16, 13], [80, 40, 18, 14.5], [10, 34, 21, 16],
  [-60, 20, 24, 17.5], [-126, 24, 26, 19], [-150, 35, 26, 19], [-190, 55, 26, 19], [-260, 80, 26, 19],
]);

/** Diaphragm: height of the domes' lower surface at (x, y); the right dome is higher (liver). */
function diaphragm(x: number, y: number): number {
  const yy = ((y + 5) / 90) ** 2;
  const right = 55 - 55 * (((x + 60) / 110) ** 2 + yy);
  const left = 42 - 55 * (((x - 60) / 110) ** 2 + yy);
  return right > left ? right : left;
}
const DIAPHRAGM_MM = 5;

/** The body outline less its outer layers: 0 = whole body, 1 = within the skin, 2 = within the fat. */
function bodyLayer(layer: 0 | 1 | 2): Solid {
  const span = (y: number, z: number): [number, number] | null => {
    const shrink = layer === 0 ? 0 : layer === 1 ? SKIN_MM : SKIN_MM + BODY(z, 2);
    if (y > BACK_Y - shrink) return null;
    const q = 1 - (y / (BODY(z, 1) - shrink)) ** 2;
    if (q < 0) return null;
    const h = (BODY(z, 0) - shrink) * Math.sqrt(q);
    return [-h, h];
  };
  return {
    box: [-190, -130, -400, 190, BACK_Y, 400],
    span,
    exact: true,
    inside: (x, y, z) => {
      const r = span(y, z);
      return r !== null && x >= r[0] && x <= r[1];
    },
  };
}

/** Inside the chest/abdominal wall, excluding the paraspinal muscles behind the spine. */
function insideCavity(x: number, y: number, z: number): boolean {
  if (z > CAVITY_TOP || z < CAVITY_BOTTOM) return false;
  const u = x / CAVITY(z, 0), v = (y - CAVITY(z, 2)) / CAVITY(z, 1);
  if (u * u + v * v > 1) return false;
  return !(x < 45 && x > -45 && y > SPINE(z, 0) + 12);
}

/** The x-range of the cavity's outline on row (y, z), or null. */
function cavitySpan(y: number, z: number): [number, number] | null {
  if (z > CAVITY_TOP || z < CAVITY_BOTTOM) return null;
  const q = 1 - ((y - CAVITY(z, 2)) / CAVITY(z, 1)) ** 2;
  if (q < 0) return null;
  const h = CAVITY(z, 0) * Math.sqrt(q);
  return [-h, h];
}

interface Vertebra {
  name: StructureName;
  top: number;
  bottom: number;
  lumbar: boolean;
}

/** T1–T12 then L1–L5, superior to inferior, with body heights of 16 mm (T) and 22 mm (L). */
function vertebrae(): Vertebra[] {
  const out: Vertebra[] = [];
  let top = 238;
  for (let n = 1; n <= 12; n++) {
    out.push({ name: `vertebrae_T${n}` as StructureName, top, bottom: top - 16, lumbar: false });
    top -= n === 12 ? 21 : 20;
  }
  for (let n = 1; n <= 5; n++) {
    out.push({ name: `vertebrae_L${n}` as StructureName, top, bottom: top - 22, lumbar: true });
    top -= 28;
  }
  return out;
}

/** Spinal canal: centre y and radius at height z. */
function canal(z: number): { y: number; r: number } {
  const r = z > 0 ? 8 : 10;
  return { y: SPINE(z, 0) + SPINE(z, 2) + r + 0.5, r };
}

interface Painter {
  add(solids: Solid | Solid[], label: StructureName | 0, tissue: keyof typeof HU): void;
}

function buildAnatomy(paint: Painter, options: { table: boolean }): void {
  // 1. The couch: a curved carbon plate with a foam core under the patient's back (never labelled).
  if (options.table) {
    const centreY = BACK_Y + 2 - 700;
    const shell = (r0: number, r1: number): Solid => ({
      box: [-185, BACK_Y - 25, -400, 185, BACK_Y + 24, 400],
      inside: (x, y) => {
        const d2 = x * x + (y - centreY) ** 2;
        return d2 >= r0 * r0 && d2 <= r1 * r1;
      },
    });
    paint.add(shell(700, 720), 0, 'couchPlate');
    paint.add(shell(703, 717), 0, 'couchFoam');
  }

  // 2. Body wall: skin, subcutaneous fat, muscle (each a filled outline, the next painted inside it).
  paint.add(bodyLayer(0), 'skin', 'skin');
  paint.add(bodyLayer(1), 'subcutaneous_fat', 'fat');
  paint.add(bodyLayer(2), 'skeletal_muscle', 'muscle');

  // 3. Body cavities (unlabelled): mediastinal fat above the diaphragm, visceral fat below it.
  const cavityBox: Box = [-130, -90, CAVITY_BOTTOM, 130, 90, CAVITY_TOP];
  paint.add({ box: cavityBox, span: cavitySpan, inside: (x, y, z) => z > diaphragm(x, y) + DIAPHRAGM_MM && insideCavity(x, y, z) }, 0, 'mediastinum');
  const belly = (x: number, y: number, z: number): boolean => z < diaphragm(x, y) && insideCavity(x, y, z);
  paint.add({ box: cavityBox, span: cavitySpan, inside: belly }, 0, 'visceralFat');

  // 4. Bowel (unlabelled): small-bowel loops, the colon frame with gas in the transverse colon.
  const loops: number[][] = [
    [-40, -50, -40, 16], [10, -55, -50, 16], [50, -45, -70, 16], [20, -40, -95, 16], [-30, -45, -100, 16],
    [-55, -30, -130, 15], [-10, -35, -135, 15], [35, -30, -125, 15], [40, -20, -155, 14], [-5, -20, -165, 14],
  ];
  paint.add(tube(loops).map((s) => clip(s, belly)), 0, 'bowel');
  const colonAscending = [[-100, -5, -140, 20], [-102, -15, -40, 20], [-85, -45, -30, 20]];
  const colonTransverse = [[-85, -45, -30, 20], [0, -62, -45, 20], [85, -45, -20, 20]];
  const colonDescending = [[85, -45, -20, 20], [100, -5, -40, 19], [95, 0, -140, 18], [45, 5, -185, 16]];
  paint.add([...tube(colonAscending), ...tube(colonTransverse), ...tube(colonDescending)].map((s) => clip(s, belly)), 0, 'bowel');
  paint.add(tube(colonAscending.map((p) => [p[0], p[1], p[2], p[3] - 4])).map((s) => clip(s, belly)), 0, 'stool');
  paint.add(tube(colonDescending.map((p) => [p[0], p[1], p[2], p[3] - 4])).map((s) => clip(s, belly)), 0, 'stool');
  paint.add(tube(colonTransverse.map((p) => [p[0], p[1], p[2], p[3] - 4])).map((s) => clip(s, belly)), 0, 'air');

  // 5. Psoas muscles beside the lumbar spine, into the pelvis.
  for (const s of [1, -1]) {
    const psoas = [[s * 24, 34, 8, 8], [s * 38, 26, -60, 15], [s * 52, 20, -120, 20], [s * 62, 0, -180, 17], [s * 70, -20, -215, 13]];
    paint.add(tube(psoas), 'skeletal_muscle', 'muscle');
  }

  // 6. Intervertebral discs: the spinal column as soft tissue; vertebral bodies are painted over it.
  paint.add({
    box: [-30, 0, -140, 30, 65, 240],
    inside: (x, y, z) => {
      return (x / SPINE(z, 1)) ** 2 + ((y - SPINE(z, 0)) / SPINE(z, 2)) ** 2 <= 1;
    },
  }, 0, 'disc');

  // 7. Lungs, split into lobes by the oblique fissures and the right horizontal fissure.
  const obliqueFissure = (y: number): number => 60 + 0.81 * (y + 70);
  const lung = (side: number) => (x: number, y: number, z: number): boolean =>
    side * x > 20 && z > diaphragm(x, y) + DIAPHRAGM_MM && insideCavity(x, y, z);
  const left = lung(1), right = lung(-1);
  const leftBox: Box = [18, -90, -30, 130, 90, CAVITY_TOP];
  const rightBox: Box = [-130, -90, -30, -18, 90, CAVITY_TOP];
  const lungSpan = { span: cavitySpan };
  paint.add({ ...lungSpan, box: leftBox, inside: (x, y, z) => left(x, y, z) && z > obliqueFissure(y) }, 'lung_upper_lobe_left', 'lung');
  paint.add({ ...lungSpan, box: leftBox, inside: (x, y, z) => left(x, y, z) && z <= obliqueFissure(y) }, 'lung_lower_lobe_left', 'lung');
  paint.add({ ...lungSpan, box: rightBox, inside: (x, y, z) => right(x, y, z) && z > obliqueFissure(y) && z > 120 }, 'lung_upper_lobe_right', 'lung');
  paint.add({ ...lungSpan, box: rightBox, inside: (x, y, z) => right(x, y, z) && z > obliqueFissure(y) && z <= 120 }, 'lung_middle_lobe_right', 'lung');
  paint.add({ ...lungSpan, box: rightBox, inside: (x, y, z) => right(x, y, z) && z <= obliqueFissure(y) }, 'lung_lower_lobe_right', 'lung');

  // 8. Abdominal organs under the diaphragm, and the heart on it.
  const underDome = (x: number, y: number, z: number): boolean => belly(x, y, z) && z < diaphragm(x, y) - 1;
  paint.add(clip(ellipsoid([-45, -5, 0], [100, 88, 75]), (x, y, z) => underDome(x, y, z) && z > -75 + 0.35 * (x + 45)), 'liver', 'liver');
  const stomachCentre: Point = [55, -22, 8];
  paint.add(clip(ellipsoid(stomachCentre, [36, 30, 42], turnedAboutS(-20)), underDome), 'stomach', 'stomach');
  paint.add(clip(ellipsoid(stomachCentre, [36, 30, 42], turnedAboutS(-20)), (x, y, z) => underDome(x, y, z) && y < stomachCentre[1] - 16), 'stomach', 'air');
  paint.add(clip(ellipsoid([84, 42, 2], [26, 60, 50], turnedAboutS(35)), underDome), 'spleen', 'spleen');
  paint.add(clip(ellipsoid([-68, 45, -42], [24, 21, 52]), belly), 'kidney_right', 'kidney');
  paint.add(clip(ellipsoid([68, 45, -28], [24, 21, 52]), belly), 'kidney_left', 'kidney');
  paint.add(clip(ellipsoid([0, -35, -215], [42, 30, 28]), belly), 'urinary_bladder', 'bladder');
  paint.add(clip(ellipsoid([12, -35, 92], [58, 46, 52]), (x, y, z) => z > diaphragm(x, y) + DIAPHRAGM_MM && insideCavity(x, y, z)), 'heart', 'heart');

  // 9. Esophagus: behind the trachea, in front of the spine, through the diaphragm into the stomach.
  const front = (z: number, gap: number): number => SPINE(z, 0) - SPINE(z, 2) - gap;
  paint.add(tube([[2, front(260, 9), 262, 8], [3, front(200, 9), 200, 8], [5, front(120, 9), 120, 8],
    [12, front(60, 14), 60, 8], [30, -8, 30, 8], [stomachCentre[0] - 20, stomachCentre[1] + 6, 12, 8]]), 'esophagus', 'esophagus');

  // 10. Veins (IVC into the right atrium, iliac veins), then arteries (aorta with its arch, iliacs).
  const ivc = [[-20, front(-118, 2), -118, 11], [-24, front(-60, 8), -60, 12], [-27, 8, 0, 13], [-29, 0, 40, 13], [-28, -16, 72, 12]];
  paint.add(tube(ivc), 'inferior_vena_cava', 'vein');
  for (const [s, name] of [[1, 'iliac_vena_left'], [-1, 'iliac_vena_right']] as const) {
    paint.add(tube([[-20, front(-118, 2), -118, 10], [s * 45, 8, -145, 9], [s * 58, -5, -178, 8], [s * 55, -40, -205, 7], [s * 66, -40, -240, 7], [s * 68, -40, -270, 7]]), name, 'vein');
  }
  const aortaAt = profile([[165, 30, -15, 12], [60, 24, -6, 12], [20, 16, 14, 11], [-105, 12, 15, 10]]);
  const aorta: number[][] = [[8, -38, 105, 14], [-2, -38, 150, 15], [4, -36, 183, 14], [18, -30, 193, 13], [30, -12, 190, 12], [31, 8, 178, 12]];
  for (let z = 165; z >= -105; z -= 15) {
    aorta.push([aortaAt(z, 0), front(z, aortaAt(z, 1)), z, aortaAt(z, 2)]);
  }
  const bifurcation = aorta[aorta.length - 1];
  for (const [s, name] of [[1, 'iliac_artery_left'], [-1, 'iliac_artery_right']] as const) {
    paint.add(tube([[bifurcation[0], bifurcation[1], bifurcation[2], 8], [s * 35, -6, -135, 7], [s * 58, -20, -175, 6.5], [s * 70, -45, -205, 6], [s * 82, -47, -240, 6], [s * 85, -47, -270, 6]]), name, 'artery');
  }
  paint.add(tube(aorta), 'aorta', 'artery');

  // 11. Airway: trachea down to the carina, main bronchi into each lung (wall unlabelled, air labelled).
  const carina: number[] = [0, -8, 152];
  const trachea = [[0, -15, 265], [0, -13, 200], carina];
  const bronchusRight = [carina, [-32, -5, 132], [-50, -2, 120]];
  const bronchusLeft = [carina, [30, -4, 140], [50, 0, 126]];
  paint.add(tube(trachea.map((p) => [p[0], p[1], p[2], 10])), 0, 'airwayWall');
  paint.add(tube(bronchusRight.map((p) => [p[0], p[1], p[2], 7.5])), 0, 'airwayWall');
  paint.add(tube(bronchusLeft.map((p) => [p[0], p[1], p[2], 7])), 0, 'airwayWall');
  // The lumen runs past the end of the wall so the bronchi open into the lungs.
  paint.add(tube(trachea.map((p) => [p[0], p[1], p[2], 8])), 'trachea', 'air');
  paint.add(tube([...bronchusRight, [-62, 0, 113]].map((p) => [p[0], p[1], p[2], 5.5])), 'trachea', 'air');
  paint.add(tube([...bronchusLeft, [62, 2, 119]].map((p) => [p[0], p[1], p[2], 5])), 'trachea', 'air');

  // 12. Ribs: from each thoracic vertebra around the chest wall, sloping down towards the front;
  // ribs 1–7 reach the sternum through costal cartilage.
  const column = vertebrae();
  const sternumZ = [0, 195, 178, 162, 146, 130, 114, 100];
  const ribEnd = [0, 2.5, 2.72, 2.72, 2.72, 2.72, 2.72, 2.72, 2.45, 2.25, 2.05, 1.55, 1.15];
  for (let n = 1; n <= 12; n++) {
    const v = column[n - 1];
    const zv = (v.top + v.bottom) / 2;
    const spineY = SPINE(zv, 0), spineHalfWidth = SPINE(zv, 1);
    const drop = n === 1 ? 40 : n <= 10 ? 50 + 3 * n : n === 11 ? 35 : 22;
    for (const [s, side] of [[1, 'left'], [-1, 'right']] as const) {
      const path: number[][] = [[s * (spineHalfWidth + 3), spineY + 2, zv, 4.5], [s * (spineHalfWidth + 22), spineY + 22, zv - 2, 4.5]];
      const start = Math.asin(Math.min(0.95, (spineHalfWidth + 37) / (CAVITY(zv - 4, 0) + 10)));
      const steps = 14;
      for (let t = 0; t <= steps; t++) {
        const phi = start + ((ribEnd[n] - start) * t) / steps;
        const z = zv - 4 - drop * ((phi - start) / (Math.PI - start)) ** 1.3;
        path.push([s * (CAVITY(z, 0) + 9) * Math.sin(phi), CAVITY(z, 2) + (CAVITY(z, 1) + 9) * Math.cos(phi), z, 4.5]);
      }
      paint.add(tube(path), `rib_${side}_${n}` as StructureName, 'cortical');
      paint.add(tube(path.map((p) => [p[0], p[1], p[2], 2.5])), `rib_${side}_${n}` as StructureName, 'cancellous');
      if (n <= 7) {
        const end = path[path.length - 1];
        paint.add(tube([end, [s * (n === 1 ? 24 : 16), -88, sternumZ[n], 4]]), 'costal_cartilages', 'cartilage');
      }
    }
  }

  // 13. Sternum: manubrium, body and xiphoid (cortex and marrow).
  for (const [shrink, tissue] of [[0, 'sternumCortex'], [2, 'cancellous']] as const) {
    paint.add(cylinderS(0, -90, 25 - shrink, 6 - shrink, 172 + shrink, 205 - shrink), 'sternum', tissue);
    paint.add(cylinderS(0, -90, 16 - shrink, 6 - shrink, 88 + shrink, 172), 'sternum', tissue);
    paint.add(capsule([0, -89, 88], [0, -82, 66], 4 - shrink / 2), 'sternum', tissue);
  }

  // 14. Vertebrae T1–L5: body (cortex, cancellous core), pedicles and lamina, transverse and spinous processes.
  for (const v of column) {
    const zc = (v.top + v.bottom) / 2;
    const ys = SPINE(zc, 0), rx = SPINE(zc, 1), ry = SPINE(zc, 2);
    const cn = canal(zc);
    const archT = v.lumbar ? 6 : 5;
    paint.add(ringS(0, cn.y, cn.r, cn.r + archT, v.bottom + 2, v.top - 1), v.name, 'arch');
    for (const s of [1, -1]) {
      paint.add(capsule([s * (cn.r + 2), cn.y, zc + 2], [s * (cn.r + (v.lumbar ? 30 : 22)), cn.y + (v.lumbar ? -2 : 8), zc + 2], v.lumbar ? 4.5 : 4), v.name, 'arch');
    }
    paint.add(capsule([0, cn.y + cn.r + 2, zc], [0, cn.y + cn.r + (v.lumbar ? 20 : 22), zc - (v.lumbar ? 4 : 14)], v.lumbar ? 5.5 : 4), v.name, 'arch');
    paint.add(cylinderS(0, ys, rx, ry, v.bottom, v.top), v.name, 'cortical');
    paint.add(cylinderS(0, ys, rx - 2, ry - 2, v.bottom + 1.5, v.top - 1.5), v.name, 'cancellous');
  }

  // 15. Sacrum: a tapering plate curving backwards below L5.
  const sacrumTop = column[column.length - 1].bottom - 6;
  const sacrum = (shrink: number): Solid => ({
    box: [-55, 0, -232, 55, 100, sacrumTop],
    inside: (x, y, z) => {
      if (z > sacrumTop - shrink || z < -230 + shrink) return false;
      const t = (sacrumTop - z) / (sacrumTop + 230);
      const w = 52 - 38 * t - shrink, d = 20 - 11 * t - shrink;
      return (x / w) ** 2 + ((y - SPINE(z, 0) - 5) / d) ** 2 <= 1;
    },
  });
  paint.add(sacrum(0), 'sacrum', 'arch');
  paint.add(sacrum(3), 'sacrum', 'cancellous');

  // 16. Spinal canal: CSF throughout, the cord down to L2.
  const canalPath = (zTop: number, zBottom: number, shrink: number): number[][] => {
    const pts: number[][] = [];
    for (let z = zTop; z > zBottom - 10; z -= 10) {
      const zz = Math.max(z, zBottom);
      const c = canal(zz);
      pts.push([0, c.y, zz, c.r - shrink]);
    }
    return pts;
  };
  paint.add(tube(canalPath(262, -150, 0.5)), 0, 'csf');
  paint.add(tube(canalPath(262, -40, 2.5)), 'spinal_cord', 'cord');

  // 17. Hip bones: iliac wings, acetabular cups, pubic and ischial rami; then the femora.
  for (const [s, side] of [[1, 'left'], [-1, 'right']] as const) {
    const hip = `hip_${side}` as StructureName;
    const wing = (half: number): Solid => ({
      box: [s > 0 ? 0 : -150, -80, -190, s > 0 ? 150 : 0, 90, -95],
      inside: (x, y, z) => {
        const u = s * x;
        const t = (-95 - z) / 90;
        const ax = 85 - 45 * t, ay = 55 - 25 * t;
        const du = (u - 55) / ax, dv = (y - 15) / ay;
        const theta = Math.atan2(dv, du);
        if (theta < -1.1 || theta > 1.55) return false;
        return Math.abs(Math.hypot(du, dv) - 1) * Math.min(ax, ay) <= half;
      },
    });
    paint.add(wing(5), hip, 'hipCortex');
    paint.add(wing(2.5), hip, 'cancellous');
    paint.add(capsule([s * 52, 62, -150], [s * 42, 48, -185], 9), hip, 'hipCortex');
    const head: Point = [s * 88, -8, -205];
    const opening: Vec3 = [s * 0.72, 0, -0.69];
    const cup = (r: number): Solid => clip(sphere(head, r), (x, y, z) => {
      const dx = x - head[0], dy = y - head[1], dz = z - head[2];
      return dx * opening[0] + dy * opening[1] + dz * opening[2] < 6 && dx * dx + dy * dy + dz * dz >= 25.5 * 25.5;
    });
    paint.add(cup(33), hip, 'hipCortex');
    paint.add(cup(30), hip, 'cancellous');
    for (const [a, b, r] of [
      [[s * 70, -25, -210], [s * 14, -62, -228], 8],
      [[s * 14, -62, -228], [s * 20, -50, -252], 7],
      [[s * 78, 10, -220], [s * 60, 25, -258], 10],
      [[s * 60, 25, -258], [s * 20, -50, -252], 6],
    ] as const) {
      paint.add(capsule(a as Point, b as Point, r), hip, 'hipCortex');
      paint.add(capsule(a as Point, b as Point, r - 3), hip, 'cancellous');
    }
    const femur = `femur_${side}` as StructureName;
    const neck: Point = [s * 122, 0, -228];
    paint.add(capsule(neck, [s * 112, -8, -330], 15), femur, 'femurCortex');
    paint.add(capsule(neck, [s * 112, -8, -330], 9), femur, 'marrow');
    paint.add(sphere([s * 128, 6, -226], 16), femur, 'hipCortex');
    paint.add(sphere([s * 128, 6, -226], 13), femur, 'cancellous');
    paint.add(capsule(head, neck, 14), femur, 'hipCortex');
    paint.add(capsule(head, neck, 10), femur, 'cancellous');
    paint.add(sphere(head, 24), femur, 'hipCortex');
    paint.add(sphere(head, 21), femur, 'cancellous');
  }
}

// ---------------------------------------------------------------------------------------------------
// Rasterizing.

/** Seeded generator of uniform 32-bit integers (sfc32, seeded through splitmix32). */
function uniformGenerator(seed: number): () => number {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = next(), b = next(), c = next(), d = next();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t;
  };
}

/**
 * Gaussian noise in whole HU: the 65,536 quantiles (n + ½)/65,536 of a normal distribution with
 * standard deviation `sigma`, so a uniform 16-bit index draws a normal sample (tails cut at ±4.2σ).
 */
function gaussianTable(sigma: number): Int16Array {
  const table = new Int16Array(65536);
  for (let n = 0; n < table.length; n++) table[n] = Math.round(sigma * normalQuantile((n + 0.5) / table.length));
  return table;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low || p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(p < low ? p : 1 - p));
    const x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    return p < low ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * Makes the phantom: a CT torso in Hounsfield units and its exact label map, on a grid of the given
 * spacing and orientation.
 */
export function makePhantom(options: PhantomOptions = {}): Phantom {
  // Options left undefined take their default.
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const o: Required<PhantomOptions> = { ...DEFAULTS, ...given };
  const orientation = parseOrientationCode(o.orientation);
  const spacingOk = o.spacingMm.length === 3 && o.spacingMm.every((v) => Number.isFinite(v) && v >= 0.2 && v <= 20);
  if (!spacingOk) throw new HolocaseError('BAD_REQUEST', `phantom voxel spacing must be three sizes between 0.2 and 20 mm (got ${o.spacingMm.join(', ')})`);
  if (!(o.noiseHu >= 0 && o.noiseHu <= 1000)) throw new HolocaseError('BAD_REQUEST', `phantom noise must be between 0 and 1000 HU (got ${o.noiseHu})`);
  if (!Number.isInteger(o.seed)) throw new HolocaseError('BAD_REQUEST', `phantom seed must be a whole number (got ${o.seed})`);

  // 1. The LPS grid: the requested spacing belongs to the output axes, so find which LPS axis each feeds.
  const lpsSpacing: Vec3 = [0, 0, 0];
  [...orientation].forEach((code, n) => {
    lpsSpacing['LRPASI'.indexOf(code) >> 1] = o.spacingMm[n];
  });
  const dims = o.fieldOfViewMm.map((fov, a) => Math.max(1, Math.round(fov / lpsSpacing[a]))) as Vec3;
  const [nx, ny, nz] = dims;
  if (nx * ny * nz > 400e6) throw new HolocaseError('INPUT_TOO_LARGE', `a phantom of ${dims.join('×')} voxels is too large; use a coarser spacing`);
  const origin = o.centerLpsMm.map((c, a) => c - ((dims[a] - 1) / 2) * lpsSpacing[a]) as Vec3;
  const affine = composeAffine(origin, lpsSpacing, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);

  // 2. Paint every shape inside its bounding box, in anatomical order (later shapes win).
  const labels = new Uint8Array(nx * ny * nz);
  const hu = new Int16Array(nx * ny * nz).fill(HU.air[o.contrast ? 1 : 0]);
  const [sx, sy, sz] = lpsSpacing;
  // Body coordinates of voxel 0 (the body centre sits at the field of view's centre).
  const x0 = origin[0] - o.centerLpsMm[0], y0 = origin[1] - o.centerLpsMm[1], z0 = origin[2] - o.centerLpsMm[2];
  const first = (lo: number, start: number, step: number): number => Math.max(0, Math.ceil((lo - start) / step - 1e-9));
  const last = (hi: number, start: number, step: number, n: number): number => Math.min(n - 1, Math.floor((hi - start) / step + 1e-9));
  const fill = (shape: Shape): void => {
    const [bx0, by0, bz0, bx1, by1, bz1] = shape.box;
    const i0 = first(bx0, x0, sx), i1 = last(bx1, x0, sx, nx);
    const j0 = first(by0, y0, sy), j1 = last(by1, y0, sy, ny);
    const k0 = first(bz0, z0, sz), k1 = last(bz1, z0, sz, nz);
    const { inside, span, exact, label, hu: value } = shape;
    for (let k = k0; k <= k1; k++) {
      const z = z0 + k * sz;
      for (let j = j0; j <= j1; j++) {
        const y = y0 + j * sy;
        let a = i0, b = i1;
        if (span) {
          const r = span(y, z);
          if (!r) continue;
          a = Math.max(a, first(r[0], x0, sx));
          b = Math.min(b, last(r[1], x0, sx, nx));
        }
        const row = j * nx + k * nx * ny;
        if (exact) {
          if (b >= a) {
            labels.fill(label, row + a, row + b + 1);
            hu.fill(value, row + a, row + b + 1);
          }
          continue;
        }
        for (let i = a, n = row + a; i <= b; i++, n++) {
          if (inside(x0 + i * sx, y, z)) {
            labels[n] = label;
            hu[n] = value;
          }
        }
      }
    }
  };
  buildAnatomy({
    add(solids, name, tissue) {
      const label = name === 0 ? 0 : PHANTOM_LABELS[name];
      const value = HU[tissue][o.contrast ? 1 : 0];
      for (const solid of Array.isArray(solids) ? solids : [solids]) fill({ ...solid, label, hu: value });
    },
  }, { table: o.table });

  // 3. Noise: Gaussian, drawn from a table of 65,536 normal quantiles with the seeded generator.
  if (o.noiseHu > 0) {
    const noise = gaussianTable(o.noiseHu);
    const random = uniformGenerator(o.seed);
    for (let n = 0; n < hu.length; n += 2) {
      const bits = random();
      hu[n] = clampHu(hu[n] + noise[bits & 0xffff]);
      if (n + 1 < hu.length) hu[n + 1] = clampHu(hu[n + 1] + noise[bits >>> 16]);
    }
  }

  // 4. Only the labels that landed on the grid go in the table (a small field of view may miss some).
  const present = new Uint8Array(256);
  for (let n = 0; n < labels.length; n++) present[labels[n]] = 1;
  const table: Record<number, string> = {};
  for (const [name, id] of Object.entries(PHANTOM_LABELS)) if (present[id]) table[id] = name;

  // 5. Reorient both volumes to the requested axis order (exact permutation and flips).
  const meta = {
    source: 'phantom' as const,
    modality: 'CT',
    bodyPart: 'CHEST',
    kvp: 120,
    contrastAgent: o.contrast,
    manufacturer: 'holocase phantom',
    sliceThicknessMm: lpsSpacing[2],
  };
  const ct: Volume<Int16Array> = reorient({ dims, affine, data: hu, meta }, orientation);
  const labelVolume: Volume<Uint8Array> = reorient({ dims: [...dims] as Vec3, affine: [...affine], data: labels, meta: { ...meta } }, orientation);
  return { ct, labels: labelVolume, table };
}

function clampHu(v: number): number {
  return v < -1024 ? -1024 : v > 3071 ? 3071 : v;
}
