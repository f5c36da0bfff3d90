/** Which level of detail the viewer draws: the headset's in XR sessions and headset browsers, else the desktop's. */
import { describe, expect, it } from 'vitest';
import { viewerLevel } from '../../app/viewer/detailLevel.ts';

const DESKTOP_CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36';
const QUEST = 'Mozilla/5.0 (X11; Linux x86_64; Quest 3) AppleWebKit/537.36 (KHTML, like Gecko) OculusBrowser/37.1.0.3.53 SamsungBrowser/4.0 Chrome/134.0.6998.190 VR Safari/537.36';

describe('viewerLevel', () => {
  it('draws the desktop level on a desktop page and the headset level once a session runs', () => {
    expect(viewerLevel({ inSession: false, userAgent: DESKTOP_CHROME, hasXrLevel: true })).toBe('desktop');
    expect(viewerLevel({ inSession: true, userAgent: DESKTOP_CHROME, hasXrLevel: true })).toBe('xr');
  });

  it("draws the headset level on a standalone headset's 2D page too", () => {
    expect(viewerLevel({ inSession: false, userAgent: QUEST, hasXrLevel: true })).toBe('xr');
  });

  it('keeps to the desktop level for cases stored before there were levels', () => {
    expect(viewerLevel({ inSession: true, userAgent: QUEST, hasXrLevel: false })).toBe('desktop');
  });
});
