/**
 * Islands and fill between slices on label maps whose right answer is known: blobs of known size, and
 * discs whose interpolated radius between two painted slices is the linear blend of theirs.
 */
import { describe, expect, it } from 'vitest';
import type { Vec3 } from '../../mesh/grid.ts';
import { fillBetweenSlices, removeIslands } from '../../server/edit/labelEdits.ts';

const dims: Vec3 = [40, 40, 11];
const at = (i: number, j: number, k: number) => i + j * dims[0] + k * dims[0] * dims[1];

function cube(labels: Uint16Array, label: number, from: Vec3, size: number): void {
  for (let k = from[2]; k < from[2] + size; k++) for (let j = from[1]; j < from[1] + size; j++) for (let i = from[0]; i < from[0] + size; i++) labels[at(i, j, k)] = label;
}

function disc(labels: Uint16Array, label: number, k: number, radius: number): void {
  for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) if ((i - 19.5) ** 2 + (j - 19.5) ** 2 <= radius * radius) labels[at(i, j, k)] = label;
}

function count(labels: Uint16Array, label: number, k?: number): number {
  let n = 0;
  const plane = dims[0] * dims[1];
  for (let p = k === undefined ? 0 : k * plane; p < (k === undefined ? labels.length : (k + 1) * plane); p++) if (labels[p] === label) n++;
  return n;
}

describe('islands', () => {
  it('keep-largest leaves only the biggest piece of the label; other labels are untouched', () => {
    const labels = new Uint16Array(dims[0] * dims[1] * dims[2]);
    cube(labels, 5, [2, 2, 2], 6);
    cube(labels, 5, [20, 20, 2], 3);
    cube(labels, 5, [30, 5, 5], 2);
    cube(labels, 9, [30, 30, 1], 4);
    expect(removeIslands(labels, dims, 5, { mode: 'keep-largest' })).toBe(27 + 8);
    expect(count(labels, 5)).toBe(216);
    expect(count(labels, 9)).toBe(64);
  });

  it('remove-small drops the pieces under the size and keeps the rest', () => {
    const labels = new Uint16Array(dims[0] * dims[1] * dims[2]);
    cube(labels, 5, [2, 2, 2], 6);
    cube(labels, 5, [20, 20, 2], 3);
    cube(labels, 5, [30, 5, 5], 2);
    expect(removeIslands(labels, dims, 5, { mode: 'remove-small', minVoxels: 20 })).toBe(8);
    expect(count(labels, 5)).toBe(216 + 27);
  });
});

describe('fill between slices', () => {
  it('interpolates a disc of radius 4 on slice 0 and 12 on slice 10 to the blended radius in between, filling only background', () => {
    const labels = new Uint16Array(dims[0] * dims[1] * dims[2]);
    disc(labels, 3, 0, 4);
    disc(labels, 3, 10, 12);
    labels[at(19, 19, 5)] = 7; // another structure inside the gap stays
    const filled = fillBetweenSlices(labels, dims, 3, { axis: 2, spacing: [1, 1, 2] });
    expect(filled).toBeGreaterThan(0);
    for (let k = 1; k < 10; k++) {
      const radius = 4 + ((12 - 4) * k) / 10;
      const area = count(labels, 3, k) + (k === 5 ? 1 : 0);
      expect(Math.abs(area - Math.PI * radius * radius) / (Math.PI * radius * radius)).toBeLessThan(0.12);
    }
    expect(labels[at(19, 19, 5)]).toBe(7);
    // Slices outside the painted range stay empty.
    const only = new Uint16Array(labels.length);
    disc(only, 3, 4, 5);
    expect(fillBetweenSlices(only, dims, 3, { axis: 2 })).toBe(0);
  });

  it('works along another axis (sagittal slices)', () => {
    const labels = new Uint16Array(dims[0] * dims[1] * dims[2]);
    for (let k = 2; k < 9; k++) for (let j = 10; j < 30; j++) (labels[at(5, j, k)] = 4), (labels[at(25, j, k)] = 4);
    fillBetweenSlices(labels, dims, 4, { axis: 0 });
    for (let i = 6; i < 25; i++) expect(labels[at(i, 20, 5)]).toBe(4);
  });
});
