'use client';
/**
 * Grab, move, turn and two-hand scale of an object with XR pointers: a controller's squeeze (grab
 * pointer), a hand's pinch (grab pointer near the model, ray pointer from afar), a controller's trigger
 * or a HoloLens-style gaze-and-pinch (ray / transient pointer). One pointer carries the object rigidly;
 * two pointers move, turn and scale it about their midpoint. Nothing is allocated per move.
 */
import { useMemo, type RefObject } from 'react';
import { Matrix4, Quaternion, Vector3, type Object3D } from 'three';

export interface UseGrabOptions {
  /** Grabbing only works while this is true (e.g. inside an XR session). */
  enabled: boolean;
  /** Smallest and largest scale two hands may reach. */
  minScale?: number;
  maxScale?: number;
  /** Pointer types that can grab (`grab`: squeeze/pinch near the object; `ray`: trigger, pinch or gaze from afar). */
  pointerTypes?: readonly string[];
  /** Called when a grab starts and ends (e.g. to pause other behaviour). */
  onGrabChange?: (grabbing: boolean) => void;
}

export const USE_GRAB_DEFAULTS = {
  minScale: 0.05,
  maxScale: 4,
  pointerTypes: ['grab', 'ray'],
} satisfies Partial<UseGrabOptions>;

/** The part of a @pmndrs/pointer-events event that grabbing reads. */
export interface GrabPointerEvent {
  pointerId: number;
  pointerType: string;
  pointerPosition: Vector3;
  pointerQuaternion: Quaternion;
  target: Object3D;
  stopPropagation(): void;
}

export interface GrabHandlers {
  onPointerDown: (event: GrabPointerEvent) => void;
  onPointerMove: (event: GrabPointerEvent) => void;
  onPointerUp: (event: GrabPointerEvent) => void;
  onPointerCancel: (event: GrabPointerEvent) => void;
}

interface PointerSlot {
  id: number;
  active: boolean;
  position: Vector3;
  quaternion: Quaternion;
}

/** Preallocated working state of one grabbable object. */
function createGrabState() {
  const slot = (): PointerSlot => ({ id: -1, active: false, position: new Vector3(), quaternion: new Quaternion() });
  return {
    slots: [slot(), slot()] as [PointerSlot, PointerSlot],
    // one-pointer: object world matrix relative to the pointer pose at the start
    offset: new Matrix4(),
    pointerMatrix: new Matrix4(),
    world: new Matrix4(),
    parentInverse: new Matrix4(),
    unitScale: new Vector3(1, 1, 1),
    // two-pointer: poses at the start
    startMid: new Vector3(),
    startDir: new Vector3(),
    startDistance: 1,
    startPosition: new Vector3(),
    startQuaternion: new Quaternion(),
    startScale: 1,
    mid: new Vector3(),
    dir: new Vector3(),
    turn: new Quaternion(),
    position: new Vector3(),
    quaternion: new Quaternion(),
    scale: new Vector3(),
  };
}

/**
 * Returns pointer handlers to spread on the grabbable group.
 *
 * 1. pointerdown: capture the pointer, remember its pose, and (re)start a one- or two-pointer grab.
 * 2. pointermove: update the pose and move the object.
 * 3. pointerup/cancel: release; with one pointer left, continue as a one-pointer grab.
 */
export function useGrab(target: RefObject<Object3D | null>, options: UseGrabOptions): GrabHandlers {
  const { enabled, minScale, maxScale, pointerTypes, onGrabChange } = { ...USE_GRAB_DEFAULTS, ...options };
  const state = useMemo(createGrabState, []);

  return useMemo(() => {
    const activeCount = () => (state.slots[0].active ? 1 : 0) + (state.slots[1].active ? 1 : 0);
    const slotOf = (id: number): PointerSlot | undefined => {
      const [a, b] = state.slots;
      return a.active && a.id === id ? a : b.active && b.id === id ? b : undefined;
    };

    const begin = (object: Object3D) => {
      object.updateWorldMatrix(true, false);
      const parent = object.parent;
      if (parent) state.parentInverse.copy(parent.matrixWorld).invert();
      else state.parentInverse.identity();
      const [a, b] = state.slots;
      if (a.active && b.active) {
        object.matrixWorld.decompose(state.startPosition, state.startQuaternion, state.scale);
        state.startScale = state.scale.x;
        state.startMid.addVectors(a.position, b.position).multiplyScalar(0.5);
        state.startDir.subVectors(b.position, a.position);
        state.startDistance = Math.max(1e-4, state.startDir.length());
        state.startDir.divideScalar(state.startDistance);
      } else {
        const only = a.active ? a : b;
        state.pointerMatrix.compose(only.position, only.quaternion, state.unitScale);
        state.offset.copy(state.pointerMatrix).invert().multiply(object.matrixWorld);
      }
    };

    const apply = (object: Object3D) => {
      const [a, b] = state.slots;
      if (a.active && b.active) {
        state.mid.addVectors(a.position, b.position).multiplyScalar(0.5);
        state.dir.subVectors(b.position, a.position);
        const distance = Math.max(1e-4, state.dir.length());
        state.dir.divideScalar(distance);
        const scale = Math.min(maxScale, Math.max(minScale, (state.startScale * distance) / state.startDistance));
        const factor = scale / state.startScale;
        state.turn.setFromUnitVectors(state.startDir, state.dir);
        state.position.subVectors(state.startPosition, state.startMid).multiplyScalar(factor).applyQuaternion(state.turn).add(state.mid);
        state.quaternion.multiplyQuaternions(state.turn, state.startQuaternion);
        state.scale.setScalar(scale);
        state.world.compose(state.position, state.quaternion, state.scale);
      } else {
        const only = a.active ? a : b;
        state.pointerMatrix.compose(only.position, only.quaternion, state.unitScale);
        state.world.multiplyMatrices(state.pointerMatrix, state.offset);
      }
      state.world.premultiply(state.parentInverse);
      state.world.decompose(object.position, object.quaternion, object.scale);
    };

    const onPointerDown = (event: GrabPointerEvent) => {
      const object = target.current;
      if (!enabled || !object || !pointerTypes.includes(event.pointerType)) return;
      const free = !state.slots[0].active ? state.slots[0] : !state.slots[1].active ? state.slots[1] : undefined;
      if (!free) return;
      event.stopPropagation();
      (event.target as Object3D & { setPointerCapture?: (id: number) => void }).setPointerCapture?.(event.pointerId);
      free.id = event.pointerId;
      free.active = true;
      free.position.copy(event.pointerPosition);
      free.quaternion.copy(event.pointerQuaternion);
      begin(object);
      if (activeCount() === 1) onGrabChange?.(true);
    };
    const onPointerMove = (event: GrabPointerEvent) => {
      const object = target.current;
      const slot = slotOf(event.pointerId);
      if (!object || !slot) return;
      slot.position.copy(event.pointerPosition);
      slot.quaternion.copy(event.pointerQuaternion);
      apply(object);
    };
    const onPointerUp = (event: GrabPointerEvent) => {
      const object = target.current;
      const slot = slotOf(event.pointerId);
      if (!slot) return;
      slot.active = false;
      slot.id = -1;
      if (object && activeCount() > 0) begin(object);
      if (activeCount() === 0) onGrabChange?.(false);
    };
    return { onPointerDown, onPointerMove, onPointerUp, onPointerCancel: onPointerUp };
  }, [state, target, enabled, minScale, maxScale, pointerTypes, onGrabChange]);
}
