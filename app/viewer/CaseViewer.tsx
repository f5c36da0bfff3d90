'use client';
/**
 * A case in 3D and in CT slices: structure panel, cutting plane, CT window and overlay controls (and,
 * for users who may edit, the editing tools and revisions) on the side; the 3D view with its presets
 * (`Viewer3D`, a code chunk of its own, so the slices never wait for three.js) and the axial, coronal
 * and sagittal views beside it; "View in AR / VR" where the browser supports it. Load it with
 * `next/dynamic` and `ssr: false` (canvases, workers and WebXR exist only in the browser).
 */
import dynamic from 'next/dynamic';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useStore } from 'zustand';
import type { CaseModelData } from './caseStructures.ts';
import { ClipControls } from './ClipControls.tsx';
import { levelGlbUrl, viewerLevel } from './detailLevel.ts';
import { EditPanel } from './editing/EditPanel.tsx';
import { labelTableFrom } from './editing/labelTable.ts';
import { RevisionPanel } from './editing/RevisionPanel.tsx';
import { EditSessionContext, useNewEditSession } from './editing/useEditSession.ts';
import { prefetchCaseGlb } from './glbPrefetch.ts';
import { SliceControls } from './slices/SliceControls.tsx';
import { SliceViews } from './slices/SliceViews.tsx';
import { useCaseVolumes, VolumeContext } from './slices/useCaseVolumes.ts';
import { StructureList } from './StructureList.tsx';
import { createViewerStore, ViewerStoreContext, type ValidationMark, type ViewerStore } from './viewerStore.ts';
import { ViewToolbar } from './ViewToolbar.tsx';
import type { CaseXRStore } from './xr/caseXRStore.ts';
import { XRButtons } from './xr/XRButtons.tsx';
import type { RevisionProgress } from '../ui/useRevisionEvents.ts';

const Viewer3D = dynamic(() => import('./Viewer3D.tsx'), { ssr: false, loading: Starting3D });

function Starting3D() {
  return (
    <div className="viewer-canvas" data-testid="viewer-canvas" data-state="starting">
      <p className="viewer-message">Starting the 3D viewer…</p>
    </div>
  );
}

export interface CaseViewerProps {
  /** Where the desktop level's GLB is (`/api/cases/<id>/model.glb` or `/api/share/<token>/model.glb`). */
  glbUrl: string;
  /** Where the headset level's GLB is (drawn in XR sessions; see `detailLevel.ts`), if the case has one. */
  xrGlbUrl?: string | null;
  /** Desktop GLB size from the case summary, for progress when the response is compressed. */
  expectedBytes?: number;
  /** Shown as the XR panel's title. */
  title: string;
  /** The CT and label map for the slice views (`…/ct`, `…/labels`); without them, 3D only. */
  volumes?: { ct: string; labels: string };
  /** The case's current revision: when it changes, the label map is loaded again (unless there are unsaved edits). */
  revision?: number;
  /** Set for a signed-in user who may edit the case: the case id that revisions are saved to. */
  editCaseId?: string;
  /** Which structures (by label) are validated, and by whom. */
  validation?: Record<number, ValidationMark | null>;
  /** A revision on its way (saved, being meshed, failed to mesh), for the status line. */
  pendingRevision?: RevisionProgress | null;
}

export default function CaseViewer({ glbUrl, xrGlbUrl, expectedBytes, title, volumes, revision = 0, editCaseId, validation, pendingRevision }: CaseViewerProps) {
  const store = useMemo(createViewerStore, []);
  const [model, setModel] = useState<CaseModelData | null>(null);
  const [xrStore, setXrStore] = useState<CaseXRStore | null>(null);

  // The label map on screen: the current revision, unless an older one is being viewed. `base` is the
  // revision the map in memory stands for (a save of this page's edits moves it without a download);
  // a newer revision from elsewhere is loaded only when nothing is left unsaved (the edit panel offers
  // to load it otherwise).
  const viewing = useStore(store, (s) => s.viewingRevision);
  const unsaved = useStore(store, (s) => s.unsaved);
  const [loaded, setLoaded] = useState(revision);
  const [base, setBase] = useState(revision);
  const loadCurrent = useCallback(() => {
    setLoaded(revision);
    setBase(revision);
  }, [revision]);
  useEffect(() => {
    if (revision !== base && !unsaved) loadCurrent();
  }, [revision, base, unsaved, loadCurrent]);
  const urls = useMemo(
    () => (volumes ? { ct: volumes.ct, labels: viewing !== null ? `${volumes.labels}?revision=${viewing}` : `${volumes.labels}?v=${loaded}` } : null),
    [volumes, viewing, loaded],
  );
  // With slice views, the CT's coarse level (a few MB) comes first: the first slices are on screen
  // before the hologram's code and model take the main thread.
  const slicesFirst = useSlicesFirst(store, !!volumes);
  // Then the hologram; the CT's full resolution and the label map (inflating them takes both cores
  // for seconds) once it is up.
  const detail = useDetailAfter(slicesFirst.done, model !== null);
  const caseVolumes = useCaseVolumes(urls, store, detail);
  const start3d = slicesFirst.done || caseVolumes.error !== null;
  const editSession = useNewEditSession(caseVolumes.labels);
  // The hologram's bytes download now, beside the CT; the 3-D code that draws them waits for the first slices.
  useEffect(() => {
    const level = viewerLevel({ inSession: false, userAgent: navigator.userAgent, hasXrLevel: !!xrGlbUrl });
    prefetchCaseGlb(levelGlbUrl(level, { glbUrl, xrGlbUrl: xrGlbUrl ?? null }));
  }, [glbUrl, xrGlbUrl]);

  useEffect(() => {
    if (!model) return;
    const s = store.getState();
    s.setStructures(model.structures.map(({ name, displayName, group, color, volumeMl, label }) => ({ name, displayName, group, color, volumeMl, label })));
    s.setSceneCenter(model.centerLpsMm ?? null);
    s.setLabelTable(labelTableFrom(model.structures, s.labelTable));
  }, [model, store]);
  useEffect(() => store.getState().setEditCase(editCaseId ?? null), [editCaseId, store]);
  useEffect(() => store.getState().setValidation(validation ?? {}), [validation, store]);
  useEffect(() => {
    const s = store.getState();
    if (editSession) s.setHistory(editSession.history.depth(), false);
    s.labelsChanged();
  }, [editSession, store]);

  return (
    <ViewerStoreContext.Provider value={store}>
      <VolumeContext.Provider value={caseVolumes}>
        <EditSessionContext.Provider value={editSession}>
          <div className={volumes ? 'viewer with-slices' : 'viewer'}>
            <aside className="viewer-side">
              {xrStore && <XRButtons store={xrStore} />}
              {model && <StructureList model={model} />}
              {volumes && <SliceControls />}
              {editCaseId && volumes && <EditPanel caseId={editCaseId} revision={revision} baseRevision={base} onSaved={setBase} onLoadCurrent={loadCurrent} />}
              {editCaseId && volumes && <RevisionPanel caseId={editCaseId} revision={revision} />}
              {model && <ClipControls model={model} />}
            </aside>
            <div className="viewer-main">
              <ViewToolbar />
              <div className="viewer-views">
                {/* The 3-D chunk is not even loaded until the first slices are drawn: its code would take the main thread. */}
                {start3d ? (
                  <Viewer3D
                    glbUrl={glbUrl}
                    xrGlbUrl={xrGlbUrl ?? null}
                    expectedBytes={expectedBytes}
                    title={title}
                    start={start3d}
                    pendingRevision={pendingRevision ?? null}
                    onModel={setModel}
                    onXrStore={setXrStore}
                  />
                ) : (
                  <Starting3D />
                )}
                {volumes && <SliceViews />}
              </div>
            </div>
          </div>
        </EditSessionContext.Provider>
      </VolumeContext.Provider>
    </ViewerStoreContext.Provider>
  );
}

/** How long after the first slices the CT's detail and the label map wait for the hologram at most. */
const HOLOGRAM_FIRST_MS = 4000;

/** Whether the CT's detail may load: the hologram is up (or the first slices were drawn long enough ago). */
function useDetailAfter(slicesShown: boolean, hologramUp: boolean): boolean {
  const [timedOut, setTimedOut] = useState(false);
  useEffect(() => {
    if (!slicesShown) return;
    const timer = setTimeout(() => setTimedOut(true), HOLOGRAM_FIRST_MS);
    return () => clearTimeout(timer);
  }, [slicesShown]);
  return hologramUp || timedOut;
}

/** How long after the CT's coarse level arrived the rest of the page waits for the first slices at most. */
const SLICES_FIRST_MS = 3000;

/** Whether the first slices are drawn (or there are none to wait for, or drawing them took too long). */
function useSlicesFirst(store: ViewerStore, hasSlices: boolean): { done: boolean } {
  const shown = useStore(store, (s) => s.slicesShown);
  const ctArrived = useStore(store, (s) => s.grid !== null);
  const [timedOut, setTimedOut] = useState(false);
  useEffect(() => {
    if (!hasSlices || !ctArrived) return;
    const timer = setTimeout(() => setTimedOut(true), SLICES_FIRST_MS);
    return () => clearTimeout(timer);
  }, [hasSlices, ctArrived]);
  return { done: !hasSlices || shown || timedOut };
}
