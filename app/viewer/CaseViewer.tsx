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
import { useCaseModel } from './useCaseModel.ts';
import { createViewerStore, ViewerStoreContext } from './viewerStore.ts';
import { ViewerScene } from './ViewerScene.tsx';
import { ViewToolbar } from './ViewToolbar.tsx';
import { createCaseXRStore } from './xr/caseXRStore.ts';
import { XRButtons } from './xr/XRButtons.tsx';

export interface CaseViewerProps {
  /** Where the GLB is (`/api/cases/<id>/model.glb` or `/api/share/<token>/model.glb`). */
  glbUrl: string;
  /** GLB size from the case summary, for progress when the response is compressed. */
  expectedBytes?: number;
  /** Shown as the XR panel's title. */
  title: string;
}

export default function CaseViewer({ glbUrl, expectedBytes, title }: CaseViewerProps) {
  const load = useCaseModel(glbUrl, expectedBytes);
  const store = useMemo(createViewerStore, []);
  const [testHook] = useState(isTestHookEnabled);
  // Under test (software rendering, emulated headset) XR frames are drawn at a quarter resolution.
  const xrStore = useMemo(() => createCaseXRStore({ origin: window.location.origin, frameBufferScaling: testHook ? 0.25 : undefined }), [testHook]);
  const session = useStore(xrStore, (s) => s.session);
  useEffect(() => () => xrStore.destroy(), [xrStore]);

  const model = load.status === 'ready' ? load.model : null;
  useEffect(() => {
    if (model) store.getState().setStructures(model.structures.map(({ name, displayName, group, color, volumeMl }) => ({ name, displayName, group, color, volumeMl })));
  }, [model, store]);

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
          <div className="viewer-canvas" data-testid="viewer-canvas" data-state={load.status}>
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
