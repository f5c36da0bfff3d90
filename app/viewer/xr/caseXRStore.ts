'use client';
/**
 * The WebXR session store of a viewer (@react-three/xr). Controller and hand models load from this
 * server's `/profiles/` route, never from a CDN: headsets in a hospital often have no internet.
 */
import { createXRStore } from '@react-three/xr';

export interface CaseXRStoreOptions {
  /** Origin of the page, e.g. `https://holocase.hospital.local:8443`. */
  origin: string;
  /** Fraction of the headset's native framebuffer resolution (default: the browser's choice). */
  frameBufferScaling?: number;
}

/**
 * Longest press (ms) that still counts as a click (pointer-events' default is 300 ms; a DOM click has no
 * limit). An air tap, a pinch or a slow frame on a busy headset easily takes longer than 300 ms.
 */
export const CLICK_MS = 1500;

export function createCaseXRStore({ origin, frameBufferScaling }: CaseXRStoreOptions) {
  return createXRStore({
    // Emulation is done by tests with IWER directly; in production a real headset provides WebXR.
    emulate: false,
    // Buttons start sessions; the browser is not offered one on load.
    offerSession: false,
    baseAssetPath: `${origin}/profiles/`,
    defaultControllerProfileId: 'generic-trigger',
    defaultXRHandProfileId: 'generic-hand',
    // Only what the viewer uses: hands (pinch), controllers, gaze-and-pinch (transient pointer).
    handTracking: true,
    anchors: false,
    layers: false,
    meshDetection: false,
    planeDetection: false,
    hitTest: false,
    domOverlay: false,
    // Grab, ray (trigger / pinch from afar / gaze-and-pinch) and touch pointers, no teleport. A press
    // counts as a click up to CLICK_MS: an air tap or a pinch takes longer than a trigger pull.
    controller: { teleportPointer: false, rayPointer: { clickThresholdMs: CLICK_MS } },
    hand: { teleportPointer: false, rayPointer: { clickThresholdMs: CLICK_MS }, touchPointer: { clickThresholdMs: CLICK_MS } },
    transientPointer: { clickThresholdMs: CLICK_MS },
    gaze: { clickThresholdMs: CLICK_MS },
    frameRate: 'high',
    frameBufferScaling,
  });
}

export type CaseXRStore = ReturnType<typeof createCaseXRStore>;
