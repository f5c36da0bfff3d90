'use client';
/**
 * Bounding-volume hierarchies for the meshes inside, built after the first frame is on screen: they
 * make every pointer ray (mouse, controllers, hands) cheap, but building them for a clinical-size case
 * takes about half a second of main thread, which the surgeon would otherwise wait for before seeing
 * anything. They are built one mesh per idle moment (until then a ray tests the mesh's triangles the
 * plain way, which is slower but gives the same hit), and again for the meshes of a new revision.
 */
import { useThree } from '@react-three/fiber';
import { useEffect, useRef, type ReactNode } from 'react';
import { Mesh, type Group } from 'three';
import { acceleratedRaycast, CENTER, MeshBVH } from 'three-mesh-bvh';
import { whenIdle } from './whenIdle.ts';

export function DeferredBvh({ children, rebuildKey }: { children: ReactNode; rebuildKey: unknown }) {
  const group = useRef<Group>(null);
  const raycaster = useThree((s) => s.raycaster);
  useEffect(() => {
    // The nearest hit is all the viewer asks of a ray.
    raycaster.firstHitOnly = true;
    return () => {
      delete raycaster.firstHitOnly;
    };
  }, [raycaster]);
  useEffect(() => {
    const pending: Mesh[] = [];
    group.current?.traverse((child) => {
      if (child instanceof Mesh && !child.geometry.boundsTree && child.raycast === Mesh.prototype.raycast) pending.push(child);
    });
    const built: Mesh[] = [];
    let cancel = () => {};
    const next = () => {
      const mesh = pending.shift();
      if (!mesh) return;
      // CENTER splits build fastest; the case's meshes are queried by a handful of rays per frame.
      mesh.geometry.boundsTree = new MeshBVH(mesh.geometry, { strategy: CENTER, maxLeafTris: 10 });
      mesh.raycast = acceleratedRaycast;
      built.push(mesh);
      cancel = whenIdle(next, 1000);
    };
    // Two animation frames: the first frame with the model has been drawn by the second.
    let frame = requestAnimationFrame(() => {
      frame = requestAnimationFrame(() => (cancel = whenIdle(next, 1000)));
    });
    return () => {
      cancelAnimationFrame(frame);
      cancel();
      for (const mesh of built) {
        mesh.geometry.boundsTree = undefined;
        mesh.raycast = Mesh.prototype.raycast;
      }
    };
  }, [rebuildKey]);
  return <group ref={group}>{children}</group>;
}
