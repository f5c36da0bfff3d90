'use client';
/**
 * How one structure is drawn right now (visible, opacity, highlighted), from the viewer store. A
 * component using it re-renders only when its own structure's answer changes.
 */
import { useThree } from '@react-three/fiber';
import { useLayoutEffect } from 'react';
import { Color, type MeshStandardMaterial } from 'three';
import { useShallow } from 'zustand/react/shallow';
import type { TissueGroup } from '../../models/anatomy-types.ts';
import { isStructureVisible, useViewer } from './viewerStore.ts';

export interface StructureVisibility {
  visible: boolean;
  /** 0..1 */
  opacity: number;
  /** Hovered or selected: drawn with a glow. */
  highlighted: boolean;
}

export function useStructureVisibility(name: string, group: TissueGroup): StructureVisibility {
  return useViewer(
    useShallow((s) => ({
      visible: isStructureVisible(s, name, group),
      opacity: s.opacity[name] ?? 1,
      highlighted: s.hovered === name || s.selected === name,
    })),
  );
}

const HIGHLIGHT = new Color('#2a4a66');
const NO_GLOW = new Color('#000000');

/**
 * Applies opacity and highlight to a structure's own material in place (no new material, no new
 * geometry). Switching between opaque and translucent changes the shader, so only then is the
 * material marked for update. Translucent structures stay one draw call (single pass).
 */
export function useStructureMaterial(material: MeshStandardMaterial, { opacity, highlighted }: StructureVisibility): void {
  const invalidate = useThree((s) => s.invalidate);
  useLayoutEffect(() => {
    const transparent = opacity < 0.999;
    if (material.transparent !== transparent) {
      material.transparent = transparent;
      material.depthWrite = !transparent;
      // Double-sided translucent materials are drawn in two passes by default: keep one draw call.
      material.forceSinglePass = transparent;
      material.needsUpdate = true;
    }
    material.opacity = opacity;
    invalidate();
  }, [material, opacity, invalidate]);
  useLayoutEffect(() => {
    if (material.emissive) material.emissive.copy(highlighted ? HIGHLIGHT : NO_GLOW);
    invalidate();
  }, [material, highlighted, invalidate]);
}
