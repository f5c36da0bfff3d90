'use client';
/**
 * Desktop camera: orbit, zoom and pan around the model with limits set from its size, preset views
 * (anterior, posterior, left, right, superior) and a light that follows the camera.
 *
 * The glTF frame is +X patient left, +Y superior, +Z anterior. The anterior view puts the camera on the
 * +Z side looking at −Z with head up, so the patient's right is on the viewer's left, as when facing them.
 */
import { OrbitControls } from '@react-three/drei';
import { useFrame, useThree } from '@react-three/fiber';
import { useCallback, useEffect, useMemo, useRef, type ComponentRef } from 'react';
import { Vector3, type DirectionalLight, type PerspectiveCamera } from 'three';
import type { CaseModelData } from './caseStructures.ts';
import { fitDistance, PRESET_DIRECTIONS } from './presetViews.ts';
import { useViewer } from './viewerStore.ts';

export interface CameraRigProps {
  model: CaseModelData;
}

export function CameraRig({ model }: CameraRigProps) {
  const camera = useThree((s) => s.camera) as PerspectiveCamera;
  const size = useThree((s) => s.size);
  const controls = useRef<ComponentRef<typeof OrbitControls>>(null);
  const light = useRef<DirectionalLight>(null);
  const view = useViewer((s) => s.view);
  const { center, radius } = model.sphere;
  const work = useMemo(() => new Vector3(), []);

  // Whether the user has orbited, zoomed or panned since the last fit.
  const moved = useRef(false);
  const aspect = size.width / Math.max(1, size.height);

  // Preset views (and the first view): place the camera, aim the controls.
  const fit = useCallback(
    (viewAspect: number) => {
      const distance = fitDistance(model.bounds.getSize(work), view.preset, camera.fov, viewAspect);
      camera.position.copy(center).addScaledVector(PRESET_DIRECTIONS[view.preset], distance);
      camera.up.set(0, 1, 0);
      camera.near = distance / 100;
      camera.far = distance * 20;
      camera.updateProjectionMatrix();
      camera.lookAt(center);
      const c = controls.current;
      if (c) {
        c.target.copy(center);
        c.update();
      }
      moved.current = false;
    },
    [camera, center, model, work, view.preset],
  );
  const aspectRef = useRef(aspect);
  aspectRef.current = aspect;
  useEffect(() => fit(aspectRef.current), [fit, view.nonce]);

  // A resize (a narrower window, the Quest browser's panel, a rotated tablet) refits the model until the
  // user moves the view; after that the view they chose is kept.
  useEffect(() => {
    if (!moved.current) fit(aspect);
  }, [aspect, fit]);

  // Headlight: lights the side the user looks at, whatever the orbit.
  useFrame(() => {
    const l = light.current;
    if (!l) return;
    l.position.copy(camera.position);
    l.target.position.copy(center);
    l.target.updateMatrixWorld();
  });

  return (
    <>
      <OrbitControls
        ref={controls}
        makeDefault
        target={[center.x, center.y, center.z]}
        minDistance={radius * 0.3}
        maxDistance={radius * 8}
        enableDamping={false}
        zoomToCursor
        onStart={() => {
          moved.current = true;
        }}
      />
      <directionalLight ref={light} intensity={1.6} />
    </>
  );
}
