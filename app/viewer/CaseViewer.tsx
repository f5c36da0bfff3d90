'use client';
/**
 * A case in 3D: structure panel and cutting-plane controls on the side, the canvas with view presets,
 * the name of the structure under the pointer, and "View in AR / VR" where the browser supports it.
 * Load it with `next/dynamic` and `ssr: false` (WebGL and WebXR exist only in the browser).
 */
import { Canvas } from '@react-three/fiber';
import { useEffect, useMemo, useState } from 'react';
import { useStore } from 'zustand';
import { ClipControls } from './ClipControls.tsx';
import { StructureInfo } from './StructureInfo.tsx';
import { StructureList } from './StructureList.tsx';
import { isTestHookEnabled } from './TestHook.tsx';
import { viewerLevel } from './detailLevel.ts';
import { shownModel, useCaseModel } from './useCaseModel.ts';
import { createViewerStore, ViewerStoreContext } from './viewerStore.ts';
import { ViewerScene } from './ViewerScene.tsx';
import { ViewToolbar } from './ViewToolbar.tsx';
import { createCaseXRStore } from './xr/caseXRStore.ts';
import { XRButtons } from './xr/XRButtons.tsx';

export interface CaseViewerProps {
  /** Where the desktop level's GLB is (`/api/cases/<id>/model.glb` or `/api/share/<token>/model.glb`). */
  glbUrl: string;
  /** Where the headset level's GLB is (drawn in XR sessions; see `detailLevel.ts`), if the case has one. */
  xrGlbUrl?: string | null;
  /** Desktop GLB size from the case summary, for progress when the response is compressed. */
  expectedBytes?: number;
  /** Shown as the XR panel's title. */
  title: string;
}

export default function CaseViewer({ glbUrl, xrGlbUrl, expectedBytes, title }: CaseViewerProps) {
  const store = useMemo(createViewerStore, []);
  const [testHook] = useState(isTestHookEnabled);
  // Under test (software rendering, emulated headset) XR frames are drawn at a quarter resolution.
  const xrStore = useMemo(() => createCaseXRStore({ origin: window.location.origin, frameBufferScaling: testHook ? 0.25 : undefined }), [testHook]);
  const session = useStore(xrStore, (s) => s.session);
  useEffect(() => () => xrStore.destroy(), [xrStore]);

  // The level of detail for the session type; a swap keeps the shown model until the other is ready.
  const level = viewerLevel({ inSession: !!session, userAgent: navigator.userAgent, hasXrLevel: !!xrGlbUrl });
  const url = level === 'xr' ? xrGlbUrl! : glbUrl;
  const load = useCaseModel(url, url === glbUrl ? expectedBytes : undefined);
  const shown = shownModel(load);
  const model = shown?.model ?? null;
  const shownUrl = shown?.url;
  useEffect(() => {
    if (!model) return;
    // A new level of the same case keeps what the user set (visibility, opacity, cut, measurement).
    const entries = model.structures.map(({ name, displayName, group, color, volumeMl }) => ({ name, displayName, group, color, volumeMl }));
    const state = store.getState();
    if (entries.map((e) => e.name).join('\n') !== state.structures.map((e) => e.name).join('\n')) state.setStructures(entries);
    state.setModelLevel(shownUrl === glbUrl ? 'desktop' : 'xr');
  }, [model, shownUrl, glbUrl, store]);

  return (
    <ViewerStoreContext.Provider value={store}>
      <div className="viewer">
        <aside className="viewer-side">
          <XRButtons store={xrStore} />
          {model && <StructureList model={model} />}
          {model && <ClipControls model={model} />}
        </aside>
        <div className="viewer-main">
          <ViewToolbar />
          <div className="viewer-canvas" data-testid="viewer-canvas" data-state={load.status} data-level={level}>
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
          </div>
          {model && <StructureInfo model={model} />}
        </div>
      </div>
    </ViewerStoreContext.Provider>
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
