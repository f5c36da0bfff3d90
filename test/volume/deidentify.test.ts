/**
 * De-identification: the identifying values actually present in the input files (read here directly
 * from their headers) must not occur anywhere in what ingest returns — volume metadata, report,
 * warnings — nor in its error messages. Study dates are removed unless a per-install secret shifts them.
 */
import { copyFile, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { isHolocaseError } from '../../server/errors.ts';
import { dateShiftDays, IDENTIFYING_TAGS, KEPT_ATTRIBUTES } from '../../server/volume/deidentify.ts';
import { closeSharedDecodePool } from '../../server/volume/dicom/decodePool.ts';
import { ingest } from '../../server/volume/ingest.ts';
import { CODECS, CT_DICOM, removeTempDirs, tempDir } from './fixtures.ts';
import { axialSpec, writeSyntheticSeries } from './synthetic.ts';

const DATE_TAGS = ['x00080020', 'x00080021', 'x00080022', 'x00080023', 'x00100030', 'x00181200'];

/** Identifying values in a file (names, IDs, institution, physicians, UIDs, dates), read independently. */
async function identifyingValues(path: string): Promise<string[]> {
  const ds = dicomParser.parseDicom(new Uint8Array(await readFile(path)), { untilTag: 'x7fe00010' } as dicomParser.ParseDicomOptions);
  const values: string[] = [];
  for (const tag of [...Object.keys(IDENTIFYING_TAGS), ...DATE_TAGS]) {
    let value: string | undefined;
    try {
      value = ds.string(tag);
    } catch {
      value = undefined;
    }
    if (!value) continue;
    // Whole value and its parts (PN components, multi-line addresses).
    for (const part of [value, ...value.split(/[\\^\r\n]+/)]) {
      const clean = part.trim();
      if (clean.length >= 4 && !/^-+$/.test(clean) && !/^0+$/.test(clean)) values.push(clean);
    }
    if (/^\d{8}$/.test(value)) values.push(`${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}`);
  }
  return [...new Set(values)];
}

function leaks(text: string, values: string[]): string[] {
  const lower = text.toLowerCase();
  return values.filter((v) => lower.includes(v.toLowerCase()));
}

afterAll(async () => {
  await closeSharedDecodePool();
  await removeTempDirs();
});

const IDENTITY = {
  PatientName: 'Testperson^Annemarie^Q',
  PatientID: 'PID-7734921',
  PatientBirthDate: '19510317',
  AccessionNumber: 'ACC99812377',
  InstitutionName: 'Sankt Example Klinikum',
  InstitutionAddress: 'Beispielweg 12, Musterstadt',
  ReferringPhysicianName: 'Referrer^Hildegard',
  PerformingPhysicianName: 'Performer^Ottokar',
  OperatorsName: 'Operator^Friedrun',
  StationName: 'CTSTATION77',
  StudyID: 'STUDY5512',
  StudyDate: '20230405',
  StudyDescription: 'Thorax Annemarie follow-up',
  SeriesDescription: 'Series for Testperson',
  DeviceSerialNumber: 'SN-4477120',
  Manufacturer: 'ACME MEDICAL',
  BodyPartExamined: 'CHEST',
  KVP: 120,
  ContrastBolusAgent: 'Iomeprol 350',
};

describe('no identifying value survives ingest', () => {
  it('lists the allow-list explicitly', () => {
    expect(KEPT_ATTRIBUTES.map((a) => a.keyword)).toEqual(['Modality', 'BodyPartExamined', 'SliceThickness', 'KVP', 'ContrastBolusAgent', 'Manufacturer', 'StudyDate']);
  });

  it('example_ct_dicom: none of its identifying values reach meta or report', async () => {
    const names = await readdir(CT_DICOM);
    const values = [...new Set((await Promise.all(names.map((n) => identifyingValues(join(CT_DICOM, n))))).flat())];
    expect(values.length).toBeGreaterThan(3); // the fixture does carry some (institution address, station, dates, UIDs)
    const { volume, report } = await ingest(CT_DICOM);
    expect(leaks(JSON.stringify({ meta: volume.meta, report }), values)).toEqual([]);
  });

  it.each(['CT_small.dcm', 'MR_small.dcm'])('%s (patient name and ID present) as a one-slice image', async (name) => {
    const values = await identifyingValues(join(CODECS, name));
    expect(values.some((v) => v.includes('CompressedSamples'))).toBe(true);
    const { volume, report } = await ingest(join(CODECS, name), { allowSingleSlice: true });
    // MR_small's institution is "TOSHIBA" and its (allow-listed) manufacturer "TOSHIBA_MEC": a value
    // inside the kept manufacturer is the manufacturer, not a leak.
    const notManufacturer = values.filter((v) => !volume.meta.manufacturer?.includes(v));
    expect(leaks(JSON.stringify({ meta: volume.meta, report }), notManufacturer)).toEqual([]);
  });

  it('a series with a full identity keeps only the allow-list', async () => {
    const dir = await tempDir();
    const [first] = await writeSyntheticSeries(dir, axialSpec({ attributes: IDENTITY }));
    const values = await identifyingValues(first);
    expect(values).toEqual(expect.arrayContaining(['Testperson', 'PID-7734921', 'ACC99812377', 'Sankt Example Klinikum', 'Referrer', '19510317']));
    const { volume, report } = await ingest(dir);
    expect(leaks(JSON.stringify({ meta: volume.meta, report }), values)).toEqual([]);
    expect(volume.meta).toEqual({
      source: 'dicom',
      modality: 'CT',
      bodyPart: 'CHEST',
      sliceThicknessMm: 2.5,
      kvp: 120,
      contrastAgent: true,
      manufacturer: 'ACME MEDICAL',
      rescale: { slope: 1, intercept: -1024 },
    });
  });

  it('error messages carry no identifying value either', async () => {
    const messages: string[] = [];
    const attempts = [
      axialSpec({ attributes: IDENTITY, omit: [3] }),
      axialSpec({ attributes: IDENTITY, duplicate: [2] }),
      axialSpec({ attributes: IDENTITY, step: [0, 0.7, 2.5] }),
      axialSpec({ attributes: IDENTITY, slices: 1 }),
      axialSpec({ attributes: IDENTITY, resize: [1] }),
    ];
    let values: string[] = [];
    for (const spec of attempts) {
      const dir = await tempDir();
      const [first] = await writeSyntheticSeries(dir, spec);
      values = await identifyingValues(first);
      try {
        await ingest(dir);
        messages.push('(no error)');
      } catch (error) {
        expect(isHolocaseError(error)).toBe(true);
        messages.push((error as Error).message);
      }
    }
    expect(messages.every((m) => m !== '(no error)')).toBe(true);
    expect(leaks(messages.join('\n'), values)).toEqual([]);
    // A damaged file's message names the file, not the patient in it.
    const dir = await tempDir();
    await copyFile(join(CODECS, 'MR_truncated.dcm'), join(dir, 'slice.dcm'));
    const truncatedValues = await identifyingValues(join(CODECS, 'MR_small.dcm'));
    try {
      await ingest(dir);
    } catch (error) {
      expect(leaks((error as Error).message, truncatedValues)).toEqual([]);
    }
  });
});

describe('study date', () => {
  it('is removed without a per-install secret', async () => {
    const dir = await tempDir();
    await writeSyntheticSeries(dir, axialSpec({ attributes: IDENTITY }));
    const { volume } = await ingest(dir, { dateShiftSecret: '' });
    expect(volume.meta.studyDateShifted).toBeUndefined();
  });

  it('is shifted by the same whole number of days for every study of an install', async () => {
    const dir = await tempDir();
    await writeSyntheticSeries(dir, axialSpec({ attributes: IDENTITY }));
    const a = await ingest(dir, { dateShiftSecret: 'install-secret-1' });
    const b = await ingest(dir, { dateShiftSecret: 'install-secret-1' });
    const c = await ingest(dir, { dateShiftSecret: 'another-install' });
    const shifted = a.volume.meta.studyDateShifted!;
    expect(shifted).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(shifted).not.toBe('2023-04-05');
    expect(b.volume.meta.studyDateShifted).toBe(shifted);
    expect(c.volume.meta.studyDateShifted).not.toBe(shifted);
    const days = (Date.parse(shifted) - Date.parse('2023-04-05')) / 86_400_000;
    expect(days).toBe(dateShiftDays('install-secret-1'));
    expect(days).not.toBe(0);
  });
});
