'use client';
/**
 * The CT inside the 3D scene and the hologram: each slice plane the user switched on, at the
 * crosshair, textured with the same windowed CT and label overlay as its 2-D view, and a marker at
 * the crosshair. They live in the model's frame (inside the model stage), so they move, turn and scale
 * with the hologram. A plane can be pulled along its normal with a controller or a pinching hand
 * (`useSlicePlaneDrag`); a click on it puts the crosshair there.
 */
import { useFrame, useThree } from '@react-three/fiber';
import { useEffect, useMemo, useRef } from 'react';
import { BufferAttribute, BufferGeometry, CanvasTexture, DoubleSide, LinearFilter, SRGBColorSpace, type Mesh } from 'three';
import type { Vec3 } from '../../../mesh/grid.ts';
import { useEditSession } from '../editing/useEditSession.ts';
import { useViewer, useViewerStore, type ViewerState } from '../viewerStore.ts';
import { createOverlayColors } from './overlayColors.ts';
import { planeToVoxel, SLICE_AXES, type SliceAxis } from './sliceGeometry.ts';
import { createPlaneImageRenderer } from './slicePlaneImage.ts';
import { voxelToCaseFrame } from './sliceState.ts';
import { useVolumes } from './useCaseVolumes.ts';
import { useSlicePlaneDrag } from './useSlicePlaneDrag.ts';

/** State a plane's picture depends on. */
const PICTURE_KEYS: (keyof ViewerState)[] = ['grid', 'sceneCenterLpsMm', 'cursor', 'ctWindow', 'overlay', 'ctVersion', 'labelsVersion', 'labelTable', 'hidden', 'isolated', 'structures'];

export function SlicePlanes() {
  const planes = useViewer((s) => s.planes3d);
  const ready = useViewer((s) => !!s.grid && !!s.sceneCenterLpsMm && !!s.cursor);
  const { ct } = useVolumes();
  if (!ready || !ct) return null;
  return (
    <group name="slice-planes">
      {SLICE_AXES.filter((axis) => planes[axis]).map((axis) => (
        <SlicePlane key={axis} axis={axis} />
      ))}
      <CrosshairMarker />
    </group>
  );
}

function SlicePlane({ axis }: { axis: SliceAxis }) {
  const store = useViewerStore();
  const volumes = useVolumes();
  const session = useEditSession();
  const invalidate = useThree((s) => s.invalidate);
  const mesh = useRef<Mesh>(null);
  const drag = useSlicePlaneDrag(axis, mesh);
  const { geometry, texture, composed, renderer } = useMemo(() => {
    const composed = document.createElement('canvas');
    const texture = new CanvasTexture(composed);
    texture.colorSpace = SRGBColorSpace;
    texture.minFilter = LinearFilter;
    texture.generateMipmaps = false;
    const geometry = new BufferGeometry();
    geometry.setAttribute('position', new BufferAttribute(new Float32Array(12), 3));
    geometry.setAttribute('uv', new BufferAttribute(new Float32Array([0, 1, 1, 1, 1, 0, 0, 0]), 2));
    geometry.setIndex([0, 1, 2, 0, 2, 3]);
    return { geometry, texture, composed, renderer: createPlaneImageRenderer() };
  }, []);
  useEffect(
    () => () => {
      geometry.dispose();
      texture.dispose();
    },
    [geometry, texture],
  );

  // Redraw the picture and move the quad on the next frame after what it shows changed.
  const dirty = useRef(true);
  const colorsOf = useMemo(createOverlayColors, []);
  useEffect(() => {
    dirty.current = true;
    invalidate();
    return store.subscribe((s, p) => {
      if (!PICTURE_KEYS.some((k) => s[k] !== p[k])) return;
      dirty.current = true;
      invalidate();
    });
  }, [store, volumes, session, invalidate]);
  useFrame(() => {
    const s = store.getState();
    const m = mesh.current;
    if (!dirty.current || !s.grid || !s.cursor || !m) return;
    dirty.current = false;
    const f = s.grid.frames[axis];
    const index = s.cursor[f.normal];
    const images = renderer.render({ frame: f, index, ct: volumes.ct, window: s.ctWindow, labels: volumes.labels, overlay: s.overlay.visible ? s.overlay : null, colors: colorsOf(s), session });
    if (composed.width !== f.width || composed.height !== f.height) {
      composed.width = f.width;
      composed.height = f.height;
      texture.dispose(); // a new size needs a new GPU texture
    }
    const ctx = composed.getContext('2d')!;
    if (images.hasCt) ctx.drawImage(images.ct, 0, 0);
    if (images.hasOverlay) ctx.drawImage(images.overlay, 0, 0);
    texture.needsUpdate = true;
    // The quad: the plane's outer corners in the case frame, around its centre.
    const corners = [
      [-0.5, -0.5],
      [f.width - 0.5, -0.5],
      [f.width - 0.5, f.height - 0.5],
      [-0.5, f.height - 0.5],
    ].map(([u, v]) => voxelToCaseFrame(s, planeToVoxel(f, index, u, v))!);
    const center = corners.reduce((c, p) => c.map((x, a) => x + p[a] / 4) as Vec3, [0, 0, 0] as Vec3);
    m.position.set(...center);
    const position = geometry.getAttribute('position') as BufferAttribute;
    corners.forEach((p, n) => position.setXYZ(n, p[0] - center[0], p[1] - center[1], p[2] - center[2]));
    position.needsUpdate = true;
    geometry.computeBoundingSphere();
    geometry.computeBoundingBox();
  });

  return (
    <mesh ref={mesh} name={`slice-plane-${axis}`} geometry={geometry} renderOrder={1} {...drag}>
      <meshBasicMaterial map={texture} side={DoubleSide} toneMapped={false} />
    </mesh>
  );
}

/** A small sphere at the crosshair, seen through the anatomy. */
function CrosshairMarker() {
  const cursor = useViewer((s) => s.cursor);
  const grid = useViewer((s) => s.grid);
  const sceneCenterLpsMm = useViewer((s) => s.sceneCenterLpsMm);
  const position = useMemo(() => (cursor ? voxelToCaseFrame({ grid, sceneCenterLpsMm }, cursor) : null), [cursor, grid, sceneCenterLpsMm]);
  const invalidate = useThree((s) => s.invalidate);
  useEffect(() => invalidate(), [position, invalidate]);
  if (!position) return null;
  return (
    <mesh name="crosshair-marker" position={position} renderOrder={12} raycast={noRaycast}>
      <sphereGeometry args={[0.004, 16, 12]} />
      <meshBasicMaterial color="#ffd54f" depthTest={false} transparent />
    </mesh>
  );
}

function noRaycast(): void {}

