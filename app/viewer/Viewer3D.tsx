'use client';
/**
 * The 3-D half of a case viewer, in its own code chunk (three.js, react-three-fiber, WebXR): loads the
 * hologram, draws it with view presets and "View in AR / VR" sessions, names the structure under the
 * pointer, and says when a new revision's hologram is on its way. The page around it (slice views,
 * panels) is drawn without waiting for this chunk.
 */
import { Canvas } from '@react-three/fiber';
import { useEffect, useMemo, useState } from 'react';
import { useStore } from 'zustand';
import type { RevisionProgress } from '../ui/useRevisionEvents.ts';
import type { CaseModelData } from './caseStructures.ts';
import { StructureInfo } from './StructureInfo.tsx';
import { isTestHookEnabled } from './testTimings.ts';
import { levelGlbUrl, viewerLevel } from './detailLevel.ts';
import { useCaseModel } from './useCaseModel.ts';
import { useViewerStore } from './viewerStore.ts';
import { ViewerScene } from './ViewerScene.tsx';
import { createCaseXRStore, type CaseXRStore } from './xr/caseXRStore.ts';

export interface Viewer3DProps {
  /** Where the desktop level's GLB is (`/api/cases/<id>/model.glb` or `/api/share/<token>/model.glb`). */
  glbUrl: string;
  /** Where the headset level's GLB is (drawn in XR sessions; see `detailLevel.ts`), if the case has one. */
  xrGlbUrl: string | null;
  /** Desktop GLB size from the case summary, for progress when the response is compressed. */
  expectedBytes?: number;
  /** Shown as the XR panel's title. */
  title: string;
  /** The hologram is downloaded once this is true. */
  start: boolean;
  /** A revision on its way (saved, being meshed, failed to mesh), for the status line. */
  pendingRevision: RevisionProgress | null;
  /** The model on screen, once loaded (and again on every new revision's). */
  onModel: (model: CaseModelData) => void;
  /** The WebXR session store, for the page's "View in AR / VR" buttons. */
  onXrStore: (store: CaseXRStore) => void;
}

export default function Viewer3D({ glbUrl, xrGlbUrl, expectedBytes, title, start, pendingRevision, onModel, onXrStore }: Viewer3DProps) {
  const store = useViewerStore();
  const [testHook] = useState(isTestHookEnabled);
  // Under test (software rendering, emulated headset) XR frames are drawn at a quarter resolution.
  const xrStore = useMemo(() => createCaseXRStore({ origin: window.location.origin, frameBufferScaling: testHook ? 0.25 : undefined }), [testHook]);
  const session = useStore(xrStore, (s) => s.session);
  useEffect(() => {
    onXrStore(xrStore);
    return () => xrStore.destroy();
  }, [xrStore, onXrStore]);
  // The level of detail for the session type; a swap keeps the shown model until the other is ready.
  const level = viewerLevel({ inSession: !!session, userAgent: navigator.userAgent, hasXrLevel: !!xrGlbUrl });
  const url = levelGlbUrl(level, { glbUrl, xrGlbUrl });
  const load = useCaseModel(url, url === glbUrl ? expectedBytes : undefined, start);
  const model = load.status === 'ready' ? load.model : null;
  const shownLevel = load.status === 'ready' && load.url !== glbUrl ? 'xr' : 'desktop';
  useEffect(() => {
    if (model) onModel(model);
  }, [model, onModel]);
  useEffect(() => store.getState().setModelLevel(shownLevel), [shownLevel, store]);

  return (
    <div className="viewer-canvas" data-testid="viewer-canvas" data-state={load.status} data-level={level} data-glb={load.status === 'ready' ? load.url : ''}>
      {model ? (
        <Canvas
          flat
          dpr={[1, 2]}
          frameloop={session ? 'always' : 'demand'}
          gl={{ antialias: !testHook, powerPreference: 'high-performance' }}
          camera={{ fov: 35, near: 0.01, far: 20, position: [0, 0, 1.5] }}
          onPointerMissed={() => store.getState().select(null)}
        >
          <ViewerScene model={model} xrStore={xrStore} title={title} testHook={testHook} />
        </Canvas>
      ) : load.status === 'failed' ? (
        <p className="viewer-message error" role="alert">
          {load.error}
        </p>
      ) : load.status === 'loading' ? (
        <LoadProgress fraction={load.fraction} loadedBytes={load.loadedBytes} />
      ) : null}
      {model && <StructureInfo model={model} />}
      <RevisionBadge updating={load.status === 'ready' && load.updating} pending={pendingRevision} />
    </div>
  );
}

/** What is happening to the hologram: a new revision being meshed, or loading. */
function RevisionBadge({ updating, pending }: { updating: boolean; pending: RevisionProgress | null }) {
  const text = updating
    ? 'Loading the new hologram…'
    : pending?.state === 'failed'
      ? `Revision ${pending.revision} could not be meshed: ${pending.error?.message ?? 'unknown error'}`
      : pending
        ? `Revision ${pending.revision}: making its hologram${pending.percent != null ? ` ${Math.round(pending.percent)} %` : '…'}`
        : null;
  if (!text) return null;
  return (
    <p className="viewer-badge" role="status" data-testid="revision-badge">
      {text}
    </p>
  );
}

function LoadProgress({ fraction, loadedBytes }: { fraction: number | null; loadedBytes: number }) {
  return (
    <div className="viewer-message" role="status" data-testid="model-progress">
      <p>Loading the 3D model… {fraction != null ? `${Math.round(fraction * 100)} %` : `${(loadedBytes / 1e6).toFixed(1)} MB`}</p>
      <progress max={1} value={fraction ?? undefined} />
    </div>
  );
}
