/**
 * Which WebXR input-profile files this server hands out, and where they are on disk (see the
 * `/profiles/...` route). Only the profiles the viewer needs; no path can leave the profiles folder.
 */
import path from 'node:path';

/** Profiles a Quest 3 (touch plus controllers), hands, and unknown controllers (generic trigger) need. */
export const SERVED_PROFILES: readonly string[] = ['meta-quest-touch-plus', 'generic-hand', 'generic-trigger'];

export const PROFILES_DIR = path.join(process.cwd(), 'node_modules', '@webxr-input-profiles', 'assets', 'dist', 'profiles');
export const PROFILE_CONTENT_TYPES: Record<string, string> = { '.json': 'application/json', '.glb': 'model/gltf-binary' };
const SAFE_SEGMENT = /^[a-z0-9][a-z0-9._-]*$/i;

/**
 * Maps URL segments to a file inside the profiles folder, or null.
 *
 * 1. `profilesList.json`, or `<served profile>/<file>` with one plain file name (letters, digits, `.-_`).
 * 2. Only `.json` and `.glb`.
 * 3. The resolved path must still be inside the folder.
 */
export function resolveProfileFile(segments: readonly string[]): { relative: string; absolute: string; contentType: string } | null {
  // 1. Shape.
  if (!segments.every((s) => SAFE_SEGMENT.test(s) && s !== '.' && s !== '..' && !s.includes('..'))) return null;
  let relative: string;
  if (segments.length === 1 && segments[0] === 'profilesList.json') relative = 'profilesList.json';
  else if (segments.length === 2 && SERVED_PROFILES.includes(segments[0])) relative = `${segments[0]}/${segments[1]}`;
  else return null;
  // 2. Type.
  const contentType = PROFILE_CONTENT_TYPES[path.extname(relative)];
  if (!contentType) return null;
  // 3. Containment.
  const absolute = path.resolve(PROFILES_DIR, relative);
  if (!absolute.startsWith(PROFILES_DIR + path.sep)) return null;
  return { relative, absolute, contentType };
}

/** The profiles list, cut down to the served profiles (so clients never ask for one we do not have). */
export function filterProfilesList(list: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(list).filter(([id]) => SERVED_PROFILES.includes(id)));
}
