'use client';
/**
 * The model's place in the scene: a group that is identity on the desktop and, in an XR session, is
 * put in front of the user and can be grabbed, turned and scaled. It holds the anatomy, the cutting
 * plane, the measurement and the CT slice planes, so they all move together.
 */
import { useXR } from '@react-three/xr';
import { useRef } from 'react';
import type { Group } from 'three';
import { CaseModel } from './CaseModel.tsx';
import { DeferredBvh } from './DeferredBvh.tsx';
import type { CaseModelData } from './caseStructures.ts';
import { ClipPlane } from './ClipPlane.tsx';
import { Measurement } from './Measurement.tsx';
import { SlicePlanes } from './slices/SlicePlanes.tsx';
import { useGrab } from './xr/useGrab.ts';
import { useXRPlacement } from './xr/useXRPlacement.ts';
import { XRPanel } from './xr/XRPanel.tsx';

export interface ModelStageProps {
  model: CaseModelData;
  title: string;
}

export function ModelStage({ model, title }: ModelStageProps) {
  const stage = useRef<Group>(null);
  const panel = useRef<Group>(null);
  const session = useXR((s) => s.session);
  useXRPlacement(stage, panel, model);
  const grab = useGrab(stage, { enabled: !!session });
  return (
    <>
      <group ref={stage} name="model-stage" {...(session ? (grab as object) : {})}>
        {/* First, so that a hand touching a CT plane takes the plane rather than the organs around it. */}
        <SlicePlanes />
        {/* Bounding-volume hierarchies make every pointer ray (mouse, controllers, hands) cheap;
            they are built once the first frame is drawn. */}
        <DeferredBvh rebuildKey={model}>
          <CaseModel model={model} />
        </DeferredBvh>
        <ClipPlane model={model} />
        <Measurement model={model} />
      </group>
      <XRPanel ref={panel} model={model} title={title} />
    </>
  );
}
