/**
 * Mesh outputs on disk, never half-written: each file is written under a temporary name beside its
 * target and renamed into place.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { StructureMesh } from '../../mesh/structure.ts';
import { writeStl } from '../../mesh/stl.ts';
import { writeFileAtomically } from '../writeFileAtomically.ts';

/** A structure name as a safe file name (`vertebrae_L2` stays as it is). */
export function stlFileName(name: string): string {
  return `${name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || 'structure'}.stl`;
}

/** One binary STL per structure (mm, LPS) in `dir`; returns the paths written. */
export async function writeStlFiles(meshes: readonly StructureMesh[], dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const m of meshes) {
    const file = path.join(dir, stlFileName(m.structure.name));
    await writeFileAtomically(file, writeStl(m.mesh, { header: `holocase ${m.structure.name} (label ${m.structure.label}), mm, LPS` }));
    written.push(file);
  }
  return written;
}

/** All structures in one binary STL (mm, LPS). */
export async function writeMergedStl(meshes: readonly StructureMesh[], file: string): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFileAtomically(file, writeStl(meshes.map((m) => m.mesh), { header: `holocase ${meshes.length} structures, mm, LPS` }));
}
