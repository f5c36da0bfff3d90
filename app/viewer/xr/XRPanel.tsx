'use client';
/**
 * The floating panel in an XR session: tissue groups, the cutting plane, the CT planes, scale, pose,
 * exit (see `XRPanelContent.tsx`). Its group is always in the scene (the session's placement puts it to
 * the user's left); what it shows, and the UI library that draws it (@react-three/uikit, with its
 * layout engine), is a code chunk of its own: loaded once the page is idle, drawn in sessions only, so
 * a desktop's first frame does not wait for it.
 */
import { useXR } from '@react-three/xr';
import { forwardRef, lazy, Suspense, useEffect } from 'react';
import type { Group } from 'three';
import type { CaseModelData } from '../caseStructures.ts';
import { whenIdle } from '../whenIdle.ts';

const loadContent = () => import('./XRPanelContent.tsx');
const XRPanelContent = lazy(loadContent);

export interface XRPanelProps {
  model: CaseModelData;
  /** Case label shown as the panel title. */
  title: string;
}

export const XRPanel = forwardRef<Group, XRPanelProps>(function XRPanel({ model, title }, ref) {
  const session = useXR((s) => s.session);
  useEffect(() => whenIdle(() => void loadContent(), 5000), []);
  return (
    <group ref={ref} name="xr-panel" visible={!!session}>
      {session && (
        <Suspense fallback={null}>
          <XRPanelContent model={model} title={title} session={session} />
        </Suspense>
      )}
    </group>
  );
});
