'use client';
/**
 * Everything inside the canvas: the XR session boundary, background and lights, the model stage, the
 * desktop camera (outside sessions) and, when asked for, the test hook.
 */
import { XR, useXR } from '@react-three/xr';
import { CameraRig } from './CameraRig.tsx';
import type { CaseModelData } from './caseStructures.ts';
import { ModelStage } from './ModelStage.tsx';
import { TestHook } from './TestHook.tsx';
import type { CaseXRStore } from './xr/caseXRStore.ts';

export interface ViewerSceneProps {
  model: CaseModelData;
  xrStore: CaseXRStore;
  title: string;
  testHook: boolean;
}

export const BACKGROUND = '#18202a';

export function ViewerScene({ model, xrStore, title, testHook }: ViewerSceneProps) {
  return (
    <XR store={xrStore}>
      <Surroundings />
      <hemisphereLight args={['#ffffff', '#3a3a44', 0.9]} />
      <ModelStage model={model} title={title} />
      <DesktopCamera model={model} />
      {testHook && <TestHook />}
    </XR>
  );
}

/** Background colour outside AR (passthrough needs a transparent background); fixed lights in XR. */
function Surroundings() {
  const mode = useXR((s) => s.mode);
  return (
    <>
      {mode !== 'immersive-ar' && <color attach="background" args={[BACKGROUND]} />}
      {mode && <directionalLight position={[0.5, 3, 1.5]} intensity={1.4} />}
    </>
  );
}

function DesktopCamera({ model }: { model: CaseModelData }) {
  const session = useXR((s) => s.session);
  return session ? null : <CameraRig model={model} />;
}
