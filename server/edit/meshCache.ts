/**
 * A revision's meshed structures on disk (`meshes.bin`), so the next edit re-meshes only the structures
 * it changed and copies the others into the new GLB. Layout: a little-endian u32 header length, the
 * header (JSON: per structure its report, centroid and array lengths), then each structure's positions
 * (f32), indices (u32) and normals (f32), 4-byte aligned.
 */
import { readFile } from 'node:fs/promises';
import type { StructureMesh } from '../../mesh/structure.ts';
import { writeFileAtomically } from '../writeFileAtomically.ts';

interface Entry {
  structure: StructureMesh['structure'];
  centroidLpsMm: StructureMesh['centroidLpsMm'];
  positions: number;
  indices: number;
  normals: number;
}

export function encodeMeshes(meshes: readonly StructureMesh[]): Uint8Array {
  const entries: Entry[] = meshes.map((m) => ({
    structure: m.structure,
    centroidLpsMm: m.centroidLpsMm,
    positions: m.mesh.positions.length,
    indices: m.mesh.indices.length,
    normals: m.mesh.normals?.length ?? 0,
  }));
  let header = new TextEncoder().encode(JSON.stringify(entries));
  const padded = new Uint8Array(Math.ceil(header.length / 4) * 4).fill(0x20);
  padded.set(header);
  header = padded;
  const body = entries.reduce((sum, e) => sum + 4 * (e.positions + e.indices + e.normals), 0);
  const out = new Uint8Array(4 + header.length + body);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  let at = 4 + header.length;
  for (const m of meshes) {
    for (const array of [m.mesh.positions, m.mesh.indices, m.mesh.normals]) {
      if (!array) continue;
      out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), at);
      at += array.byteLength;
    }
  }
  return out;
}

export function decodeMeshes(bytes: Uint8Array): StructureMesh[] {
  const copy = bytes.slice();
  const headerLength = new DataView(copy.buffer).getUint32(0, true);
  const entries = JSON.parse(new TextDecoder().decode(copy.subarray(4, 4 + headerLength))) as Entry[];
  let at = 4 + headerLength;
  const take = <T>(make: (buffer: ArrayBuffer, offset: number, length: number) => T, length: number): T => {
    const array = make(copy.buffer, at, length);
    at += 4 * length;
    return array;
  };
  return entries.map((e) => ({
    structure: e.structure,
    centroidLpsMm: e.centroidLpsMm,
    mesh: {
      positions: take((b, o, l) => new Float32Array(b, o, l), e.positions),
      indices: take((b, o, l) => new Uint32Array(b, o, l), e.indices),
      ...(e.normals ? { normals: take((b, o, l) => new Float32Array(b, o, l), e.normals) } : {}),
    },
  }));
}

export async function writeMeshCache(file: string, meshes: readonly StructureMesh[]): Promise<void> {
  await writeFileAtomically(file, encodeMeshes(meshes));
}

/** The cached meshes, or undefined when the file is missing or unreadable (then everything is re-meshed). */
export async function readMeshCache(file: string): Promise<StructureMesh[] | undefined> {
  try {
    return decodeMeshes(await readFile(file));
  } catch {
    return undefined;
  }
}
