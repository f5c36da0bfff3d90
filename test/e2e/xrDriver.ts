/**
 * Moves the emulated Quest 3 (IWER, on `window.__xrDevice`) like a person would, from the test:
 * controllers and hands to positions, aim, squeeze/trigger/pinch for a few session frames, and waits
 * for frames through the viewer's test hook (`window.__holocase`).
 */
import type { Page } from 'playwright-core';

export type Vec3 = [number, number, number];

type FrameHook = { __holocase?: { frames: number; requestFrame(): void } };

/** Waits until the viewer has drawn `count` more frames (asking for them: the desktop view draws on demand). */
export async function waitFrames(page: Page, count: number, timeoutMs = 60_000): Promise<void> {
  const start = await page.evaluate(() => (window as unknown as FrameHook).__holocase?.frames ?? 0);
  await page.waitForFunction(
    (target) => {
      const h = (window as unknown as FrameHook).__holocase;
      h?.requestFrame();
      return (h?.frames ?? 0) >= target;
    },
    start + count,
    { timeout: timeoutMs, polling: 50 },
  );
}

/** Quaternion [x, y, z, w] that turns the forward axis (0, 0, −1) toward `direction`. */
export function aimQuaternion(direction: Vec3): [number, number, number, number] {
  const l = Math.hypot(...direction);
  const d = direction.map((v) => v / l) as Vec3;
  // cross((0,0,-1), d) = (d.y, -d.x, 0); dot = -d.z
  const q: [number, number, number, number] = [d[1], -d[0], 0, 1 - d[2]];
  if (q[3] < 1e-6) return [0, 1, 0, 0]; // pointing straight back
  const n = Math.hypot(...q);
  return q.map((v) => v / n) as [number, number, number, number];
}

export async function setController(page: Page, hand: 'left' | 'right', position: Vec3, quaternion: [number, number, number, number] = [0, 0, 0, 1]): Promise<void> {
  await page.evaluate(
    ({ hand, position, quaternion }) => {
      const dev = (window as unknown as { __xrDevice: any }).__xrDevice;
      dev.primaryInputMode = 'controller';
      dev.controllers[hand].position.set(...position);
      dev.controllers[hand].quaternion.set(...quaternion);
    },
    { hand, position, quaternion },
  );
}

export async function setControllerButton(page: Page, hand: 'left' | 'right', button: 'trigger' | 'squeeze', value: number): Promise<void> {
  await page.evaluate(({ hand, button, value }) => (window as unknown as { __xrDevice: any }).__xrDevice.controllers[hand].updateButtonValue(button, value), { hand, button, value });
}

export async function setHand(page: Page, hand: 'left' | 'right', position: Vec3, quaternion?: [number, number, number, number]): Promise<void> {
  await page.evaluate(
    ({ hand, position, quaternion }) => {
      const dev = (window as unknown as { __xrDevice: any }).__xrDevice;
      dev.primaryInputMode = 'hand';
      dev.hands[hand].position.set(...position);
      if (quaternion) dev.hands[hand].quaternion.set(...quaternion);
    },
    { hand, position, quaternion },
  );
}

export async function setPinch(page: Page, hand: 'left' | 'right', value: number): Promise<void> {
  await page.evaluate(({ hand, value }) => (window as unknown as { __xrDevice: any }).__xrDevice.hands[hand].updatePinchValue(value), { hand, value });
}

/**
 * Presses a controller button for one session frame, then releases it: a click (pointer events count a
 * press as a click only when it is shorter than 300 ms, so no longer than one slow software frame).
 */
export async function clickControllerButton(page: Page, hand: 'left' | 'right', button: 'trigger' | 'squeeze'): Promise<void> {
  await setControllerButton(page, hand, button, 1);
  await waitFrames(page, 1);
  await setControllerButton(page, hand, button, 0);
  await waitFrames(page, 3);
}
