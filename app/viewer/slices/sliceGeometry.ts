/**
 * How the three slice views cut the CT grid and lay the cut on the screen, in the radiological
 * convention every PACS viewer uses:
 *
 * - axial: seen from the feet, the patient's right on the screen's left, anterior at the top;
 * - coronal: seen from the front, the patient's right on the screen's left, head at the top;
 * - sagittal: seen from the patient's left, anterior on the screen's left, head at the top.
 *
 * Each view cuts along the voxel axis closest to its anatomical normal (a volume's axes may be
 * permuted or flipped in any way; a slightly oblique one is shown along its nearest axes). A plane's
 * pixels are its voxels: (u, v) along the two other voxel axes in increasing order; `toScreen` maps
 * pixel (u, v) to millimetres on screen (x right, y down), so the canvas draws the plane with one
 * affine transform whatever the volume's orientation. Isomorphic: no DOM here.
 */
import { axisVector, type Mat4, type Vec3 } from '../../../mesh/grid.ts';

export type SliceAxis = 'axial' | 'coronal' | 'sagittal';

export const SLICE_AXES: readonly SliceAxis[] = ['axial', 'coronal', 'sagittal'];

/** Screen x (right) and y (down) of each view as LPS unit vectors, and the view's normal. */
const SCREEN: Record<SliceAxis, { x: Vec3; y: Vec3; normal: Vec3 }> = {
  axial: { x: [1, 0, 0], y: [0, 1, 0], normal: [0, 0, 1] },
  coronal: { x: [1, 0, 0], y: [0, 0, -1], normal: [0, 1, 0] },
  sagittal: { x: [0, 1, 0], y: [0, 0, -1], normal: [1, 0, 0] },
};

/** Canvas `setTransform` order: x' = a·u + c·v + e, y' = b·u + d·v + f. */
export type Affine2D = [a: number, b: number, c: number, d: number, e: number, f: number];

export interface SliceFrame {
  axis: SliceAxis;
  /** The voxel axis the view steps through (0 = i, 1 = j, 2 = k). */
  normal: 0 | 1 | 2;
  /** Voxel axes of the plane's pixel columns (u) and rows (v). */
  u: 0 | 1 | 2;
  v: 0 | 1 | 2;
  /** Pixels along u and v. */
  width: number;
  height: number;
  /** Plane pixel (u, v) → screen millimetres, with the plane's extent starting at (0, 0). */
  toScreen: Affine2D;
  /** Extent of the plane on screen, millimetres. */
  screenWidthMm: number;
  screenHeightMm: number;
}

const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/**
 * Which voxel axis each view steps through: the assignment of the three voxel axes to the three
 * anatomical normals that lines them up best (each axis used once).
 */
function normalAxes(affine: Mat4): Record<SliceAxis, 0 | 1 | 2> {
  const dirs = ([0, 1, 2] as const).map((a) => {
    const v = axisVector(affine, a);
    const n = Math.hypot(...v) || 1;
    return v.map((x) => x / n) as Vec3;
  });
  const perms: [0 | 1 | 2, 0 | 1 | 2, 0 | 1 | 2][] = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
  let best = perms[0];
  let bestScore = -1;
  for (const p of perms) {
    const score = SLICE_AXES.reduce((s, axis, n) => s + Math.abs(dot(dirs[p[n]], SCREEN[axis].normal)), 0);
    if (score > bestScore) {
      bestScore = score;
      best = p;
    }
  }
  return { axial: best[0], coronal: best[1], sagittal: best[2] };
}

/** The three views of a grid. */
export function sliceFrames(dims: Vec3, affine: Mat4): Record<SliceAxis, SliceFrame> {
  const normals = normalAxes(affine);
  const frames = {} as Record<SliceAxis, SliceFrame>;
  for (const axis of SLICE_AXES) {
    const normal = normals[axis];
    const [u, v] = ([0, 1, 2] as const).filter((a) => a !== normal) as [0 | 1 | 2, 0 | 1 | 2];
    const { x, y } = SCREEN[axis];
    const cu = axisVector(affine, u);
    const cv = axisVector(affine, v);
    // Linear part: one pixel step along u or v, projected on the screen axes.
    const a = dot(cu, x);
    const b = dot(cu, y);
    const c = dot(cv, x);
    const d = dot(cv, y);
    // Offset: the plane's outer corners (pixel edges at −½ and n − ½) start at (0, 0).
    const width = dims[u];
    const height = dims[v];
    const xs: number[] = [];
    const ys: number[] = [];
    for (const pu of [-0.5, width - 0.5]) {
      for (const pv of [-0.5, height - 0.5]) {
        xs.push(a * pu + c * pv);
        ys.push(b * pu + d * pv);
      }
    }
    const e = -Math.min(...xs);
    const f = -Math.min(...ys);
    frames[axis] = {
      axis,
      normal,
      u,
      v,
      width,
      height,
      toScreen: [a, b, c, d, e, f],
      screenWidthMm: Math.max(...xs) + e,
      screenHeightMm: Math.max(...ys) + f,
    };
  }
  return frames;
}

/** Screen millimetres → plane pixel (u, v), continuous. */
export function screenToPlane(frame: SliceFrame, x: number, y: number): [number, number] {
  const [a, b, c, d, e, f] = frame.toScreen;
  const det = a * d - b * c;
  const px = x - e;
  const py = y - f;
  return [(d * px - c * py) / det, (a * py - b * px) / det];
}

/** Plane pixel (u, v) → screen millimetres. */
export function planeToScreen(frame: SliceFrame, u: number, v: number): [number, number] {
  const [a, b, c, d, e, f] = frame.toScreen;
  return [a * u + c * v + e, b * u + d * v + f];
}

/** The voxel at plane pixel (u, v) of the slice at `index` along the view's normal. */
export function planeToVoxel(frame: SliceFrame, index: number, u: number, v: number): Vec3 {
  const voxel: Vec3 = [0, 0, 0];
  voxel[frame.normal] = index;
  voxel[frame.u] = u;
  voxel[frame.v] = v;
  return voxel;
}

/** Where a view draws its plane: CSS pixels per screen millimetre and the pixel of the plane's (0, 0) mm. */
export interface ViewPlacement {
  scale: number;
  x0: number;
  y0: number;
}

/**
 * The plane fitted into a `width` × `height` CSS-pixel view, then zoomed about the view's centre and
 * shifted by `pan` pixels.
 */
export function placeInView(frame: SliceFrame, zoom: number, pan: [number, number], width: number, height: number): ViewPlacement {
  const scale = Math.min(width / frame.screenWidthMm, height / frame.screenHeightMm) * zoom;
  return {
    scale,
    x0: width / 2 + pan[0] - (scale * frame.screenWidthMm) / 2,
    y0: height / 2 + pan[1] - (scale * frame.screenHeightMm) / 2,
  };
}

/** A view's CSS pixel → plane pixel (u, v), continuous. */
export function viewToPlane(frame: SliceFrame, placement: ViewPlacement, x: number, y: number): [number, number] {
  return screenToPlane(frame, (x - placement.x0) / placement.scale, (y - placement.y0) / placement.scale);
}

/** Plane pixel (u, v) → a view's CSS pixel. */
export function planeToView(frame: SliceFrame, placement: ViewPlacement, u: number, v: number): [number, number] {
  const [x, y] = planeToScreen(frame, u, v);
  return [placement.x0 + x * placement.scale, placement.y0 + y * placement.scale];
}
