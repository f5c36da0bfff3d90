'use client';
/**
 * A cutting plane through the model that the user can move and turn. It lives in the model's frame
 * (so it follows the model when it is grabbed in XR); each frame its world equation is written into
 * one shared `THREE.Plane` that every structure material clips against. Nothing is allocated per frame.
 */
import { useFrame, useThree } from '@react-three/fiber';
import { useLayoutEffect, useMemo, useRef } from 'react';
import { DoubleSide, Plane, Vector3, type Mesh } from 'three';
import type { CaseModelData } from './caseStructures.ts';
import { useViewer } from './viewerStore.ts';

export interface ClipPlaneProps {
  model: CaseModelData;
}

const DEG = Math.PI / 180;

export function ClipPlane({ model }: ClipPlaneProps) {
  const clip = useViewer((s) => s.clip);
  const quad = useRef<Mesh>(null);
  const gl = useThree((s) => s.gl);
  const invalidate = useThree((s) => s.invalidate);
  const work = useMemo(() => ({ plane: new Plane(), normal: new Vector3(), point: new Vector3() }), []);
  const planes = useMemo(() => [work.plane], [work]);

  // Attach or detach the plane on every structure material (changes the shader: only on toggle).
  useLayoutEffect(() => {
    gl.localClippingEnabled = true;
    for (const s of model.structures) {
      s.material.clippingPlanes = clip.enabled ? planes : null;
      s.material.needsUpdate = true;
    }
    invalidate();
  }, [gl, model, planes, clip.enabled, invalidate]);

  // Keep the plane equation in world space: the quad's −Z side is kept, its +Z side is cut away.
  useFrame(() => {
    const q = quad.current;
    if (!q || !clip.enabled) return;
    q.updateWorldMatrix(true, false);
    work.normal.set(0, 0, -1).transformDirection(q.matrixWorld);
    work.point.setFromMatrixPosition(q.matrixWorld);
    work.plane.setFromNormalAndCoplanarPoint(work.normal, work.point);
  });

  if (!clip.enabled) return null;
  const size = model.sphere.radius * 2.2;
  const c = model.sphere.center;
  return (
    <group position={[c.x, c.y, c.z]} rotation={[clip.pitchDeg * DEG, clip.yawDeg * DEG, 0, 'YXZ']}>
      <mesh ref={quad} name="clip-plane" position={[0, 0, clip.offset]} raycast={noRaycast}>
        <planeGeometry args={[size, size]} />
        <meshBasicMaterial color="#4fc3f7" transparent opacity={0.12} side={DoubleSide} depthWrite={false} />
      </mesh>
    </group>
  );
}

function noRaycast(): void {}
