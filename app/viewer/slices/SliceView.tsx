'use client';
/**
 * One slice view (axial, coronal or sagittal) on a 2-D canvas: the CT through the window, the label
 * overlay, the crosshair lines of the two other views, orientation letters, the slice number and the
 * value under the crosshair. The wheel scrolls slices (with Ctrl: zooms), a middle or right drag (or
 * Shift + drag) pans, a double click fits; the left button does what the tool in hand does
 * (`useSlicePointer`). It redraws from a store subscription, at most once per animation frame, without
 * re-rendering React.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useViewer, useViewerStore, type ViewerState } from '../viewerStore.ts';
import { useEditSession } from '../editing/useEditSession.ts';
import { ctValueAt, isSliceLoaded } from './ctVolume.ts';
import { createOverlayColors } from './overlayColors.ts';
import { placeInView, planeToView, type SliceAxis } from './sliceGeometry.ts';
import { createPlaneImageRenderer } from './slicePlaneImage.ts';
import { useVolumes } from './useCaseVolumes.ts';
import { useSlicePointer } from './useSlicePointer.ts';

export interface SliceViewProps {
  axis: SliceAxis;
  /** Called once, the first time the view draws the CT. */
  onFirstDraw?: (axis: SliceAxis) => void;
}

/** Colours of the crosshair line of each view (3D Slicer's: red axial, green coronal, yellow sagittal). */
export const AXIS_COLORS: Record<SliceAxis, string> = { axial: '#e8514f', coronal: '#4fbf5a', sagittal: '#e8c547' };
const AXIS_NAMES: Record<SliceAxis, string> = { axial: 'Axial', coronal: 'Coronal', sagittal: 'Sagittal' };
/** Patient directions at the left, right, top and bottom edge of each view. */
const EDGES: Record<SliceAxis, [string, string, string, string]> = {
  axial: ['R', 'L', 'A', 'P'],
  coronal: ['R', 'L', 'S', 'I'],
  sagittal: ['A', 'P', 'S', 'I'],
};

export function SliceView({ axis, onFirstDraw }: SliceViewProps) {
  const store = useViewerStore();
  const volumes = useVolumes();
  const session = useEditSession();
  const canvas = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });
  const renderer = useMemo(() => (typeof document === 'undefined' ? null : createPlaneImageRenderer()), []);
  const pointer = useSlicePointer(axis, canvas, size);
  const index = useViewer((s) => (s.cursor && s.grid ? s.cursor[s.grid.frames[axis].normal] : null));
  const count = useViewer((s) => (s.grid ? s.grid.dims[s.grid.frames[axis].normal] : 0));
  const firstDraw = useRef(onFirstDraw);
  firstDraw.current = onFirstDraw;

  // Follow the element's size.
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const observer = new ResizeObserver(([entry]) => setSize({ width: Math.round(entry.contentRect.width), height: Math.round(entry.contentRect.height) }));
    observer.observe(c);
    return () => observer.disconnect();
  }, []);

  // Draw whenever something drawn changes.
  useEffect(() => {
    const c = canvas.current;
    if (!c || !renderer || size.width === 0) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(size.width * dpr);
    c.height = Math.round(size.height * dpr);
    let frame = 0;
    // Whether the last picture was already at full resolution (then newly arrived CT chunks change nothing in it).
    let full = false;
    const colorsOf = createOverlayColors();
    const draw = () => {
      frame = 0;
      const s = store.getState();
      const ctx = c.getContext('2d')!;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = '#000';
      ctx.fillRect(0, 0, c.width, c.height);
      if (!s.grid || !s.cursor || !volumes.ct) return;
      const f = s.grid.frames[axis];
      const ct = volumes.ct;
      full = f.normal === 2 ? isSliceLoaded(ct, s.cursor[2]) : ct.slabsLoaded === ct.slabs.length;
      const images = renderer.render({
        frame: f,
        index: s.cursor[f.normal],
        ct: volumes.ct,
        window: s.ctWindow,
        labels: volumes.labels,
        overlay: s.overlay.visible ? s.overlay : null,
        colors: colorsOf(s),
        session,
      });
      const view = s.sliceViews[axis];
      const place = placeInView(f, view.zoom, view.pan, size.width, size.height);
      const [a, b, cc, d, e, g] = f.toScreen;
      const k = place.scale * dpr;
      ctx.setTransform(a * k, b * k, cc * k, d * k, (place.x0 + e * place.scale) * dpr, (place.y0 + g * place.scale) * dpr);
      ctx.imageSmoothingEnabled = true;
      if (images.hasCt) ctx.drawImage(images.ct, -0.5, -0.5);
      ctx.imageSmoothingEnabled = false;
      if (images.hasOverlay) ctx.drawImage(images.overlay, -0.5, -0.5);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      drawCrosshair(ctx, s, axis, place);
      drawLabels(ctx, s, axis, size, volumes.ct ? ctValueAt(volumes.ct, ...s.cursor) : null);
      pointer.drawCursor(ctx, place);
      const drawn = Number(c.dataset.drawn ?? 0) + 1;
      c.dataset.drawn = String(drawn);
      if (drawn === 1) firstDraw.current?.(axis);
    };
    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(draw);
    };
    schedule();
    const unsubscribe = store.subscribe((s, p) => {
      const changed = DRAWN_KEYS.filter((key) => s[key] !== p[key]);
      if (changed.length === 0 || (full && changed.length === 1 && changed[0] === 'ctVersion')) return;
      schedule();
    });
    pointer.onRedraw.current = schedule;
    return () => {
      unsubscribe();
      pointer.onRedraw.current = null;
      if (frame) cancelAnimationFrame(frame);
    };
  }, [store, volumes, session, renderer, size, axis, pointer]);

  return (
    <div className="slice-view" data-axis={axis}>
      <canvas
        ref={canvas}
        data-testid={`slice-${axis}`}
        data-index={index ?? ''}
        aria-label={`${AXIS_NAMES[axis]} slice ${index === null ? '' : `${index + 1} of ${count}`}`}
        {...pointer.handlers}
      />
    </div>
  );
}

/** State a view draws from: a change to any of these redraws it. */
const DRAWN_KEYS: (keyof ViewerState)[] = ['grid', 'cursor', 'ctWindow', 'overlay', 'sliceViews', 'ctVersion', 'labelsVersion', 'labelTable', 'hidden', 'isolated', 'structures', 'tool', 'brush', 'grow'];

function drawCrosshair(ctx: CanvasRenderingContext2D, s: ViewerState, axis: SliceAxis, place: ReturnType<typeof placeInView>): void {
  const grid = s.grid!;
  const f = grid.frames[axis];
  const cursor = s.cursor!;
  const other = (voxelAxis: number) => (Object.keys(grid.frames) as SliceAxis[]).find((a) => grid.frames[a].normal === voxelAxis)!;
  ctx.lineWidth = 1;
  ctx.setLineDash([6, 4]);
  for (const [along, fixed] of [
    ['v', f.u],
    ['u', f.v],
  ] as const) {
    const c = cursor[fixed];
    const from = along === 'v' ? planeToView(f, place, c, -0.5) : planeToView(f, place, -0.5, c);
    const to = along === 'v' ? planeToView(f, place, c, f.height - 0.5) : planeToView(f, place, f.width - 0.5, c);
    ctx.strokeStyle = AXIS_COLORS[other(fixed)];
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
  }
  ctx.setLineDash([]);
}

function drawLabels(ctx: CanvasRenderingContext2D, s: ViewerState, axis: SliceAxis, size: { width: number; height: number }, hu: number | null): void {
  const grid = s.grid!;
  const f = grid.frames[axis];
  const [left, right, top, bottom] = EDGES[axis];
  ctx.font = '12px system-ui, sans-serif';
  ctx.fillStyle = '#ffd54f';
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  ctx.fillText(left, 4, size.height / 2);
  ctx.textAlign = 'right';
  ctx.fillText(right, size.width - 4, size.height / 2);
  ctx.textAlign = 'center';
  ctx.fillText(top, size.width / 2, 10);
  ctx.fillText(bottom, size.width / 2, size.height - 10);
  ctx.fillStyle = AXIS_COLORS[axis];
  ctx.textAlign = 'left';
  ctx.fillText(`${AXIS_NAMES[axis]} ${s.cursor![f.normal] + 1}/${grid.dims[f.normal]}`, 6, 10);
  ctx.fillStyle = '#c8d3de';
  ctx.fillText(`W ${Math.round(s.ctWindow.width)} L ${Math.round(s.ctWindow.center)}`, 6, size.height - 10);
  if (hu !== null) {
    ctx.textAlign = 'right';
    ctx.fillText(`${hu} HU`, size.width - 6, 10);
  }
}
