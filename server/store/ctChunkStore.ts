/**
 * The chunked CT of a case folder (`volumeChunks.ts`): `ct-chunks.bin` holds every chunk's gzip bytes
 * one after the other, `ct-chunks.json` says where each lies. `runCase` writes both when it writes the
 * de-identified CT; a case folder made before that (or imported) gets them on the first request, built
 * once from `ct.nii.gz` however many viewers ask at the same time. The manifest is written last, so its
 * presence means the data file is complete.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { HolocaseError } from '../errors.ts';
import { CASE_FILES } from '../pipeline/caseFiles.ts';
import { readNifti } from '../volume/nifti.ts';
import { chunkVolume, type VolumeChunksManifest, type VolumeChunksOptions } from '../volume/volumeChunks.ts';
import { writeFileAtomically } from '../writeFileAtomically.ts';
import type { Mat4, Vec3, VoxelArray } from '../../mesh/grid.ts';

export const CT_CHUNK_FILES = { manifest: 'ct-chunks.json', data: 'ct-chunks.bin' } as const;

/** A manifest as stored: the chunk layout plus the build's tag, which changes whenever the chunks are rebuilt. */
export interface StoredChunksManifest extends VolumeChunksManifest {
  build: string;
}

/**
 * Chunks `volume` and writes the chunk files into `dir`.
 *
 * 1. Chunk and compress (chunkVolume).
 * 2. Write the data file, then the manifest (each atomically).
 */
export async function writeCtChunks(volume: { dims: Vec3; affine: Mat4; data: VoxelArray }, dir: string, options: VolumeChunksOptions = {}): Promise<StoredChunksManifest> {
  const { manifest, chunks } = await chunkVolume(volume, options);
  const stored: StoredChunksManifest = { ...manifest, build: randomBytes(6).toString('hex') };
  await writeFileAtomically(path.join(dir, CT_CHUNK_FILES.data), chunks);
  await writeFileAtomically(path.join(dir, CT_CHUNK_FILES.manifest), JSON.stringify(stored));
  return stored;
}

async function readManifest(caseDir: string): Promise<StoredChunksManifest | undefined> {
  try {
    const manifest = JSON.parse(await readFile(path.join(caseDir, CT_CHUNK_FILES.manifest), 'utf8')) as StoredChunksManifest;
    return manifest.format === 'holocase-volume-chunks' && manifest.version === 1 ? manifest : undefined;
  } catch {
    return undefined;
  }
}

/** Builds in progress, per case folder: concurrent first requests wait for the same build. */
const building = new Map<string, Promise<StoredChunksManifest>>();

/**
 * The chunk manifest of a case folder, building the chunks from `ct.nii.gz` when they are missing.
 * NOT_FOUND when the folder has no CT.
 */
export async function ensureCtChunks(caseDir: string): Promise<StoredChunksManifest> {
  const existing = await readManifest(caseDir);
  if (existing) return existing;
  let build = building.get(caseDir);
  if (!build) {
    build = (async () => {
      const volume = await readNifti(path.join(caseDir, CASE_FILES.ct), { name: 'the CT of this case' });
      return writeCtChunks(volume, caseDir);
    })().finally(() => building.delete(caseDir));
    building.set(caseDir, build);
  }
  return build;
}

/** The gzip bytes of chunk `index` as a stream, and their length. */
export function ctChunkStream(caseDir: string, manifest: StoredChunksManifest, index: number): { body: ReadableStream; bytes: number } {
  const extent = Number.isInteger(index) ? manifest.chunks[index] : undefined;
  if (!extent) throw new HolocaseError('NOT_FOUND', `the CT has chunks 0 to ${manifest.chunks.length - 1}, not ${index}`);
  const stream = createReadStream(path.join(caseDir, CT_CHUNK_FILES.data), { start: extent.offset, end: extent.offset + extent.bytes - 1 });
  return { body: Readable.toWeb(stream) as ReadableStream, bytes: extent.bytes };
}
