'use client';
/**
 * The slice views' part of the viewer store: the CT grid, the crosshair (a voxel), the window, the
 * label overlay's look, zoom and pan of each view, and which slice planes the 3D scene shows. The
 * crosshair is the link between the views: a click on a mesh moves it (through the grid's affine and
 * the scene centre of the GLB), and the 3D marker and planes follow it.
 */
import { applyAffine, invertAffine, type Mat4, type Vec3 } from '../../../mesh/grid.ts';
import { gltfToLps, lpsToGltf } from '../../../mesh/coordinates.ts';
import { WINDOW_PRESETS, type CtWindow, type WindowPreset } from './renderSlice.ts';
import { sliceFrames, type SliceAxis, type SliceFrame } from './sliceGeometry.ts';

/** The CT grid and how it sits in the 3D scene. */
export interface CaseGrid {
  dims: Vec3;
  /** Voxel index → LPS millimetres. */
  affine: Mat4;
  inverse: Mat4;
  frames: Record<SliceAxis, SliceFrame>;
}

export interface SliceView {
  /** Screen pixels per millimetre relative to fitting the plane in the view (1 = fit). */
  zoom: number;
  /** Shift of the plane's centre from the view's centre, in CSS pixels. */
  pan: [number, number];
}

export interface OverlayState {
  visible: boolean;
  /** Fill opacity, 0..1. */
  opacity: number;
  outline: boolean;
}

export interface SliceViewState {
  grid: CaseGrid | null;
  /** `extras.holocase.centerLpsMm` of the GLB: where the scene's origin is in LPS millimetres. */
  sceneCenterLpsMm: Vec3 | null;
  /** The crosshair: a voxel of the CT grid. */
  cursor: Vec3 | null;
  ctWindow: CtWindow & { preset: WindowPreset | 'custom' };
  overlay: OverlayState;
  sliceViews: Record<SliceAxis, SliceView>;
  /** Slice planes drawn in the 3D scene (and the hologram). */
  planes3d: Record<SliceAxis, boolean>;
  /** Bumped when CT chunks arrive or the label map changes: views redraw. */
  ctVersion: number;
  labelsVersion: number;
  /** All three views have drawn the CT once (the rest of the page may start its own downloads). */
  slicesShown: boolean;

  setGrid(dims: Vec3, affine: Mat4): void;
  setSceneCenter(center: Vec3 | null): void;
  setCursor(voxel: Vec3): void;
  /** Steps the slice of one view by `delta` voxels. */
  stepSlice(axis: SliceAxis, delta: number): void;
  /** Puts the crosshair at a point of the scene's case frame (glTF metres), e.g. a click on a mesh. */
  setCursorFromCaseFrame(point: Vec3): void;
  setWindowPreset(preset: WindowPreset): void;
  setWindow(window: CtWindow): void;
  setOverlay(patch: Partial<OverlayState>): void;
  setSliceView(axis: SliceAxis, view: SliceView): void;
  togglePlane3d(axis: SliceAxis): void;
  ctChanged(): void;
  labelsChanged(): void;
  setSlicesShown(): void;
}

export const INITIAL_OVERLAY: OverlayState = { visible: true, opacity: 0.35, outline: true };
const FIT: SliceView = { zoom: 1, pan: [0, 0] };

type SetState = (partial: Partial<SliceViewState> | ((s: SliceViewState) => Partial<SliceViewState>)) => void;

/** Voxel → scene case frame (glTF metres), or null without a grid or scene centre. */
export function voxelToCaseFrame(state: Pick<SliceViewState, 'grid' | 'sceneCenterLpsMm'>, voxel: Vec3): Vec3 | null {
  if (!state.grid || !state.sceneCenterLpsMm) return null;
  return lpsToGltf(applyAffine(state.grid.affine, voxel), state.sceneCenterLpsMm);
}

/** Scene case frame → nearest voxel inside the grid, or null. */
export function caseFrameToVoxel(state: Pick<SliceViewState, 'grid' | 'sceneCenterLpsMm'>, point: Vec3): Vec3 | null {
  if (!state.grid || !state.sceneCenterLpsMm) return null;
  return clampVoxel(applyAffine(state.grid.inverse, gltfToLps(point, state.sceneCenterLpsMm)), state.grid.dims);
}

export function clampVoxel(p: Vec3, dims: Vec3): Vec3 {
  return p.map((x, a) => Math.min(dims[a] - 1, Math.max(0, Math.round(x)))) as Vec3;
}

export function createSliceViewState(set: SetState): SliceViewState {
  return {
    grid: null,
    sceneCenterLpsMm: null,
    cursor: null,
    ctWindow: { ...WINDOW_PRESETS.soft, preset: 'soft' },
    overlay: INITIAL_OVERLAY,
    sliceViews: { axial: FIT, coronal: FIT, sagittal: FIT },
    planes3d: { axial: false, coronal: false, sagittal: false },
    ctVersion: 0,
    labelsVersion: 0,
    slicesShown: false,

    setGrid: (dims, affine) =>
      set((s) => ({
        grid: { dims, affine, inverse: invertAffine(affine), frames: sliceFrames(dims, affine) },
        cursor: s.cursor ? clampVoxel(s.cursor, dims) : (dims.map((n) => Math.floor(n / 2)) as Vec3),
      })),
    setSceneCenter: (sceneCenterLpsMm) => set({ sceneCenterLpsMm }),
    setCursor: (voxel) => set((s) => (s.grid ? { cursor: clampVoxel(voxel, s.grid.dims) } : {})),
    stepSlice: (axis, delta) =>
      set((s) => {
        if (!s.grid || !s.cursor) return {};
        const next = [...s.cursor] as Vec3;
        next[s.grid.frames[axis].normal] += delta;
        return { cursor: clampVoxel(next, s.grid.dims) };
      }),
    setCursorFromCaseFrame: (point) =>
      set((s) => {
        const voxel = caseFrameToVoxel(s, point);
        return voxel ? { cursor: voxel } : {};
      }),
    setWindowPreset: (preset) => set({ ctWindow: { center: WINDOW_PRESETS[preset].center, width: WINDOW_PRESETS[preset].width, preset } }),
    setWindow: ({ center, width }) => set({ ctWindow: { center, width: Math.max(1, width), preset: 'custom' } }),
    setOverlay: (patch) => set((s) => ({ overlay: { ...s.overlay, ...patch } })),
    setSliceView: (axis, view) => set((s) => ({ sliceViews: { ...s.sliceViews, [axis]: view } })),
    togglePlane3d: (axis) => set((s) => ({ planes3d: { ...s.planes3d, [axis]: !s.planes3d[axis] } })),
    ctChanged: () => set((s) => ({ ctVersion: s.ctVersion + 1 })),
    labelsChanged: () => set((s) => ({ labelsVersion: s.labelsVersion + 1 })),
    setSlicesShown: () => set({ slicesShown: true }),
  };
}
