'use client';
/**
 * Moving a slice plane through the hologram: an XR pointer that presses on the plane (a controller's
 * squeeze or trigger, a pinching hand, a HoloLens-style gaze and pinch) pulls it along its normal as
 * the hand moves, one slice per voxel step, and the crosshair (so the 2-D view too) follows. On the
 * desktop a click on the plane puts the crosshair at the clicked point. Nothing is allocated per move.
 */
import type { ThreeEvent } from '@react-three/fiber';
import { useEffect, useMemo, type RefObject } from 'react';
import { Matrix4, Mesh, Vector3, type Object3D, type Sphere } from 'three';
import { axisVector, spacingOf, type Vec3 } from '../../../mesh/grid.ts';
import { useViewerStore } from '../viewerStore.ts';
import type { SliceAxis } from './sliceGeometry.ts';

/** The part of a pointer event (@pmndrs/pointer-events, as @react-three/xr delivers it) that dragging reads. */
interface PlanePointerEvent {
  pointerId: number;
  pointerType: string;
  point: Vector3;
  pointerPosition?: Vector3;
  target?: unknown;
  stopPropagation(): void;
}

/** Pointer types that drag (everything but the desktop mouse, whose drags orbit the camera). */
const DRAG_POINTERS = ['grab', 'ray', 'touch'];

/**
 * A hand or controller touching the plane takes the plane, not the anatomy around it: the grab
 * pointer (a sphere) otherwise measures meshes by their bounding boxes, so every organ the plane
 * passes through is as close as the plane and the hologram would be grabbed instead. The plane
 * answers a touch with distance 0 and comes first in the scene, so it wins.
 */
function touchPlane(mesh: Mesh): void {
  const inverse = new Matrix4();
  const local = new Vector3();
  (mesh as Mesh & { spherecast?: (sphere: Sphere, target: unknown[]) => void }).spherecast = (sphere, target) => {
    const box = mesh.geometry.boundingBox;
    if (!box) return;
    mesh.updateWorldMatrix(true, false);
    local.copy(sphere.center).applyMatrix4(inverse.copy(mesh.matrixWorld).invert());
    const closest = box.clampPoint(local, new Vector3());
    const point = closest.clone().applyMatrix4(mesh.matrixWorld);
    if (point.distanceTo(sphere.center) > sphere.radius) return;
    const p = mesh.geometry.getAttribute('position');
    const [a, b, c] = [0, 1, 2].map((n) => new Vector3().fromBufferAttribute(p, n));
    const normal = b.sub(a).cross(c.sub(a)).normalize();
    const hit = { distance: 0, point, object: mesh, localPoint: closest, face: { a: 0, b: 1, c: 2, normal, materialIndex: 0 } };
    target.push(hit);
  };
}

export function useSlicePlaneDrag(axis: SliceAxis, plane: RefObject<Object3D | null>) {
  const store = useViewerStore();
  useEffect(() => {
    if (plane.current instanceof Mesh) touchPlane(plane.current);
  }, [plane]);
  return useMemo(() => {
    const work = { start: new Vector3(), now: new Vector3(), normal: new Vector3() };
    let active: { pointerId: number; index: number; mmPerVoxel: number } | null = null;

    /** Where the pointer is, in the case frame (the plane's parent's frame, glTF metres). */
    const local = (e: PlanePointerEvent, out: Vector3) => plane.current!.parent!.worldToLocal(out.copy(e.pointerPosition ?? e.point));

    const onPointerDown = (e: PlanePointerEvent) => {
      const s = store.getState();
      if (!DRAG_POINTERS.includes(e.pointerType) || !s.grid || !s.cursor || !plane.current) return;
      e.stopPropagation();
      (e.target as { setPointerCapture?: (id: number) => void } | undefined)?.setPointerCapture?.(e.pointerId);
      const f = s.grid.frames[axis];
      // The plane's normal in the case frame: the voxel axis it steps along, LPS → glTF (X = L, Y = S, Z = −P).
      const [l, p, sup] = axisVector(s.grid.affine, f.normal) as Vec3;
      work.normal.set(l, sup, -p).normalize();
      active = { pointerId: e.pointerId, index: s.cursor[f.normal], mmPerVoxel: spacingOf(s.grid.affine)[f.normal] };
      local(e, work.start);
    };
    const onPointerMove = (e: PlanePointerEvent) => {
      const s = store.getState();
      if (!active || e.pointerId !== active.pointerId || !s.grid || !s.cursor || !plane.current) return;
      e.stopPropagation();
      const along = local(e, work.now).sub(work.start).dot(work.normal) * 1000;
      const f = s.grid.frames[axis];
      const next = [...s.cursor] as Vec3;
      next[f.normal] = active.index + Math.round(along / active.mmPerVoxel);
      if (next[f.normal] !== s.cursor[f.normal]) s.setCursor(next);
    };
    const onPointerUp = (e: PlanePointerEvent) => {
      if (active && e.pointerId === active.pointerId) active = null;
    };
    const onClick = (e: ThreeEvent<MouseEvent>) => {
      if (!plane.current || DRAG_POINTERS.includes((e as unknown as PlanePointerEvent).pointerType)) return;
      e.stopPropagation();
      const p = plane.current.parent!.worldToLocal(e.point.clone());
      store.getState().setCursorFromCaseFrame([p.x, p.y, p.z]);
    };
    return { onPointerDown, onPointerMove, onPointerUp, onPointerCancel: onPointerUp, onClick };
  }, [store, axis, plane]);
}
