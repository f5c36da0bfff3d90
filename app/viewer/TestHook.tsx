'use client';
/**
 * A read-only window into the running viewer for browser tests and the benchmark, present only when
 * the page's URL carries `?testhook=1` (production pages never expose it):
 *
 * - `window.__holocase` (`<TestHook>`, inside the canvas): where the model and the head are, which
 *   structures are drawn, render statistics, XR state, and world positions of named objects (e.g. XR
 *   panel buttons) so a test can aim an emulated controller at them;
 * - `window.__holocaseTimings` (`recordTiming` in `testTimings.ts`): milestones of the page load.
 */
import { useThree } from '@react-three/fiber';
import { useXR } from '@react-three/xr';
import { useEffect, useRef } from 'react';
import { Box3, Mesh, Vector3, type Object3D } from 'three';
import type { Vec3 } from '../../mesh/grid.ts';
import { useVolumes } from './slices/useCaseVolumes.ts';
import { recordTiming } from './testTimings.ts';
import { useViewerStore, type ViewerState } from './viewerStore.ts';

export interface ViewerTestApi {
  /** World centre of the drawn model's bounding box (metres). */
  modelCenter(): Vec3 | null;
  modelScale(): number | null;
  /** Head (camera) position in world space; in XR the headset pose. */
  headPosition(): Vec3;
  /** Unit vector the head looks along. */
  headDirection(): Vec3;
  objectPosition(name: string): Vec3 | null;
  /** World centre of a structure's bounding box (metres). */
  structureCenter(structure: string): Vec3 | null;
  /** Where a structure's centre appears on screen: normalised device coordinates (x right, y up, −1..1). */
  screenPosition(structure: string): [number, number] | null;
  /** Where a world point appears on screen: normalised device coordinates. */
  project(point: Vec3): [number, number];
  /** Unit normal, in world space, of a flat mesh (e.g. a CT slice plane), from its first triangle. */
  planeNormal(name: string): Vec3 | null;
  /** Voxels of the label map on screen that hold `label` (null before it is loaded). */
  labelVoxels(label: number): number | null;
  visibleStructures(): string[];
  /** Structure meshes, and how many of them have their bounding-volume hierarchy for pointer rays yet. */
  boundsTrees(): { meshes: number; built: number };
  renderInfo(): { triangles: number; calls: number; frames: number };
  xrMode(): string | null;
  state(): ViewerState;
  /** Frames drawn so far. */
  frames: number;
  /** Asks for a frame (the desktop view draws on demand). */
  requestFrame(): void;
}

export function TestHook() {
  const scene = useThree((s) => s.scene);
  const gl = useThree((s) => s.gl);
  const camera = useThree((s) => s.camera);
  const invalidate = useThree((s) => s.invalidate);
  const xrMode = useXR((s) => s.mode);
  const session = useXR((s) => s.session);
  const store = useViewerStore();
  const volumes = useVolumes();
  const frames = useRef(0);
  const last = useRef({ triangles: 0, calls: 0 });

  useEffect(() => {
    const v = new Vector3();
    const tuple = (p: Vector3): Vec3 => [p.x, p.y, p.z];
    const head = () => (session && gl.xr.isPresenting ? gl.xr.getCamera() : camera);
    const api: ViewerTestApi = {
      modelCenter() {
        const stage = scene.getObjectByName('case');
        if (!stage) return null;
        const box = new Box3();
        stage.traverse((o) => {
          if (o instanceof Mesh && o.visible !== false) box.expandByObject(o);
        });
        return box.isEmpty() ? null : tuple(box.getCenter(v));
      },
      modelScale() {
        const stage = scene.getObjectByName('model-stage');
        return stage ? stage.scale.x : null;
      },
      headPosition: () => tuple(head().getWorldPosition(v)),
      headDirection: () => tuple(head().getWorldDirection(v)),
      objectPosition(name) {
        const o = scene.getObjectByName(name);
        return o ? tuple(o.getWorldPosition(v)) : null;
      },
      structureCenter(name) {
        const o = scene.getObjectByName(name);
        return o ? tuple(new Box3().setFromObject(o).getCenter(v)) : null;
      },
      screenPosition(name) {
        const o = scene.getObjectByName(name);
        if (!o) return null;
        const p = new Box3().setFromObject(o).getCenter(v).project(head());
        return [p.x, p.y];
      },
      project(point) {
        const p = new Vector3(...point).project(head());
        return [p.x, p.y];
      },
      planeNormal(name) {
        const o = scene.getObjectByName(name);
        const position = o instanceof Mesh ? o.geometry.getAttribute('position') : undefined;
        if (!o || !position || position.count < 3) return null;
        o.updateWorldMatrix(true, false);
        const [a, b, c] = [0, 1, 2].map((n) => new Vector3().fromBufferAttribute(position, n).applyMatrix4(o.matrixWorld));
        const normal = b.sub(a).cross(c.sub(a)).normalize();
        return tuple(normal);
      },
      labelVoxels(label) {
        const data = volumes.labels?.data;
        if (!data) return null;
        let count = 0;
        for (let n = 0; n < data.length; n++) if (data[n] === label) count++;
        return count;
      },
      visibleStructures() {
        const names: string[] = [];
        scene.getObjectByName('case')?.traverse((o) => {
          if (o instanceof Mesh && o.userData.structure && isDrawn(o)) names.push(o.userData.structure as string);
        });
        return names;
      },
      boundsTrees() {
        let meshes = 0;
        let built = 0;
        scene.getObjectByName('case')?.traverse((o) => {
          if (!(o instanceof Mesh) || !o.userData.structure) return;
          meshes++;
          if (o.geometry.boundsTree) built++;
        });
        return { meshes, built };
      },
      renderInfo: () => ({ ...last.current, frames: frames.current }),
      xrMode: () => xrMode,
      state: () => store.getState(),
      get frames() {
        return frames.current;
      },
      requestFrame: () => invalidate(),
    };
    (window as Window & { __holocase?: ViewerTestApi }).__holocase = api;
  }, [scene, gl, camera, xrMode, session, store, invalidate, volumes]);

  // After each render of the scene: count it and keep its statistics.
  useEffect(() => {
    const previous = scene.onAfterRender;
    scene.onAfterRender = () => {
      last.current.triangles = gl.info.render.triangles;
      last.current.calls = gl.info.render.calls;
      frames.current++;
      if (frames.current === 1) recordTiming('firstFrame');
    };
    return () => {
      scene.onAfterRender = previous;
    };
  }, [scene, gl]);
  return null;
}

/** Whether an object and all its ancestors are visible. */
function isDrawn(o: Object3D): boolean {
  for (let x: Object3D | null = o; x; x = x.parent) if (!x.visible) return false;
  return true;
}
