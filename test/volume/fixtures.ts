/**
 * Shared paths and small helpers for the volume tests: fixture locations (read in place), temporary
 * folders removed after each test file, and byte-level edits of real DICOM files (cutting a compressed
 * fragment, relabelling the transfer syntax) to make damaged inputs from good ones.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import dicomParser from 'dicom-parser';

export const FIXTURES = resolve(import.meta.dirname, '../../../shared/fixtures');
export const CODECS = join(FIXTURES, 'dicom-codecs');
export const ENCODINGS = join(FIXTURES, 'dicom-encodings');
export const TOTALSEG = join(FIXTURES, 'totalsegmentator');
export const CT_DICOM = join(TOTALSEG, 'example_ct_dicom');

const made: string[] = [];

/** A fresh temporary folder; `removeTempDirs` deletes them all. */
export async function tempDir(prefix = 'holocase-volume-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/**
 * Rewrites a DICOM file so that the first fragment of its pixel data keeps only `keep` bytes (even),
 * with consistent item and element lengths: the file parses, but the codestream is truncated.
 */
export function cutFirstFragment(bytes: Uint8Array, keep: number): Uint8Array {
  const ds = dicomParser.parseDicom(bytes);
  const fragment = ds.elements.x7fe00010.fragments![0];
  const even = keep & ~1;
  const out = new Uint8Array(fragment.position + even + 8);
  out.set(bytes.subarray(0, fragment.position + even), 0);
  new DataView(out.buffer).setUint32(fragment.position - 4, even, true);
  // Sequence delimitation item (FFFE,E0DD) with zero length.
  out.set([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0], fragment.position + even);
  return out;
}

/** Rewrites the file meta Transfer Syntax UID (and the meta group length) to `uid`. */
export function relabelTransferSyntax(bytes: Uint8Array, uid: string): Uint8Array {
  const ds = dicomParser.parseDicom(bytes, { untilTag: 'x00020010' } as dicomParser.ParseDicomOptions);
  const element = ds.elements.x00020010;
  const value = uid.length % 2 ? `${uid}\0` : uid;
  const start = element.dataOffset;
  const end = element.dataOffset + element.length;
  const out = new Uint8Array(bytes.length - element.length + value.length);
  out.set(bytes.subarray(0, start), 0);
  out.set(new TextEncoder().encode(value), start);
  out.set(bytes.subarray(end), start + value.length);
  const view = new DataView(out.buffer);
  view.setUint16(start - 2, value.length, true);
  const groupLength = ds.elements.x00020000;
  if (groupLength) view.setUint32(groupLength.dataOffset, view.getUint32(groupLength.dataOffset, true) + value.length - element.length, true);
  return out;
}
