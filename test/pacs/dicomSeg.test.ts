/**
 * The SEG writer on the real PACS fixture series: a label map on the ingested CT's grid goes out as a
 * DICOM Segmentation whose frames, read back by an independent reader, equal the label map on every
 * slice, reference the original slices by their SOP Instance UIDs, carry the catalogue's SNOMED CT
 * codes and the identifiers given for the study — and a label map on another grid is refused.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyAffine, type LabelMap, type Vec3 } from '../../mesh/grid.ts';
import { describeStructure } from '../../models/anatomy.ts';
import { structureCodes } from '../../models/anatomyCodes.ts';
import { buildSegmentation, dicomLab, type SegSourceSeries } from '../../server/pacs/dicomSeg.ts';
import { ingest } from '../../server/volume/ingest.ts';
import { holocaseErrorOf } from '../holocaseErrorOf.ts';
import { FIXTURES } from '../volume/fixtures.ts';
import { labelsFromSegmentation, readSegmentation } from './readSegmentation.ts';

const PACS_DIR = path.join(FIXTURES, 'totalsegmentator/example_ct_dicom_pacs');

/** The fixture's slices as the PACS holds them (read with dcmjs, apart from the code under test). */
async function sourceSeries(): Promise<SegSourceSeries> {
  // @ts-expect-error dcmjs ships no type declarations
  const dcmjs = (await import('dcmjs')).default as any;
  const slices = [];
  let first: any;
  for (const name of (await readdir(PACS_DIR)).sort()) {
    const bytes = await readFile(path.join(PACS_DIR, name));
    const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), { untilTag: '7FE00010' }).dict);
    first ??= ds;
    slices.push({ sopClassUid: ds.SOPClassUID, sopInstanceUid: ds.SOPInstanceUID, position: ds.ImagePositionPatient.map(Number) as Vec3 });
  }
  return {
    slices,
    orientation: first.ImageOrientationPatient.map(Number),
    pixelSpacing: first.PixelSpacing.map(Number),
    rows: first.Rows,
    columns: first.Columns,
    studyInstanceUid: first.StudyInstanceUID,
    seriesInstanceUid: first.SeriesInstanceUID,
    frameOfReferenceUid: first.FrameOfReferenceUID,
    patientStudy: { PatientName: 'TEST^PACS', PatientID: 'PACS-0001', AccessionNumber: 'ACC-0001', StudyDate: '20240102', StudyTime: '000000' },
  };
}

let source: SegSourceSeries;
let labels: LabelMap;
const STRUCTURES = ['bone', 'lung_left', 'kidney_cyst_right', 'liver'];

beforeAll(async () => {
  source = await sourceSeries();
  const { volume } = await ingest(PACS_DIR);
  // A label map with real anatomy on the CT's grid: bone (> 200 HU), air inside the body on the
  // patient's left (< -400 HU, x past the middle), a small block as "kidney cyst", no liver voxels.
  const [nx, ny, nz] = volume.dims;
  const data = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const v = k * nx * ny + j * nx + i;
        const hu = volume.data[v];
        if (hu > 200) data[v] = 1;
        else if (hu < -400 && i > nx / 2 && j > 150 && j < 400) data[v] = 2;
        else if (k >= 5 && k < 9 && i >= 100 && i < 140 && j >= 250 && j < 270) data[v] = 3;
      }
    }
  }
  labels = { dims: volume.dims, affine: volume.affine, data };
}, 120_000);

const specs = () =>
  STRUCTURES.map((name, i) => {
    const d = describeStructure(name);
    return { label: i + 1, displayName: d.displayName, color: d.color, codes: structureCodes(name) };
  });

describe('DICOM Segmentation from a label map', () => {
  it('has the label map on every slice, references the original slices and carries codes and identifiers', async () => {
    const built = buildSegmentation(labels, specs(), source, { algorithmName: 'hu-anatomy 1.0.0' })!;
    expect(built.segments).toBe(3); // liver has no voxel: no segment
    const seg = await readSegmentation(built.bytes);
    const ds = seg.dataset;

    // Frames equal the label map, slice by slice.
    const labelOfSegment = (n: number) => STRUCTURES.indexOf(seg.segments[n - 1]!.label === 'Bone' ? 'bone' : seg.segments[n - 1]!.label === 'Left lung' ? 'lung_left' : 'kidney_cyst_right') + 1;
    const back = labelsFromSegmentation(seg, labels, labelOfSegment);
    const plane = labels.dims[0] * labels.dims[1];
    for (let k = 0; k < labels.dims[2]; k++) {
      let differ = 0;
      for (let i = k * plane; i < (k + 1) * plane; i++) if (back[i] !== labels.data[i]) differ++;
      expect(differ, `slice ${k}`).toBe(0);
    }
    expect(built.frames).toBe(seg.frames.length);
    expect(Number(ds.NumberOfFrames)).toBe(seg.frames.length);

    // Each frame references the original slice at its position by its SOP Instance UID.
    for (const frame of seg.frames) {
      const slice = source.slices.find((s) => s.sopInstanceUid === frame.sourceSopInstanceUid)!;
      expect(slice, frame.sourceSopInstanceUid).toBeDefined();
      expect(Math.hypot(...slice.position.map((v, a) => v - frame.position[a]!))).toBeLessThan(1e-3);
    }
    const referenced = (ds.ReferencedSeriesSequence[0] ?? ds.ReferencedSeriesSequence).ReferencedInstanceSequence.map((r: any) => r.ReferencedSOPInstanceUID);
    expect(new Set(referenced)).toEqual(new Set(source.slices.map((s) => s.sopInstanceUid)));

    // The SEG belongs to the source study, frame of reference and patient; it is a new series.
    expect(ds.SOPClassUID).toBe('1.2.840.10008.5.1.4.1.1.66.4');
    expect(ds.Modality).toBe('SEG');
    expect(ds.StudyInstanceUID).toBe(source.studyInstanceUid);
    expect(ds.FrameOfReferenceUID).toBe(source.frameOfReferenceUid);
    expect(ds.SeriesInstanceUID).not.toBe(source.seriesInstanceUid);
    expect(JSON.stringify(ds.PatientName)).toContain('TEST^PACS');
    expect(ds.PatientID).toBe('PACS-0001');
    expect(ds.AccessionNumber).toBe('ACC-0001');
    expect(ds.BitsAllocated).toBe(1);
    expect(ds.SegmentationType).toBe('BINARY');
    expect(ds.RescaleSlope).toBeUndefined();

    // Segments: labels, SNOMED CT codes, laterality, anatomic region, algorithm, colour.
    const [bone, lung, cyst] = seg.segments;
    expect(bone).toMatchObject({ label: 'Bone', type: { CodeValue: '272673000', CodingSchemeDesignator: 'SCT' }, category: { CodeValue: '85756007' }, algorithmName: 'hu-anatomy 1.0.0' });
    expect(lung!.type).toMatchObject({ CodeValue: '39607008', CodeMeaning: 'Lung' });
    expect(JSON.stringify(lung!.type.SegmentedPropertyTypeModifierCodeSequence)).toContain('7771000');
    expect(cyst!.category.CodeValue).toBe('49755003');
    expect(cyst!.region).toMatchObject({ CodeValue: '64033007', CodeMeaning: 'Kidney' });
    expect(ds.SegmentSequence[0].RecommendedDisplayCIELabValue.map(Number)).toEqual(dicomLab(describeStructure('bone').color));
  });

  it('places frames by position even when the label map runs the other way along the slices', async () => {
    // The same label map stored with its slice axis reversed: another grid for the same voxels.
    const [nx, ny, nz] = labels.dims;
    const plane = nx * ny;
    const flipped = new Uint8Array(labels.data.length);
    for (let k = 0; k < nz; k++) flipped.set(labels.data.subarray((nz - 1 - k) * plane, (nz - k) * plane), k * plane);
    const last = applyAffine(labels.affine, [0, 0, nz - 1]);
    const affine = [...labels.affine];
    for (let r = 0; r < 3; r++) {
      affine[r * 4 + 2] = -labels.affine[r * 4 + 2]!;
      affine[r * 4 + 3] = last[r]!;
    }
    const reversed: LabelMap = { dims: labels.dims, affine, data: flipped };
    const built = buildSegmentation(reversed, specs(), source, { algorithmName: 'x' })!;
    const seg = await readSegmentation(built.bytes);
    const back = labelsFromSegmentation(seg, labels, (n) => STRUCTURES.findIndex((name) => describeStructure(name).displayName === seg.segments[n - 1]!.label) + 1);
    expect(Buffer.compare(Buffer.from(back), Buffer.from(labels.data))).toBe(0);
  });

  it('refuses a label map that is not on the series grid, and makes nothing from an empty one', async () => {
    const shifted = { ...labels, affine: labels.affine.map((v, i) => (i === 11 ? v + 1.0 : v)) };
    const error = await holocaseErrorOf((async () => buildSegmentation(shifted, specs(), source, { algorithmName: 'x' }))());
    expect(error.code).toBe('SEG_GRID_MISMATCH');
    expect(error.message).toMatch(/slice 1 of 20 has no slice of the series/);
    const empty = { ...labels, data: new Uint8Array(labels.data.length) };
    expect(buildSegmentation(empty, specs(), source, { algorithmName: 'x' })).toBeUndefined();
  });
});
