/**
 * Debian Chromium driven by playwright-core, with the flags that make WebGL2 run on SwiftShader in a
 * machine without a GPU (see KNOWN-GOOD.md), and a helper that injects the IWER WebXR emulator.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** A small viewport keeps software rendering fast. */
export const VIEWPORT = { width: 1000, height: 700 };

/**
 * Bundles `iwer` for the page: an emulated Meta Quest 3 installed over Chromium's own `navigator.xr`
 * (`forceInstall`), kept on `window.__xrDevice` so the test can move its head, controllers and hands.
 * Mono rendering (one view) halves the cost of each XR frame on SwiftShader. IWER also gives the page
 * the Quest browser's user agent; pass `userAgent` to emulate the headset on another browser instead
 * (a headset tethered to a desktop).
 */
export async function iwerInitScript(options: { userAgent?: string } = {}): Promise<string> {
  const entry = `
    import { XRDevice, metaQuest3 } from 'iwer';
    const userAgent = ${JSON.stringify(options.userAgent ?? null)};
    const device = new XRDevice(userAgent ? { ...metaQuest3, userAgent } : metaQuest3);
    device.stereoEnabled = false;
    device.installRuntime({ forceInstall: true });
    window.__xrDevice = device;
  `;
  const result = await build({
    stdin: { contents: entry, resolveDir: fileURLToPath(new URL('../../', import.meta.url)), loader: 'js' },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

/** A browser context whose pages get the emulated headset before any of their scripts run. */
export async function newXrContext(browser: Browser, script: string): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  await context.addInitScript({ content: script });
  return context;
}

/**
 * Every Content-Security-Policy violation the page reports from now on (Chromium logs each one to the
 * console: "Refused to … because it violates the following Content Security Policy directive …").
 */
export function cspViolations(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}
