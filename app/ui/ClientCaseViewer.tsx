'use client';
/** The 3D viewer, loaded only in the browser (WebGL/WebXR), with three.js in its own chunk. */
import dynamic from 'next/dynamic';

export const ClientCaseViewer = dynamic(() => import('../viewer/CaseViewer.tsx'), {
  ssr: false,
  loading: () => <p className="viewer-message">Starting the 3D viewer…</p>,
});
