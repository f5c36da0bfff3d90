/**
 * Preset views of the model (glTF frame: +X patient left, +Y superior, +Z anterior) and the camera
 * distance that frames the model in each. The anterior view puts the camera on the +Z side looking at
 * −Z with head up, so the patient's right is on the viewer's left, as when facing the patient.
 */
import { Vector3 } from 'three';
import type { ViewPreset } from './viewerStore.ts';

/** Where the camera sits relative to the model centre for each preset (unit vectors, glTF frame). */
export const PRESET_DIRECTIONS: Record<ViewPreset, Vector3> = {
  anterior: new Vector3(0, 0, 1),
  posterior: new Vector3(0, 0, -1),
  left: new Vector3(1, 0, 0),
  right: new Vector3(-1, 0, 0),
  // From above the head; a hair toward posterior so that anterior is at the top of the screen.
  superior: new Vector3(0, 1, -0.001).normalize(),
};

/**
 * Camera distance from the model centre that fits the model's box, seen from `preset`, in a camera with
 * vertical field of view `fovDeg` and `aspect` (width / height), with a margin.
 */
export function fitDistance(size: Vector3, preset: ViewPreset, fovDeg: number, aspect: number, margin = 1.15): number {
  // Extents across the screen (width, height) and along the view (depth) for each preset.
  const [width, height, depth] =
    preset === 'anterior' || preset === 'posterior' ? [size.x, size.y, size.z] : preset === 'superior' ? [size.x, size.z, size.y] : [size.z, size.y, size.x];
  const tanV = Math.tan((fovDeg * Math.PI) / 360);
  const tanH = tanV * aspect;
  return Math.max(height / 2 / tanV, width / 2 / tanH) * margin + depth / 2;
}

