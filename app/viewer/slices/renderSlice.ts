/**
 * Pixels of one slice: the CT through a window (a 64 K-entry lookup table from int16 to grey), and
 * the label map as colours with an adjustable fill and outlines. Both are written into RGBA `Uint32Array`s
 * of the plane's size (one pixel per voxel); the canvas scales them to the screen. Isomorphic.
 */
import { ctValueAt, type CtVolume } from './ctVolume.ts';
import type { LabelArray } from './labelVolume.ts';
import type { SliceFrame } from './sliceGeometry.ts';

/** A CT window: the value shown mid-grey and the range from black to white (Hounsfield units). */
export interface CtWindow {
  center: number;
  width: number;
}

export type WindowPreset = 'soft' | 'bone' | 'lung' | 'vessels';

/** The usual radiology windows. */
export const WINDOW_PRESETS: Record<WindowPreset, CtWindow & { label: string }> = {
  soft: { label: 'Soft tissue', center: 40, width: 400 },
  bone: { label: 'Bone', center: 400, width: 1800 },
  lung: { label: 'Lung', center: -600, width: 1500 },
  vessels: { label: 'Vessels', center: 150, width: 600 },
};

/** RGBA as one little-endian uint32 (what an ImageData's buffer holds). */
export function rgba(r: number, g: number, b: number, a = 255): number {
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/** `#rrggbb` → [r, g, b]. */
export function parseHexColor(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.replace('#', ''), 16);
  return Number.isFinite(n) ? [(n >> 16) & 255, (n >> 8) & 255, n & 255] : [200, 200, 200];
}

/** Grey levels of every int16 value (index value + 32768) through `window`. */
export function windowLut(window: CtWindow): Uint32Array {
  const lut = new Uint32Array(65536);
  const lo = window.center - window.width / 2;
  const scale = 255 / Math.max(1, window.width);
  for (let n = 0; n < 65536; n++) {
    const g = Math.max(0, Math.min(255, Math.round((n - 32768 - lo) * scale)));
    lut[n] = rgba(g, g, g);
  }
  return lut;
}

/** Voxel strides along i, j, k. */
function strides(dims: readonly number[]): [number, number, number] {
  return [1, dims[0], dims[0] * dims[1]];
}

/**
 * The CT plane at `index` through `lut`. Rows whose slab has not arrived are read from the coarse level.
 * (The plane's v axis is the highest voxel axis of the two, so k is either fixed or the row.)
 */
export function renderCtPlane(volume: CtVolume, frame: SliceFrame, index: number, lut: Uint32Array, out: Uint32Array): void {
  const [nx, ny] = volume.dims;
  const depth = volume.manifest.slabs.depth;
  const st = strides(volume.dims);
  const su = st[frame.u];
  const sv = frame.v === 2 ? 0 : st[frame.v];
  for (let v = 0; v < frame.height; v++) {
    const k = frame.normal === 2 ? index : frame.v === 2 ? v : 0;
    const slab = volume.slabs[(k / depth) | 0];
    const row = v * frame.width;
    if (slab) {
      // Offset of (u = 0, v) inside the slab.
      const base = (frame.normal === 2 ? 0 : index * st[frame.normal]) + (frame.v === 2 ? 0 : v * sv) + (k % depth) * nx * ny;
      for (let u = 0, o = base; u < frame.width; u++, o += su) out[row + u] = lut[slab[o] + 32768];
    } else {
      const voxel = [0, 0, 0];
      voxel[frame.normal] = index;
      voxel[frame.v] = v;
      for (let u = 0; u < frame.width; u++) {
        voxel[frame.u] = u;
        out[row + u] = lut[ctValueAt(volume, voxel[0], voxel[1], voxel[2]) + 32768];
      }
    }
  }
}

/** The label values of the plane at `index` (one per pixel). */
export function extractLabelPlane(labels: LabelArray, dims: readonly number[], frame: SliceFrame, index: number, out: Uint16Array): void {
  const st = strides(dims);
  const su = st[frame.u];
  const sv = st[frame.v];
  const base = index * st[frame.normal];
  for (let v = 0; v < frame.height; v++) {
    const row = v * frame.width;
    for (let u = 0, o = base + v * sv; u < frame.width; u++, o += su) out[row + u] = labels[o];
  }
}

/** A box of the grid: `[i0, j0, k0, i1, j1, k1]`, end exclusive. */
export type Box = [number, number, number, number, number, number];

/** A box of the grid with values of its own (a grow-from-seeds preview), x fastest. */
export interface BoxLayer {
  box: Box;
  data: Uint16Array;
}

/** Writes the box's values over the plane where the plane crosses the box (`map` turns a box value into a label). */
export function patchPlaneFromBox(layer: BoxLayer, frame: SliceFrame, index: number, out: Uint16Array, map: (value: number, under: number) => number): void {
  const b = layer.box;
  if (index < b[frame.normal] || index >= b[frame.normal + 3]) return;
  const bd = [b[3] - b[0], b[4] - b[1], b[5] - b[2]];
  const st = strides(bd);
  for (let v = b[frame.v]; v < b[frame.v + 3]; v++) {
    for (let u = b[frame.u]; u < b[frame.u + 3]; u++) {
      const o = (index - b[frame.normal]) * st[frame.normal] + (u - b[frame.u]) * st[frame.u] + (v - b[frame.v]) * st[frame.v];
      const p = v * frame.width + u;
      out[p] = map(layer.data[o], out[p]);
    }
  }
}

export interface OverlayStyle {
  /** Fill opacity, 0..1 (0: outlines only). */
  opacity: number;
  /** Draw each structure's border at full strength. */
  outline: boolean;
}

/**
 * Colours a plane of label values: `colors[label]` (alpha ignored; 0 = not drawn), filled at
 * `opacity`, and, with `outline`, the pixels on a structure's border (a 4-neighbour with another
 * value) opaque.
 */
export function renderLabelPlane(plane: Uint16Array, width: number, height: number, colors: Uint32Array, style: OverlayStyle, out: Uint32Array): void {
  const fill = Math.round(Math.max(0, Math.min(1, style.opacity)) * 255) << 24;
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const p = v * width + u;
      const label = plane[p];
      const color = label < colors.length ? colors[label] : 0;
      if (!label || !color) {
        out[p] = 0;
        continue;
      }
      const rgb = color & 0xffffff;
      const edge =
        style.outline &&
        ((u > 0 && plane[p - 1] !== label) || (u < width - 1 && plane[p + 1] !== label) || (v > 0 && plane[p - width] !== label) || (v < height - 1 && plane[p + width] !== label));
      out[p] = (edge ? (rgb | 0xff000000) : rgb | fill) >>> 0;
    }
  }
}

/** Colours of labels (index = label value) from a table of `#rrggbb`, leaving out hidden ones. */
export function labelColors(entries: Iterable<{ label: number; color: string; visible: boolean }>): Uint32Array {
  const list = [...entries];
  const colors = new Uint32Array(Math.max(1, ...list.map((e) => e.label + 1)));
  for (const e of list) if (e.visible && e.label > 0) colors[e.label] = rgba(...parseHexColor(e.color));
  return colors;
}
