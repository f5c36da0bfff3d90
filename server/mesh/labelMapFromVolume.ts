/**
 * A volume read from disk as a label map: unsigned integer labels on its grid. NIfTI label maps are
 * often stored as int16, int32 or float; those are accepted when every value is a whole number from
 * 0 to 65535, and converted. Anything else is refused with a message saying what was found.
 */
import type { LabelMap } from '../../mesh/grid.ts';
import { HolocaseError } from '../errors.ts';
import type { Volume } from '../volume/volume.ts';

export function labelMapFromVolume(volume: Volume, name = 'the label map'): LabelMap {
  const { dims, affine, data } = volume;
  if (data instanceof Uint8Array || data instanceof Uint16Array || data instanceof Uint32Array) return { dims, affine, data };
  let max = 0;
  for (let n = 0; n < data.length; n++) {
    const v = data[n];
    if (!(v >= 0) || v !== Math.floor(v)) {
      throw new HolocaseError('LABELS_INVALID', `${name} is not a label map: voxel ${n} holds ${v}; labels are whole numbers from 0 (background) up`);
    }
    if (v > max) max = v;
  }
  if (max > 0xffff) throw new HolocaseError('LABELS_INVALID', `${name} holds label ${max}; labels above 65535 are not supported`);
  return { dims, affine, data: max <= 0xff ? Uint8Array.from(data) : Uint16Array.from(data) };
}
