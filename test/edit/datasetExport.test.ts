/**
 * `holocase dataset export` on a real data folder: cases made from a DICOM zip full of identifying
 * values and from the NIfTI fixture, structures validated in some; the output checked against nnU-Net
 * v2's rules for raw datasets (file naming, one image per channel, image and label geometry identical,
 * labels consecutive from 0 with `ignore` highest, numTraining) and for identifying values anywhere.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../server/auth/users.ts';
import { ensureRevisions } from '../../server/edit/modelRevision.ts';
import { latestRevision, setValidation } from '../../server/edit/revisionRows.ts';
import { readRevisionStructures } from '../../server/edit/revisionStructures.ts';
import { runCase } from '../../server/pipeline/runCase.ts';
import { getCase } from '../../server/store/cases.ts';
import { openDatabase } from '../../server/store/database.ts';
import { importCaseFolder } from '../../server/store/importCaseFolder.ts';
import { parseNiftiHeader } from '../../server/volume/nifti.ts';
import { identifiedDicomZip, IDENTIFIERS, ROOT, tempDataDir } from '../server/harness.ts';

const run = promisify(execFile);
const BIN = path.join(ROOT, 'bin', 'holocase.mjs');
const NIFTI_CT = path.join(ROOT, '../shared/fixtures/totalsegmentator/example_ct.nii.gz');

let dataDir: string;
let work: string;
const ids: { partly: string; fully: string; none: string } = { partly: '', fully: '', none: '' };

async function exportDataset(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'dataset', 'export', '--data', dataDir, ...args], { cwd: ROOT, timeout: 300_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * nnU-Net v2's raw-dataset rules, as its dataset-format documentation states them and its integrity
 * check applies them. Returns the list of violations (empty when the dataset is valid).
 */
async function nnunetViolations(dir: string): Promise<string[]> {
  const problems: string[] = [];
  const dataset = JSON.parse(await readFile(path.join(dir, 'dataset.json'), 'utf8'));
  for (const key of ['channel_names', 'labels', 'numTraining', 'file_ending']) if (!(key in dataset)) problems.push(`dataset.json lacks ${key}`);
  const ending: string = dataset.file_ending;
  const values = Object.values(dataset.labels as Record<string, number>).sort((a, b) => a - b);
  if (dataset.labels.background !== 0) problems.push('background is not 0');
  if (values.some((v, i) => v !== i)) problems.push(`labels are not consecutive from 0: ${values.join(',')}`);
  if ('ignore' in dataset.labels && dataset.labels.ignore !== values.at(-1)) problems.push('ignore is not the highest label');
  const images = (await readdir(path.join(dir, 'imagesTr'))).sort();
  const labels = (await readdir(path.join(dir, 'labelsTr'))).sort();
  if (labels.length !== dataset.numTraining) problems.push(`numTraining ${dataset.numTraining} but ${labels.length} label files`);
  const channels = Object.keys(dataset.channel_names).map((c) => String(c).padStart(4, '0'));
  for (const label of labels) {
    if (!label.endsWith(ending)) problems.push(`${label} does not end in ${ending}`);
    const id = label.slice(0, -ending.length);
    for (const channel of channels) if (!images.includes(`${id}_${channel}${ending}`)) problems.push(`imagesTr lacks ${id}_${channel}${ending}`);
  }
  for (const image of images) {
    const match = /^(.+)_(\d{4})\.nii\.gz$/.exec(image);
    if (!match || !labels.includes(`${match[1]}${ending}`)) problems.push(`image ${image} has no label file`);
  }
  for (const label of labels) {
    const id = label.slice(0, -ending.length);
    const labelBytes = gunzipSync(await readFile(path.join(dir, 'labelsTr', label)));
    const imageBytes = gunzipSync(await readFile(path.join(dir, 'imagesTr', `${id}_0000${ending}`)));
    const l = parseNiftiHeader(labelBytes);
    const im = parseNiftiHeader(imageBytes);
    if (l.dims.join() !== im.dims.join()) problems.push(`${id}: dims ${l.dims} vs ${im.dims}`);
    if (l.affineRas.some((v, k) => Math.abs(v - im.affineRas[k]!) > 1e-4)) problems.push(`${id}: affines differ`);
    const data = l.datatype === 2 ? labelBytes.subarray(l.voxOffset) : new Uint16Array(labelBytes.buffer.slice(labelBytes.byteOffset + l.voxOffset, labelBytes.byteOffset + labelBytes.length));
    const allowed = new Set(values);
    for (const v of new Set(data)) if (!allowed.has(v)) problems.push(`${id}: label value ${v} not in dataset.json`);
  }
  return problems;
}

beforeAll(async () => {
  dataDir = await tempDataDir();
  work = await tempDataDir('holocase-export-work-');
  const zipFile = path.join(work, 'study.zip');
  await writeFile(zipFile, await identifiedDicomZip());
  await runCase(zipFile, path.join(work, 'dicom-case'), { modelId: 'hu-anatomy' });
  await runCase(NIFTI_CT, path.join(work, 'nifti-case'), { modelId: 'hu-anatomy' });
  const db = openDatabase(dataDir);
  const { user } = await addUser(db, 'alice');
  // The uploader typed the patient's name into the case label: it must not travel.
  ids.partly = await importCaseFolder(db, dataDir, path.join(work, 'dicom-case'), { ownerId: user.id, label: IDENTIFIERS.patientName });
  ids.fully = await importCaseFolder(db, dataDir, path.join(work, 'nifti-case'), { ownerId: user.id, label: 'second' });
  ids.none = await importCaseFolder(db, dataDir, path.join(work, 'nifti-case'), { ownerId: user.id, label: 'third' });
  for (const [id, how] of [[ids.partly, 'one'], [ids.fully, 'all']] as const) {
    ensureRevisions(db, dataDir, getCase(db, id)!);
    const revision = latestRevision(db, id);
    const structures = readRevisionStructures(dataDir, id, revision).structures;
    for (const s of how === 'one' ? structures.slice(0, 1) : structures) setValidation(db, id, s.label, user, revision);
  }
  db.close();
}, 600_000);

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe('holocase dataset export', () => {
  it('writes the validated cases as an nnU-Net v2 raw dataset that follows its rules, with a MONAI datalist', async () => {
    const out = path.join(work, 'Dataset501_Holocase');
    const { code, stdout, stderr } = await exportDataset('-o', out, '--json');
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.cases.sort()).toEqual([ids.partly, ids.fully].sort());
    expect(result.skipped).toEqual([{ caseId: ids.none, reason: 'no validated structure' }]);
    expect(await nnunetViolations(out)).toEqual([]);
    const dataset = JSON.parse(await readFile(path.join(out, 'dataset.json'), 'utf8'));
    expect(dataset.channel_names).toEqual({ '0': 'CT' });
    expect(dataset.numTraining).toBe(2);
    expect(dataset.file_ending).toBe('.nii.gz');
    expect(dataset.labels.ignore).toBe(Math.max(...(Object.values(dataset.labels) as number[])));
    // Unvalidated structures of the partly validated case are `ignore`; the fully validated case has none.
    const count = async (id: string, value: number) => {
      const bytes = gunzipSync(await readFile(path.join(out, 'labelsTr', `${id}.nii.gz`)));
      const h = parseNiftiHeader(bytes);
      let n = 0;
      for (let p = h.voxOffset; p < bytes.length; p++) if (bytes[p] === value) n++;
      return n;
    };
    expect(await count(ids.partly, dataset.labels.ignore)).toBeGreaterThan(0);
    expect(await count(ids.fully, dataset.labels.ignore)).toBe(0);
    const datalist = JSON.parse(await readFile(path.join(out, 'datalist.json'), 'utf8'));
    expect(datalist.training).toHaveLength(2);
    for (const entry of datalist.training) {
      await expect(readFile(path.join(out, entry.image))).resolves.toBeTruthy();
      await expect(readFile(path.join(out, entry.label))).resolves.toBeTruthy();
    }
  });

  it('puts no identifying value anywhere in the output (file names, JSON, NIfTI headers and voxels)', async () => {
    // The input carried them (so their absence below means something).
    expect(Buffer.from(await readFile(path.join(work, 'study.zip'))).toString('latin1')).toContain(IDENTIFIERS.patientId);
    const out = path.join(work, 'Dataset502_Privacy');
    expect((await exportDataset('-o', out)).code).toBe(0);
    const needles = [IDENTIFIERS.patientName, ...IDENTIFIERS.patientName.split('^'), IDENTIFIERS.patientId, IDENTIFIERS.accession, IDENTIFIERS.institution, IDENTIFIERS.physician, IDENTIFIERS.fileName, '19471103'];
    const files: string[] = [];
    for (const sub of ['', 'imagesTr', 'labelsTr']) for (const f of await readdir(path.join(out, sub), { withFileTypes: true })) if (f.isFile()) files.push(path.join(out, sub, f.name));
    expect(files.length).toBe(6);
    for (const file of files) {
      const raw = await readFile(file);
      const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('latin1');
      for (const needle of needles) {
        expect(text.includes(needle), `${needle} in ${path.basename(file)}`).toBe(false);
        expect(file.includes(needle)).toBe(false);
      }
    }
  });

  it('--validated-only keeps only cases with every structure validated; --model filters; an existing folder is refused', async () => {
    const only = path.join(work, 'Dataset503_Only');
    const r = await exportDataset('-o', only, '--validated-only', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).cases).toEqual([ids.fully]);
    expect(await nnunetViolations(only)).toEqual([]);
    const none = await exportDataset('-o', path.join(work, 'Dataset504_None'), '--model', 'no-such-model');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no case to export/);
    const again = await exportDataset('-o', only);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });
});
