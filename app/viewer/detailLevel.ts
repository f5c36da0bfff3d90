/**
 * Which level of detail of a case the viewer draws (see `mesh/detailLevels.ts`): the headset's lighter
 * GLB during an XR session, and also in a standalone headset's own browser (its mobile GPU draws the 2D
 * page too); the desktop's finer one everywhere else.
 */
import type { DetailLevel } from '../../mesh/detailLevels.ts';

/** Browsers that run on a standalone headset (Meta Quest, Pico, HoloLens 2, Wolvic). */
export const STANDALONE_HEADSET_BROWSER = /OculusBrowser|Quest|Pico|HoloLens|Wolvic/i;

export interface ViewerLevelInput {
  /** An XR session is running. */
  inSession: boolean;
  /** `navigator.userAgent`. */
  userAgent: string;
  /** The case has a headset level (cases stored before levels existed have only the desktop's). */
  hasXrLevel: boolean;
}

export function viewerLevel({ inSession, userAgent, hasXrLevel }: ViewerLevelInput): DetailLevel {
  if (!hasXrLevel) return 'desktop';
  return inSession || STANDALONE_HEADSET_BROWSER.test(userAgent) ? 'xr' : 'desktop';
}

/** The GLB URL of `level`: the headset's when that is the level (only chosen when the case has one). */
export function levelGlbUrl(level: DetailLevel, urls: { glbUrl: string; xrGlbUrl: string | null }): string {
  return level === 'xr' && urls.xrGlbUrl ? urls.xrGlbUrl : urls.glbUrl;
}
