'use client';
/**
 * Puts the model in front of the user when an XR session starts (and when asked again): about a metre
 * ahead, resting at table height, lying supine (anterior up, head away from the user) or standing,
 * at life size or table-top scale. The floating panel goes to the user's left. Runs on the first
 * session frame with a head pose; working objects are preallocated.
 */
import { useFrame, useThree } from '@react-three/fiber';
import { useXR } from '@react-three/xr';
import { useEffect, useMemo, useRef, type RefObject } from 'react';
import { Matrix4, Quaternion, Vector3, type Object3D } from 'three';
import type { CaseModelData } from '../caseStructures.ts';
import { useViewer, useViewerStore } from '../viewerStore.ts';

export interface XRPlacementOptions {
  /** Distance from the eyes to the model's centre, metres (more for long models, so they do not touch the user). */
  distance?: number;
  /** Gap kept between the user and the near end of the model, metres. */
  nearGap?: number;
  /** Table height is this far below the eyes, clamped to `tableHeightRange` (metres above the floor). */
  tableBelowEyes?: number;
  tableHeightRange?: [number, number];
  /** Scale of the table-top view (life size is 1). */
  tableTopScale?: number;
}

export const XR_PLACEMENT_DEFAULTS: Required<XRPlacementOptions> = {
  distance: 1.0,
  nearGap: 0.45,
  tableBelowEyes: 0.7,
  tableHeightRange: [0.7, 1.0],
  tableTopScale: 0.4,
};

export function xrScaleValue(scale: 'life' | 'table', options: XRPlacementOptions = {}): number {
  return scale === 'life' ? 1 : (options.tableTopScale ?? XR_PLACEMENT_DEFAULTS.tableTopScale);
}

/**
 * Places `model` (the group holding the case) and `panel` on session start, on `replaceInXr()` and on
 * pose changes; rescales in place (keeping the model on the table) on scale changes; puts the model back
 * at the origin (identity) when the session ends.
 */
export function useXRPlacement(
  target: RefObject<Object3D | null>,
  panel: RefObject<Object3D | null>,
  model: CaseModelData,
  options: XRPlacementOptions = {},
): void {
  const o = { ...XR_PLACEMENT_DEFAULTS, ...options };
  const session = useXR((s) => s.session);
  const gl = useThree((s) => s.gl);
  const nonce = useViewer((s) => s.xrPlacementNonce);
  const pose = useViewer((s) => s.xrPose);
  const scale = useViewer((s) => s.xrScale);
  const store = useViewerStore();
  const pending = useRef(false);
  const waited = useRef(0);
  const work = useMemo(
    () => ({
      head: new Vector3(),
      forward: new Vector3(),
      right: new Vector3(),
      yaw: new Quaternion(),
      pose: new Quaternion(),
      rotation: new Matrix4(),
      center: new Vector3(),
      up: new Vector3(0, 1, 0),
      xAxis: new Vector3(1, 0, 0),
    }),
    [],
  );

  // Ask for a placement on session start, on request and on pose change.
  useEffect(() => {
    if (session) pending.current = true;
  }, [session, nonce, pose]);

  // Back to the desktop frame when the session ends.
  useEffect(() => {
    if (session) return;
    const t = target.current;
    if (t) {
      t.position.set(0, 0, 0);
      t.quaternion.identity();
      t.scale.setScalar(1);
    }
  }, [session, target]);

  // Scale switch: rescale about the model centre, keeping its underside on the table.
  useEffect(() => {
    const t = target.current;
    if (!session || !t || pending.current) return;
    const next = xrScaleValue(scale, o);
    const previous = t.scale.x;
    if (Math.abs(previous - next) < 1e-6) return;
    const halfHeight = worldHalfHeight(model, t.quaternion);
    work.center.copy(model.sphere.center).multiplyScalar(previous).applyQuaternion(t.quaternion).add(t.position);
    const bottom = work.center.y - halfHeight * previous;
    t.scale.setScalar(next);
    work.center.y = bottom + halfHeight * next;
    t.position.copy(model.sphere.center).multiplyScalar(-next).applyQuaternion(t.quaternion).add(work.center);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [scale, session]);

  useFrame(() => {
    const t = target.current;
    if (!pending.current || !t || !session || !gl.xr.isPresenting) return;
    const xrCamera = gl.xr.getCamera();
    xrCamera.getWorldPosition(work.head);
    // Wait (a few frames at most) for the first head pose.
    if (work.head.lengthSq() === 0 && waited.current++ < 10) return;
    pending.current = false;
    waited.current = 0;

    // 1. Facing direction on the floor plane.
    xrCamera.getWorldDirection(work.forward);
    work.forward.y = 0;
    if (work.forward.lengthSq() < 1e-6) work.forward.set(0, 0, -1);
    work.forward.normalize();
    work.right.crossVectors(work.forward, work.up).normalize();

    // 2. Orientation: turn to face the user; lie supine (anterior up, superior away) or stand.
    work.yaw.setFromAxisAngle(work.up, Math.atan2(-work.forward.x, -work.forward.z));
    if (store.getState().xrPose === 'supine') work.pose.setFromAxisAngle(work.xAxis, -Math.PI / 2);
    else work.pose.identity();
    t.quaternion.multiplyQuaternions(work.yaw, work.pose);
    const s = xrScaleValue(store.getState().xrScale, o);
    t.scale.setScalar(s);

    // 3. Position: centre ahead of the eyes (far enough that the near end keeps a gap), underside on the table.
    const halfDepth = worldHalfExtent(model, t.quaternion, work.forward) * s;
    const halfHeight = worldHalfHeight(model, t.quaternion) * s;
    const distance = Math.max(o.distance, o.nearGap + halfDepth);
    const table = Math.min(o.tableHeightRange[1], Math.max(o.tableHeightRange[0], work.head.y - o.tableBelowEyes));
    work.center.copy(work.head).addScaledVector(work.forward, distance);
    work.center.y = table + halfHeight;
    t.position.copy(model.sphere.center).multiplyScalar(-s).applyQuaternion(t.quaternion).add(work.center);

    // 4. Panel: to the left, a little nearer, at chest height, turned toward the user.
    const p = panel.current;
    if (p) {
      p.position.copy(work.head).addScaledVector(work.forward, 0.65).addScaledVector(work.right, -0.45);
      p.position.y = work.head.y - 0.35;
      p.quaternion.setFromAxisAngle(work.up, Math.atan2(-work.forward.x, -work.forward.z) + 0.45);
    }
  });
}

const corner = new Vector3();
const axis = new Vector3();

/** Half the model's extent along world `direction` once rotated by `q` (scale 1). */
function worldHalfExtent(model: CaseModelData, q: Quaternion, direction: Vector3): number {
  const { min, max } = model.bounds;
  let lo = Infinity;
  let hi = -Infinity;
  axis.copy(direction).normalize();
  for (let i = 0; i < 8; i++) {
    corner.set(i & 1 ? max.x : min.x, i & 2 ? max.y : min.y, i & 4 ? max.z : min.z).applyQuaternion(q);
    const d = corner.dot(axis);
    lo = Math.min(lo, d);
    hi = Math.max(hi, d);
  }
  return (hi - lo) / 2;
}

const UP = new Vector3(0, 1, 0);
function worldHalfHeight(model: CaseModelData, q: Quaternion): number {
  return worldHalfExtent(model, q, UP);
}
