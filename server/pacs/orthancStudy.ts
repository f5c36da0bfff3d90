/**
 * What holocase reads of a study in Orthanc, through its REST API: the facts routing needs (series,
 * modality, description, image count, sender's AE title, labels), the series' files for ingest, and —
 * at send time only — the source slices and identifiers a SEG must repeat. Everything here is held in
 * memory by the caller and dropped; only Orthanc's opaque ids are ever stored.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Vec3 } from '../../mesh/grid.ts';
import { HolocaseError } from '../errors.ts';
import type { SegSourceSeries } from './dicomSeg.ts';
import type { OrthancClient } from './orthancClient.ts';
import type { SeriesFacts, StudyFacts } from './routingRules.ts';

interface OrthancSeries {
  ID: string;
  Instances: string[];
  MainDicomTags: Record<string, string | undefined>;
  ParentStudy: string;
}

interface OrthancStudy {
  ID: string;
  MainDicomTags: Record<string, string | undefined>;
  Series: string[];
  /** Orthanc 1.12 and later. */
  Labels?: string[];
}

/** `instances-tags?short`: tag "gggg,eeee" → value (strings; sequences as arrays). */
type ShortTags = Record<string, unknown>;

const text = (tags: ShortTags, tag: string): string => {
  const value = tags[tag];
  return typeof value === 'string' ? value.trim() : '';
};
const numbers = (tags: ShortTags, tag: string): number[] =>
  text(tags, tag)
    .split('\\')
    .filter(Boolean)
    .map(Number);

/**
 * 1. The study and its series (one request each).
 * 2. Per series, the first image's metadata (the sender's AE title) and Image Type (localizer or not).
 */
export async function readStudyFacts(client: OrthancClient, studyId: string): Promise<StudyFacts> {
  const study = await client.json<OrthancStudy>(`/studies/${encodeURIComponent(studyId)}`);
  const seriesList = await client.json<OrthancSeries[]>(`/studies/${encodeURIComponent(studyId)}/series?expand`);
  const series: SeriesFacts[] = [];
  for (const s of seriesList) {
    const firstInstance = s.Instances[0];
    let callingAet: string | undefined;
    let localizer = false;
    if (firstInstance) {
      const metadata = await client.json<Record<string, string>>(`/instances/${firstInstance}/metadata?expand`);
      callingAet = metadata.RemoteAET || undefined;
      const tags = await client.json<ShortTags>(`/instances/${firstInstance}/tags?short`);
      localizer = text(tags, '0008,0008').toUpperCase().split('\\').includes('LOCALIZER');
    }
    series.push({
      orthancId: s.ID,
      studyInstanceUid: study.MainDicomTags.StudyInstanceUID ?? '',
      seriesInstanceUid: s.MainDicomTags.SeriesInstanceUID ?? '',
      modality: s.MainDicomTags.Modality ?? '',
      description: s.MainDicomTags.SeriesDescription ?? '',
      instances: s.Instances.length,
      localizer,
      callingAet,
    });
  }
  return { labels: study.Labels ?? [], series };
}

export interface FetchSeriesOptions {
  /** Downloads at the same time. */
  concurrency?: number;
}

export const FETCH_DEFAULTS = { concurrency: 4 } as const;

/**
 * Downloads every image of a series into `dir` as `part-000001.dcm`, … (the names an upload's files
 * get: nothing from the PACS names a file). Returns the number of files.
 */
export async function fetchSeriesFiles(client: OrthancClient, seriesId: string, dir: string, options: FetchSeriesOptions = {}): Promise<number> {
  const series = await client.json<OrthancSeries>(`/series/${encodeURIComponent(seriesId)}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let next = 0;
  const lanes = Math.max(1, options.concurrency ?? FETCH_DEFAULTS.concurrency);
  await Promise.all(
    Array.from({ length: Math.min(lanes, series.Instances.length) }, async () => {
      while (next < series.Instances.length) {
        const index = next++;
        const bytes = await client.bytes(`/instances/${series.Instances[index]}/file`);
        await writeFile(path.join(dir, `part-${String(index + 1).padStart(6, '0')}.dcm`), bytes, { mode: 0o600 });
      }
    }),
  );
  return series.Instances.length;
}

/** Patient and study attributes a SEG repeats, by keyword and tag. */
const PATIENT_STUDY_TAGS: Record<string, string> = {
  PatientName: '0010,0010',
  PatientID: '0010,0020',
  IssuerOfPatientID: '0010,0021',
  PatientBirthDate: '0010,0030',
  PatientSex: '0010,0040',
  StudyDate: '0008,0020',
  StudyTime: '0008,0030',
  StudyID: '0020,0010',
  AccessionNumber: '0008,0050',
  ReferringPhysicianName: '0008,0090',
};

/**
 * The source series of a SEG, freshly read from Orthanc: every slice's SOP Class/Instance UID and
 * position (one `instances-tags` request), geometry, and the patient/study identifiers of one image.
 */
export async function readSegSource(client: OrthancClient, seriesId: string): Promise<SegSourceSeries> {
  const all = await client.json<Record<string, ShortTags>>(`/series/${encodeURIComponent(seriesId)}/instances-tags?short`);
  const instances = Object.values(all);
  const first = instances[0];
  if (!first) throw new HolocaseError('NOT_FOUND', `the source series ${seriesId} has no images in Orthanc any more`);
  const patientStudy: Record<string, string> = {};
  for (const [keyword, tag] of Object.entries(PATIENT_STUDY_TAGS)) patientStudy[keyword] = text(first, tag);
  const orientation = numbers(first, '0020,0037');
  const pixelSpacing = numbers(first, '0028,0030');
  if (orientation.length !== 6 || pixelSpacing.length !== 2) {
    throw new HolocaseError('SEG_GRID_MISMATCH', 'the source series in Orthanc has no image orientation or pixel spacing');
  }
  return {
    slices: instances.map((tags) => ({
      sopClassUid: text(tags, '0008,0016'),
      sopInstanceUid: text(tags, '0008,0018'),
      position: numbers(tags, '0020,0032') as Vec3,
    })),
    orientation: orientation as SegSourceSeries['orientation'],
    pixelSpacing: pixelSpacing as [number, number],
    rows: Number(text(first, '0028,0010')),
    columns: Number(text(first, '0028,0011')),
    studyInstanceUid: text(first, '0020,000d'),
    seriesInstanceUid: text(first, '0020,000e'),
    frameOfReferenceUid: text(first, '0020,0052'),
    patientStudy,
  };
}
