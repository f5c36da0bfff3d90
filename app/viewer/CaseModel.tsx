'use client';
/**
 * The case's anatomy as declarative JSX: one group per tissue, one mesh (one draw call) per structure,
 * reusing the loaded geometry and material. Hover and click name a structure and move the CT crosshair
 * to the clicked point; in measuring mode a click drops a measurement point (in the case frame, metres).
 */
import { useMemo, useRef } from 'react';
import type { ThreeEvent } from '@react-three/fiber';
import type { Group } from 'three';
import type { CaseModelData, CaseStructure } from './caseStructures.ts';
import { useStructureMaterial, useStructureVisibility } from './useStructureVisibility.ts';
import { useViewerStore } from './viewerStore.ts';

export interface CaseModelProps {
  model: CaseModelData;
}

/** Pointer moves between press and release (pixels) beyond which a click is a drag of the view. */
const CLICK_SLOP_PX = 5;
/** Structures fainter than this are looked through: hover and clicks go to what is behind them. */
const SEE_THROUGH_OPACITY = 0.35;

export function CaseModel({ model }: CaseModelProps) {
  const root = useRef<Group>(null);
  const handlers = useStructurePointer(root);
  return (
    <group ref={root} name="case">
      {model.groups.map((g) => (
        <group key={g.group} name={g.group}>
          {g.structures.map((s) => (
            <StructureMesh key={s.name} structure={s} handlers={handlers} />
          ))}
        </group>
      ))}
    </group>
  );
}

type StructurePointerHandlers = ReturnType<typeof useStructurePointer>;

function StructureMesh({ structure, handlers }: { structure: CaseStructure; handlers: StructurePointerHandlers }) {
  const visibility = useStructureVisibility(structure.name, structure.group);
  useStructureMaterial(structure.material, visibility);
  return (
    <mesh
      name={structure.name}
      geometry={structure.geometry}
      material={structure.material}
      matrix={structure.matrix}
      matrixAutoUpdate={false}
      visible={visibility.visible}
      userData={{ structure: structure.name }}
      {...handlers}
    />
  );
}

/** Hover, click and measurement handlers shared by all structure meshes. */
function useStructurePointer(root: React.RefObject<Group | null>) {
  const store = useViewerStore();
  return useMemo(() => {
    const nameOf = (e: ThreeEvent<PointerEvent | MouseEvent>) => (e.object.userData.structure as string | undefined) ?? null;
    const seeThrough = (name: string | null) => name !== null && (store.getState().opacity[name] ?? 1) < SEE_THROUGH_OPACITY;
    return {
      onPointerOver: (e: ThreeEvent<PointerEvent>) => {
        if (seeThrough(nameOf(e))) return;
        e.stopPropagation();
        store.getState().setHovered(nameOf(e));
      },
      onPointerOut: (e: ThreeEvent<PointerEvent>) => {
        if (store.getState().hovered === nameOf(e)) store.getState().setHovered(null);
      },
      onClick: (e: ThreeEvent<MouseEvent>) => {
        if (typeof e.delta === 'number' && e.delta > CLICK_SLOP_PX) return;
        const state = store.getState();
        // Measuring takes the first surface hit, translucent or not (skin to skin is a distance too).
        if (state.measure.active && root.current) {
          e.stopPropagation();
          const p = root.current.worldToLocal(e.point.clone());
          state.addMeasurePoint([p.x, p.y, p.z]);
          return;
        }
        if (seeThrough(nameOf(e))) return;
        e.stopPropagation();
        state.select(nameOf(e));
        if (root.current) {
          const p = root.current.worldToLocal(e.point.clone());
          state.setCursorFromCaseFrame([p.x, p.y, p.z]);
        }
      },
    };
  }, [store, root]);
}
