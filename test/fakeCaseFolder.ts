/**
 * A complete case folder without running the pipeline (a 4 KiB stand-in GLB, placeholder CT and
 * labels, a report naming a model): enough for share links, downloads and access checks in the server
 * tests and benchmarks. Returns the folder.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function writeFakeCaseFolder(folder: string): Promise<string> {
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'case.glb'), new Uint8Array(4096).fill(1));
  await writeFile(path.join(folder, 'ct.nii.gz'), 'x');
  await writeFile(path.join(folder, 'labels.nii.gz'), 'x');
  await writeFile(path.join(folder, 'report.json'), JSON.stringify({ model: { id: 'm', name: 'M', version: '1' }, input: { format: 'nifti', dims: [2, 2, 2], spacingMm: [1, 1, 1], orientation: 'LPS' }, structures: [], glb: { bytes: 4096, triangles: 0, drawCalls: 0, centerLpsMm: [0, 0, 0] } }));
  return folder;
}
