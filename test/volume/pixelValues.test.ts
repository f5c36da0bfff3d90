/**
 * Stored values to Hounsfield units: sign extension from Bits Stored, masking of unused high bits,
 * padding (value and range) to air, fractional slopes rounded, clamping to Int16 counted — each compared
 * with the arithmetic written out here per voxel.
 */
import { describe, expect, it } from 'vitest';
import type { PixelLayout } from '../../server/volume/dicom/imageHeader.ts';
import { storedValues, writeHounsfield, type HounsfieldOptions } from '../../server/volume/dicom/pixelValues.ts';

function layout(overrides: Partial<PixelLayout>): PixelLayout {
  return { rows: 2, columns: 4, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 0, photometricInterpretation: 'MONOCHROME2', planarConfiguration: 0, ...overrides };
}

function words(values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 2);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setUint16(2 * i, v & 0xffff, true));
  return bytes;
}

function convert(bytes: Uint8Array, l: PixelLayout, options: HounsfieldOptions): { out: number[]; clamped: number } {
  const target = new Int16Array(l.rows * l.columns + 3).fill(7);
  const clamped = writeHounsfield(bytes, l, target, 2, options);
  expect(target[0]).toBe(7); // nothing written before the offset
  expect(target[target.length - 1]).toBe(7); // nor after the frame
  return { out: Array.from(target.subarray(2, 2 + l.rows * l.columns)), clamped };
}

describe('writeHounsfield', () => {
  it('sign-extends 12-bit signed values and applies the rescale', () => {
    const l = layout({ bitsStored: 12, pixelRepresentation: 1 });
    // 0xFFF is −1 in 12 bits; 0x800 is −2048; high bits above bit 11 are noise.
    const stored = [0x0fff, 0x0800, 0x07ff, 0x0000, 0xf001, 0x1005, 0x0100, 0x0fff];
    const expected = [-1, -2048, 2047, 0, 1, 5, 256, -1].map((v) => v * 1 - 1024);
    expect(convert(words(stored), l, { rescale: { slope: 1, intercept: -1024 }, paddingOutput: -1024 })).toEqual({ out: expected, clamped: 0 });
  });

  it('masks unsigned values to Bits Stored', () => {
    const l = layout({ bitsStored: 12 });
    const stored = [0xf000, 0x0fff, 0x1001, 0, 1, 2, 3, 4];
    expect(convert(words(stored), l, { rescale: { slope: 1, intercept: 0 }, paddingOutput: -1024 }).out).toEqual([0, 4095, 1, 0, 1, 2, 3, 4]);
  });

  it('maps padding (a value or a range) to the padding output, before the rescale', () => {
    const l = layout({ pixelRepresentation: 1 });
    const stored = [-2000, -1999, -2001, 0, 100, -3000, -2500, 5];
    const single = convert(words(stored), l, { rescale: { slope: 1, intercept: -1024 }, padding: { value: -2000 }, paddingOutput: -1024 });
    expect(single.out).toEqual([-1024, -3023, -3025, -1024, -924, -4024, -3524, -1019]);
    const range = convert(words(stored), l, { rescale: { slope: 1, intercept: -1024 }, padding: { value: -2000, rangeLimit: -3000 }, paddingOutput: -1024 });
    expect(range.out).toEqual([-1024, -3023, -1024, -1024, -924, -1024, -1024, -1019]);
  });

  it('rounds fractional slopes and counts clamped voxels', () => {
    const l = layout({ pixelRepresentation: 1 });
    const stored = [3, -3, 32767, -32768, 1, 0, 10, -10];
    const { out, clamped } = convert(words(stored), l, { rescale: { slope: 2.5, intercept: 0.4 }, paddingOutput: -1024 });
    expect(out).toEqual([8, -7, 32767, -32768, 3, 0, 25, -25]);
    expect(clamped).toBe(2);
  });

  it('handles odd frame offsets and 8-bit data', () => {
    const raw = new Uint8Array(17);
    raw.set(words([1, 2, 3, 4, 5, 6, 7, 8]), 1);
    expect(convert(raw.subarray(1), layout({}), { rescale: { slope: 1, intercept: 10 }, paddingOutput: 0 }).out).toEqual([11, 12, 13, 14, 15, 16, 17, 18]);
    const eight = new Uint8Array([0, 1, 127, 128, 200, 255, 3, 4]);
    expect(convert(eight, layout({ bitsAllocated: 8, bitsStored: 8 }), { rescale: { slope: 1, intercept: -100 }, paddingOutput: 0 }).out).toEqual([-100, -99, 27, 28, 100, 155, -97, -96]);
  });
});

describe('storedValues', () => {
  it('returns sign-extended values in the header type', () => {
    const values = storedValues(words([0x0fff, 0x0800, 0x07ff, 0, 0, 0, 0, 0]), layout({ bitsStored: 12, pixelRepresentation: 1 }));
    expect(values).toBeInstanceOf(Int16Array);
    expect(Array.from(values.subarray(0, 3))).toEqual([-1, -2048, 2047]);
  });
});
