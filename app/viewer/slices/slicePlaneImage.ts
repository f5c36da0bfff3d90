'use client';
/**
 * One view's slice as two images at the plane's own resolution (one pixel per voxel): the windowed
 * CT and the coloured label overlay (with the grow preview and the seeds drawn in). The 2-D view
 * scales them onto its canvas; the 3-D scene puts them on a plane through the hologram. Buffers are
 * kept between frames and only reallocated when the plane's size changes.
 */
import type { EditSession } from '../editing/editSession.ts';
import { BACKGROUND_SEED, growAccept } from '../editing/editSession.ts';
import type { CtVolume } from './ctVolume.ts';
import type { LabelVolume } from './labelVolume.ts';
import { extractLabelPlane, patchPlaneFromBox, renderCtPlane, renderLabelPlane, rgba, windowLut, type CtWindow, type OverlayStyle } from './renderSlice.ts';
import type { SliceFrame } from './sliceGeometry.ts';

/** Colour of background seeds (structure seeds take their structure's colour). */
const BACKGROUND_SEED_COLOR = rgba(0, 229, 255);

export interface PlaneImageInput {
  frame: SliceFrame;
  /** Slice index along the frame's normal axis. */
  index: number;
  ct: CtVolume | null;
  window: CtWindow;
  labels: LabelVolume | null;
  /** Null: no overlay. */
  overlay: OverlayStyle | null;
  /** Colour of each label value (0: not drawn). */
  colors: Uint32Array;
  session: EditSession | null;
}

export interface PlaneImages {
  ct: HTMLCanvasElement;
  overlay: HTMLCanvasElement;
  /** Whether anything was drawn into each. */
  hasCt: boolean;
  hasOverlay: boolean;
}

export interface PlaneImageRenderer {
  render(input: PlaneImageInput): PlaneImages;
}

export function createPlaneImageRenderer(): PlaneImageRenderer {
  const ct = document.createElement('canvas');
  const overlay = document.createElement('canvas');
  let ctImage: ImageData | null = null;
  let overlayImage: ImageData | null = null;
  let plane = new Uint16Array(0);
  let lut: { window: CtWindow; table: Uint32Array } | null = null;
  const result: PlaneImages = { ct, overlay, hasCt: false, hasOverlay: false };

  const fit = (width: number, height: number) => {
    if (ct.width === width && ct.height === height && ctImage) return;
    for (const c of [ct, overlay]) {
      c.width = width;
      c.height = height;
    }
    ctImage = new ImageData(width, height);
    overlayImage = new ImageData(width, height);
    plane = new Uint16Array(width * height);
  };

  return {
    render(input) {
      const { frame, index } = input;
      fit(frame.width, frame.height);
      // CT through the window.
      result.hasCt = !!input.ct?.coarse;
      if (input.ct && result.hasCt) {
        if (!lut || lut.window.center !== input.window.center || lut.window.width !== input.window.width) lut = { window: { ...input.window }, table: windowLut(input.window) };
        renderCtPlane(input.ct, frame, index, lut.table, new Uint32Array(ctImage!.data.buffer));
        ct.getContext('2d')!.putImageData(ctImage!, 0, 0);
      }
      // Labels, the grow preview over them, then the seeds on top.
      const octx = overlay.getContext('2d')!;
      result.hasOverlay = !!(input.labels && input.overlay);
      if (!input.labels || !input.overlay) return result;
      extractLabelPlane(input.labels.data, input.labels.dims, frame, index, plane);
      const session = input.session;
      if (session?.preview) patchPlaneFromBox(session.preview, frame, index, plane, growAccept(session.preview.grown));
      const pixels = new Uint32Array(overlayImage!.data.buffer);
      renderLabelPlane(plane, frame.width, frame.height, input.colors, input.overlay, pixels);
      if (session && session.seeds.size > 0) drawSeeds(session, input, pixels);
      octx.putImageData(overlayImage!, 0, 0);
      return result;
    },
  };
}

function drawSeeds(session: EditSession, input: PlaneImageInput, pixels: Uint32Array): void {
  const [nx, ny] = session.labels.dims;
  const { frame, index, colors } = input;
  const voxel = [0, 0, 0];
  for (const [n, value] of session.seeds) {
    voxel[0] = n % nx;
    voxel[1] = Math.floor(n / nx) % ny;
    voxel[2] = Math.floor(n / (nx * ny));
    if (voxel[frame.normal] !== index) continue;
    const color = value === BACKGROUND_SEED ? BACKGROUND_SEED_COLOR : (colors[value] ?? 0) | 0xff000000;
    pixels[voxel[frame.v] * frame.width + voxel[frame.u]] = color >>> 0;
  }
}
