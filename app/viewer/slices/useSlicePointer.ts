'use client';
/**
 * What the pointer does in a slice view: with the left button, the tool in hand (move the crosshair,
 * paint, erase, or draw seeds); a middle or right drag, or Shift + drag, pans; the wheel steps slices
 * (with Ctrl or ⌘ it zooms about the pointer); a double click fits the plane again. The brush's
 * outline follows the pointer.
 */
import { useEffect, useMemo, useRef, type PointerEvent as ReactPointerEvent, type RefObject } from 'react';
import type { Vec3 } from '../../../mesh/grid.ts';
import { BACKGROUND_SEED, beginStroke, continueStroke, endStroke } from '../editing/editSession.ts';
import { syncHistory, useEditSession } from '../editing/useEditSession.ts';
import { useViewerStore } from '../viewerStore.ts';
import { placeInView, planeToVoxel, viewToPlane, type SliceAxis, type ViewPlacement } from './sliceGeometry.ts';
import { useVolumes } from './useCaseVolumes.ts';

type Drag = { kind: 'tool'; stroke: boolean } | { kind: 'pan'; x: number; y: number; pan: [number, number] };

/** Zoom factor per wheel notch with Ctrl. */
const ZOOM_STEP = 1.15;

export function useSlicePointer(axis: SliceAxis, canvas: RefObject<HTMLCanvasElement | null>, size: { width: number; height: number }) {
  const store = useViewerStore();
  const volumes = useVolumes();
  const session = useEditSession();
  const onRedraw = useRef<(() => void) | null>(null);
  const drag = useRef<Drag | null>(null);
  const hover = useRef<[number, number] | null>(null);

  const placement = (s = store.getState()): ViewPlacement | null => {
    if (!s.grid) return null;
    const view = s.sliceViews[axis];
    return placeInView(s.grid.frames[axis], view.zoom, view.pan, size.width, size.height);
  };
  const voxelAt = (x: number, y: number): Vec3 | null => {
    const s = store.getState();
    const place = placement(s);
    if (!s.grid || !s.cursor || !place) return null;
    const f = s.grid.frames[axis];
    const [u, v] = viewToPlane(f, place, x, y);
    return planeToVoxel(f, s.cursor[f.normal], u, v);
  };
  const local = (e: { clientX: number; clientY: number }): [number, number] => {
    const r = canvas.current!.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };

  // Wheel: a native listener, so the page does not scroll under the view.
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const s = store.getState();
      if (e.ctrlKey || e.metaKey) {
        const view = s.sliceViews[axis];
        const factor = e.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP;
        const zoom = Math.min(40, Math.max(0.5, view.zoom * factor));
        // Keep the point under the pointer where it is.
        const [x, y] = local(e);
        const k = zoom / view.zoom;
        const cx = size.width / 2 + view.pan[0];
        const cy = size.height / 2 + view.pan[1];
        s.setSliceView(axis, { zoom, pan: [x - (x - cx) * k - size.width / 2, y - (y - cy) * k - size.height / 2] });
      } else if (e.deltaY !== 0) {
        s.stepSlice(axis, e.deltaY > 0 ? 1 : -1);
      }
    };
    c.addEventListener('wheel', onWheel, { passive: false });
    return () => c.removeEventListener('wheel', onWheel);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [canvas, store, axis, size]);

  const handlers = {
    onPointerDown(e: ReactPointerEvent<HTMLCanvasElement>) {
      const [x, y] = local(e);
      e.currentTarget.setPointerCapture(e.pointerId);
      const s = store.getState();
      if (e.button === 1 || e.button === 2 || (e.button === 0 && e.shiftKey)) {
        drag.current = { kind: 'pan', x, y, pan: s.sliceViews[axis].pan };
        return;
      }
      if (e.button !== 0) return;
      const voxel = voxelAt(x, y);
      if (!voxel || !s.grid) return;
      const painting = s.tool !== 'navigate' && s.canEdit && s.viewingRevision === null && session && s.activeLabel !== null;
      if (!painting) {
        s.setCursor(voxel);
        drag.current = { kind: 'tool', stroke: false };
        return;
      }
      const kind = s.tool === 'brush' ? 'paint' : s.tool === 'eraser' ? 'erase' : 'seeds';
      const value = kind === 'seeds' && s.seedTarget === 'background' ? BACKGROUND_SEED : s.activeLabel!;
      beginStroke(session, voxel, { kind, value, brush: s.brush, frame: s.grid.frames[axis], affine: s.grid.affine, ct: volumes.ct });
      drag.current = { kind: 'tool', stroke: true };
      s.labelsChanged();
    },
    onPointerMove(e: ReactPointerEvent<HTMLCanvasElement>) {
      const [x, y] = local(e);
      hover.current = [x, y];
      const d = drag.current;
      const s = store.getState();
      if (d?.kind === 'pan') {
        s.setSliceView(axis, { zoom: s.sliceViews[axis].zoom, pan: [d.pan[0] + x - d.x, d.pan[1] + y - d.y] });
      } else if (d?.kind === 'tool') {
        const voxel = voxelAt(x, y);
        if (!voxel) return;
        if (d.stroke && session) {
          continueStroke(session, voxel);
          s.labelsChanged();
        } else {
          s.setCursor(voxel);
        }
      } else if (s.tool !== 'navigate') {
        onRedraw.current?.();
      }
    },
    onPointerUp() {
      const d = drag.current;
      drag.current = null;
      if (d?.kind === 'tool' && d.stroke && session) {
        endStroke(session);
        syncHistory(store, session);
        store.getState().labelsChanged();
      }
    },
    onPointerCancel() {
      handlers.onPointerUp();
    },
    onPointerLeave() {
      hover.current = null;
      onRedraw.current?.();
    },
    onDoubleClick() {
      store.getState().setSliceView(axis, { zoom: 1, pan: [0, 0] });
    },
    onContextMenu(e: { preventDefault(): void }) {
      e.preventDefault();
    },
  };

  /** Outline of the brush at the pointer (a circle of the brush's radius on screen). */
  const drawCursor = (ctx: CanvasRenderingContext2D, place: ViewPlacement) => {
    const s = store.getState();
    if (!hover.current || s.tool === 'navigate' || !s.canEdit) return;
    ctx.strokeStyle = s.tool === 'eraser' ? '#ff8a80' : s.tool === 'seeds' && s.seedTarget === 'background' ? '#00e5ff' : '#ffffff';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.arc(hover.current[0], hover.current[1], s.brush.radiusMm * place.scale, 0, Math.PI * 2);
    ctx.stroke();
  };

  return useMemo(() => ({ handlers, drawCursor, onRedraw }), [store, volumes, session, axis, size]); // eslint-disable-line react-hooks/exhaustive-deps
}

export type SlicePointer = ReturnType<typeof useSlicePointer>;
