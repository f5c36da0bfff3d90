'use client';
/**
 * The viewer's state: one small zustand store per open case (no global state). Scene components read
 * slices of it with `useViewer(selector)`; panels call its actions. Geometry never lives here.
 */
import { createContext, useContext } from 'react';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type { Vec3 } from '../../mesh/grid.ts';
import type { DetailLevel } from '../../mesh/detailLevels.ts';
import type { TissueGroup } from '../../models/anatomy-types.ts';
import { createEditState, type EditState } from './editing/editState.ts';

export type { ValidationMark } from './editing/editState.ts';
import { createSliceViewState, type SliceViewState } from './slices/sliceState.ts';

export type ViewPreset = 'anterior' | 'posterior' | 'left' | 'right' | 'superior';

/** Minimal description of a structure for panels (the geometry stays in the scene). */
export interface StructureEntry {
  name: string;
  displayName: string;
  group: TissueGroup;
  color: string;
  volumeMl?: number;
  /** Label value in the label map. */
  label?: number;
}

export interface ClipState {
  enabled: boolean;
  /** Distance of the plane from the model centre along its normal, metres (case frame). */
  offset: number;
  /** Turn about the superior axis, degrees (0: the plane faces anterior, a coronal cut). */
  yawDeg: number;
  /** Tilt about the left–right axis, degrees. */
  pitchDeg: number;
}

/** The 3D viewer's own state, plus the slice views' (`slices/sliceState.ts`) and the editing tools' (`editing/editState.ts`). */
export interface ViewerState extends SliceViewState, EditState {
  structures: StructureEntry[];
  /** Structures hidden by the user (name → true). */
  hidden: Record<string, true>;
  /** Opacity per structure, 0..1; absent means opaque. */
  opacity: Record<string, number>;
  /** When set, only this structure or group is drawn. */
  isolated: { kind: 'structure' | 'group'; name: string } | null;
  hovered: string | null;
  selected: string | null;
  clip: ClipState;
  /** Two-point measurement; points in the case frame (metres). */
  measure: { active: boolean; points: Vec3[] };
  /** The last preset view asked for; `nonce` changes on every request (even for the same preset). */
  view: { preset: ViewPreset; nonce: number };
  /** XR: life size (1) or table-top scale. */
  xrScale: 'life' | 'table';
  /** XR: lying on the table (supine) or standing. */
  xrPose: 'supine' | 'upright';
  /** XR: bumped to put the model back in front of the user. */
  xrPlacementNonce: number;
  /** The level of detail being drawn (see `detailLevel.ts`). */
  modelLevel: DetailLevel;

  /** A new model's structures; the user's hiding and opacity of structures that remain are kept. */
  setStructures(structures: StructureEntry[]): void;
  toggleStructure(name: string): void;
  /** Hides the group when any of it is visible, shows all of it otherwise. */
  toggleGroup(group: TissueGroup): void;
  setOpacity(name: string, opacity: number): void;
  setGroupOpacity(group: TissueGroup, opacity: number): void;
  isolate(kind: 'structure' | 'group', name: string): void;
  clearIsolation(): void;
  setHovered(name: string | null): void;
  select(name: string | null): void;
  setClip(patch: Partial<ClipState>): void;
  setMeasuring(active: boolean): void;
  addMeasurePoint(point: Vec3): void;
  showView(preset: ViewPreset): void;
  setXrScale(scale: 'life' | 'table'): void;
  setXrPose(pose: 'supine' | 'upright'): void;
  replaceInXr(): void;
  setModelLevel(level: DetailLevel): void;
  /** Back to the state just after loading: everything visible, no cut, no measurement, anterior view. */
  reset(): void;
}

export type ViewerStore = StoreApi<ViewerState>;

/**
 * Envelopes that would hide everything inside them start translucent (skin, the body outline, fat),
 * so the first view shows the anatomy within.
 */
export const ENVELOPE_OPACITY: Readonly<Record<string, number>> = { skin: 0.18, body: 0.18, subcutaneous_fat: 0.25, soft_tissue: 0.25 };

/** The opacity each structure starts with (absent: opaque). */
export function initialOpacity(structures: readonly StructureEntry[]): Record<string, number> {
  const opacity: Record<string, number> = {};
  for (const s of structures) if (s.name in ENVELOPE_OPACITY) opacity[s.name] = ENVELOPE_OPACITY[s.name];
  return opacity;
}

const INITIAL_CLIP: ClipState = { enabled: false, offset: 0, yawDeg: 0, pitchDeg: 0 };

/** Creates the store of one viewer. */
export function createViewerStore(): ViewerStore {
  return createStore<ViewerState>()((set, get) => ({
    ...createSliceViewState(set),
    ...createEditState(set),
    structures: [],
    hidden: {},
    opacity: {},
    isolated: null,
    hovered: null,
    selected: null,
    clip: INITIAL_CLIP,
    measure: { active: false, points: [] },
    view: { preset: 'anterior', nonce: 0 },
    xrScale: 'life',
    xrPose: 'supine',
    xrPlacementNonce: 0,
    modelLevel: 'desktop',

    setStructures: (structures) =>
      set((s) => {
        if (s.structures.length === 0) return { structures, opacity: initialOpacity(structures) };
        // A new revision of the same case: keep what the user set for the structures that are still there.
        const names = new Set(structures.map((x) => x.name));
        const keep = <T>(record: Record<string, T>) => Object.fromEntries(Object.entries(record).filter(([name]) => names.has(name)));
        const fresh = structures.filter((x) => !s.structures.some((old) => old.name === x.name));
        return { structures, hidden: keep(s.hidden), opacity: { ...initialOpacity(fresh), ...keep(s.opacity) } };
      }),
    toggleStructure: (name) =>
      set((s) => {
        const hidden = { ...s.hidden };
        if (hidden[name]) delete hidden[name];
        else hidden[name] = true;
        return { hidden, isolated: null };
      }),
    toggleGroup: (group) =>
      set((s) => {
        const hide = isGroupVisible(s, group);
        const hidden = { ...s.hidden };
        for (const m of s.structures) {
          if (m.group !== group) continue;
          if (hide) hidden[m.name] = true;
          else delete hidden[m.name];
        }
        return { hidden, isolated: null };
      }),
    setOpacity: (name, opacity) => set((s) => ({ opacity: { ...s.opacity, [name]: clamp01(opacity) } })),
    setGroupOpacity: (group, opacity) =>
      set((s) => {
        const next = { ...s.opacity };
        for (const m of s.structures) if (m.group === group) next[m.name] = clamp01(opacity);
        return { opacity: next };
      }),
    isolate: (kind, name) =>
      set((s) => (s.isolated?.kind === kind && s.isolated.name === name ? { isolated: null } : { isolated: { kind, name }, hidden: {} })),
    clearIsolation: () => set({ isolated: null }),
    setHovered: (name) => {
      if (get().hovered !== name) set({ hovered: name });
    },
    select: (name) => set({ selected: name }),
    setClip: (patch) => set((s) => ({ clip: { ...s.clip, ...patch } })),
    setMeasuring: (active) => set({ measure: { active, points: [] } }),
    addMeasurePoint: (point) =>
      set((s) => {
        if (!s.measure.active) return {};
        const points = s.measure.points.length >= 2 ? [point] : [...s.measure.points, point];
        return { measure: { active: true, points } };
      }),
    showView: (preset) => set((s) => ({ view: { preset, nonce: s.view.nonce + 1 } })),
    setXrScale: (xrScale) => set({ xrScale }),
    setXrPose: (xrPose) => set((s) => ({ xrPose, xrPlacementNonce: s.xrPlacementNonce + 1 })),
    replaceInXr: () => set((s) => ({ xrPlacementNonce: s.xrPlacementNonce + 1 })),
    setModelLevel: (modelLevel) => {
      if (get().modelLevel !== modelLevel) set({ modelLevel });
    },
    reset: () =>
      set((s) => ({
        hidden: {},
        opacity: initialOpacity(s.structures),
        isolated: null,
        selected: null,
        clip: INITIAL_CLIP,
        measure: { active: false, points: [] },
        view: { preset: 'anterior', nonce: s.view.nonce + 1 },
        xrScale: 'life',
        xrPlacementNonce: s.xrPlacementNonce + 1,
      })),
  }));
}

/** Whether a structure is drawn, given hiding and isolation. */
export function isStructureVisible(state: Pick<ViewerState, 'hidden' | 'isolated'>, name: string, group: TissueGroup): boolean {
  const iso = state.isolated;
  if (iso) return iso.kind === 'structure' ? iso.name === name : iso.name === group;
  return !state.hidden[name];
}

/** Whether any structure of a tissue group is drawn (the group's switch shows "on"). */
export function isGroupVisible(state: Pick<ViewerState, 'structures' | 'hidden' | 'isolated'>, group: TissueGroup): boolean {
  return state.structures.some((x) => x.group === group && isStructureVisible(state, x.name, x.group));
}

/** Distance between the two measured points in millimetres (the case frame is in metres), or null. */
export function measuredDistanceMm(points: Vec3[]): number | null {
  if (points.length < 2) return null;
  const [a, b] = points;
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]) * 1000;
}

function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}

export const ViewerStoreContext = createContext<ViewerStore | null>(null);

/** Reads a slice of the surrounding viewer's state (re-renders only when the slice changes). */
export function useViewer<T>(selector: (state: ViewerState) => T): T {
  return useStore(useViewerStore(), selector);
}

/** The surrounding viewer's store, for actions and `getState()` in event handlers and frame loops. */
export function useViewerStore(): ViewerStore {
  const store = useContext(ViewerStoreContext);
  if (!store) throw new Error('viewer components must be inside <ViewerStoreContext.Provider>');
  return store;
}
