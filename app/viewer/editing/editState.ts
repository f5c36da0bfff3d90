'use client';
/**
 * The editing tools' part of the viewer store: which tool is in hand, the brush, the structure being
 * edited, the label table (the case's structures plus those added here), and counters that panels
 * show (undo/redo depth, unsaved edits, the grow preview's state). The voxels themselves, the undo
 * history and the seeds live in the edit session (`editSession.ts`), outside the store.
 */
import type { TissueGroup } from '../../../models/anatomy-types.ts';

/**
 * `navigate`: clicks move the crosshair; `brush` / `eraser`: paint or erase the active structure
 * (a disc in the view's plane, or a ball); `seeds`: strokes for grow from seeds.
 */
export type EditTool = 'navigate' | 'brush' | 'eraser' | 'seeds';

export interface BrushState {
  /** Radius in millimetres. */
  radiusMm: number;
  /** A ball in 3D instead of a disc in the view's plane. */
  sphere: boolean;
  /** Only voxels whose CT value lies in [lo, hi] HU are painted. */
  huRange: [number, number] | null;
  /** Paint over other structures too (off: only background and the structure itself are painted). */
  overwrite: boolean;
}

/** A structure of the label map, as the editor knows it. */
export interface LabelEntry {
  label: number;
  /** Machine name (`liver`, or a free name). */
  name: string;
  displayName: string;
  color: string;
  group: TissueGroup;
  /** Added in this session and not saved yet. */
  added?: boolean;
}

/** Seeds painted for grow from seeds go to a structure or to the background around it. */
export type SeedTarget = 'structure' | 'background';

/** Who validated a structure, and when (ISO date). */
export interface ValidationMark {
  by: string;
  at: string;
}

export interface GrowState {
  status: 'idle' | 'running' | 'preview' | 'failed';
  message: string | null;
}

export interface EditState {
  /** Whether the signed-in user may change this case. */
  canEdit: boolean;
  /** The case edits are saved to (set when `canEdit`). */
  editCaseId: string | null;
  tool: EditTool;
  brush: BrushState;
  /** Label value painted, erased and seeded. */
  activeLabel: number | null;
  seedTarget: SeedTarget;
  labelTable: Record<number, LabelEntry>;
  history: { undo: number; redo: number };
  /** The label map differs from the revision it was loaded from or last saved as. */
  unsaved: boolean;
  grow: GrowState;
  /** A revision other than the current one shown read-only, or null. */
  viewingRevision: number | null;
  /** Validated structures by label value. */
  validation: Record<number, ValidationMark | null>;

  /** The case the user may edit, or null (read-only). */
  setEditCase(caseId: string | null): void;
  setTool(tool: EditTool): void;
  setBrush(patch: Partial<BrushState>): void;
  setActiveLabel(label: number | null): void;
  setSeedTarget(target: SeedTarget): void;
  setLabelTable(table: Record<number, LabelEntry>): void;
  addLabel(entry: LabelEntry): void;
  setHistory(history: { undo: number; redo: number }, unsaved: boolean): void;
  markSaved(): void;
  setGrow(grow: GrowState): void;
  setViewingRevision(revision: number | null): void;
  setValidation(validation: Record<number, ValidationMark | null>): void;
}

export const INITIAL_BRUSH: BrushState = { radiusMm: 5, sphere: false, huRange: null, overwrite: false };

type SetState = (partial: Partial<EditState> | ((s: EditState) => Partial<EditState>)) => void;

export function createEditState(set: SetState): EditState {
  return {
    canEdit: false,
    editCaseId: null,
    tool: 'navigate',
    brush: INITIAL_BRUSH,
    activeLabel: null,
    seedTarget: 'structure',
    labelTable: {},
    history: { undo: 0, redo: 0 },
    unsaved: false,
    grow: { status: 'idle', message: null },
    viewingRevision: null,
    validation: {},

    setEditCase: (editCaseId) => set(editCaseId ? { canEdit: true, editCaseId } : { canEdit: false, editCaseId: null, tool: 'navigate' }),
    setTool: (tool) => set((s) => ({ tool: s.canEdit || tool === 'navigate' ? tool : 'navigate' })),
    setBrush: (patch) => set((s) => ({ brush: { ...s.brush, ...patch, radiusMm: Math.max(0.5, Math.min(50, patch.radiusMm ?? s.brush.radiusMm)) } })),
    setActiveLabel: (activeLabel) => set({ activeLabel }),
    setSeedTarget: (seedTarget) => set({ seedTarget }),
    setLabelTable: (labelTable) => set((s) => ({ labelTable, activeLabel: s.activeLabel !== null && labelTable[s.activeLabel] ? s.activeLabel : null })),
    addLabel: (entry) => set((s) => ({ labelTable: { ...s.labelTable, [entry.label]: entry }, activeLabel: entry.label })),
    setHistory: (history, unsaved) => set({ history, unsaved }),
    markSaved: () => set((s) => ({ unsaved: false, labelTable: Object.fromEntries(Object.entries(s.labelTable).map(([k, e]) => [k, { ...e, added: false }])) })),
    setGrow: (grow) => set({ grow }),
    setViewingRevision: (viewingRevision) => set({ viewingRevision }),
    setValidation: (validation) => set({ validation }),
  };
}

/** The lowest label value not in the table (label maps stay 8-bit while there is room). */
export function freeLabel(table: Record<number, LabelEntry>): number {
  for (let label = 1; label < 65535; label++) if (!table[label]) return label;
  throw new Error('the label map has no free label value left');
}
