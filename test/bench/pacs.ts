/**
 * SEG export benchmark: the label map of the built-in phantom at clinical spacing (0.8 × 0.8 × 1.0 mm,
 * 475×350×520, TotalSegmentator structure names) written as a DICOM Segmentation by
 * `buildSegmentation` — time, frames, size and the process's peak memory. Peer in the same run, on a
 * slab of the same label map (dcmjs as documented keeps every frame unpacked and writes Pixel Data
 * itself, too slow and too large for the whole volume): dcmjs's derivation used as documented
 * (`setNumberOfFrames`, `addSegment` with unpacked frames, `bitPackPixelData`, `datasetToBuffer`).
 */
import { applyAffine, type LabelMap, type Vec3 } from '../../mesh/grid.ts';
import { describeStructure } from '../../models/anatomy.ts';
import { structureCodes } from '../../models/anatomyCodes.ts';
import { buildSegmentation, type SegSegmentSpec, type SegSourceSeries } from '../../server/pacs/dicomSeg.ts';
import { makePhantom } from '../../server/volume/phantom.ts';
import { processPeakBytes } from '../../server/pipeline/stageMeter.ts';

const SLAB = 60;

function sourceOf(labels: LabelMap): SegSourceSeries {
  const [nx, ny, nz] = labels.dims;
  const a = labels.affine;
  const unit = (v: Vec3) => v.map((x) => x / Math.hypot(...v)) as Vec3;
  const row = unit([a[0]!, a[4]!, a[8]!]);
  const column = unit([a[1]!, a[5]!, a[9]!]);
  return {
    slices: Array.from({ length: nz }, (_, k) => ({ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: `2.25.${10_000 + k}`, position: applyAffine(a, [0, 0, k]) })),
    orientation: [...row, ...column] as SegSourceSeries['orientation'],
    pixelSpacing: [Math.hypot(a[1]!, a[5]!, a[9]!), Math.hypot(a[0]!, a[4]!, a[8]!)],
    rows: ny,
    columns: nx,
    studyInstanceUid: '2.25.1',
    seriesInstanceUid: '2.25.2',
    frameOfReferenceUid: '2.25.3',
    patientStudy: { PatientName: 'BENCH^PHANTOM', PatientID: 'BENCH' },
  };
}

function slab(labels: LabelMap, slices: number): LabelMap {
  const plane = labels.dims[0] * labels.dims[1];
  return { dims: [labels.dims[0], labels.dims[1], slices], affine: labels.affine, data: labels.data.slice(0, plane * slices) };
}

/** dcmjs's segmentation derivation as its documentation uses it. */
async function dcmjsAsDocumented(labels: LabelMap, segments: SegSegmentSpec[], source: SegSourceSeries): Promise<number> {
  // @ts-expect-error dcmjs ships no type declarations
  const dcmjs = (await import('dcmjs')).default as any;
  const datasets = source.slices.map((s) => ({
    SOPClassUID: s.sopClassUid, SOPInstanceUID: s.sopInstanceUid, StudyInstanceUID: source.studyInstanceUid, SeriesInstanceUID: source.seriesInstanceUid,
    FrameOfReferenceUID: source.frameOfReferenceUid, Modality: 'CT', Rows: source.rows, Columns: source.columns, BitsAllocated: 16, PixelRepresentation: 1,
    ImagePositionPatient: s.position.map((v) => Number(v.toPrecision(10))), ImageOrientationPatient: source.orientation, PixelSpacing: source.pixelSpacing.map((v) => Number(v.toPrecision(10))),
    PixelData: new ArrayBuffer(2), _vrMap: { PixelData: 'OW' }, _meta: { TransferSyntaxUID: { vr: 'UI', Value: ['1.2.840.10008.1.2.1'] } },
  }));
  const multiframe = dcmjs.normalizers.Normalizer.normalizeToDataset(datasets);
  const seg = new dcmjs.derivations.Segmentation([multiframe], { includeSliceSpacing: true });
  const [nx, ny, nz] = labels.dims;
  const plane = nx * ny;
  const perSegment = segments.map((s) => {
    const slices: number[] = [];
    for (let k = 0; k < nz; k++) if (labels.data.subarray(k * plane, (k + 1) * plane).includes(s.label)) slices.push(k);
    return { s, slices };
  }).filter((x) => x.slices.length > 0);
  seg.setNumberOfFrames(perSegment.reduce((n, x) => n + x.slices.length, 0));
  for (const { s, slices } of perSegment) {
    const pixels = new Uint8Array(slices.length * plane);
    slices.forEach((k, f) => {
      for (let i = 0; i < plane; i++) if (labels.data[k * plane + i] === s.label) pixels[f * plane + i] = 1;
    });
    seg.addSegment(
      { SegmentLabel: s.displayName, SegmentedPropertyCategoryCodeSequence: { CodeValue: s.codes.category.value, CodingSchemeDesignator: 'SCT', CodeMeaning: s.codes.category.meaning }, SegmentedPropertyTypeCodeSequence: { CodeValue: s.codes.type.value, CodingSchemeDesignator: 'SCT', CodeMeaning: s.codes.type.meaning }, SegmentAlgorithmType: 'AUTOMATIC', SegmentAlgorithmName: 'bench' },
      pixels,
      slices.map((k) => nz - k), // the normaliser orders frames by descending position
    );
  }
  seg.bitPackPixelData();
  return dcmjs.data.datasetToBuffer(seg.dataset).length;
}

export async function bench(): Promise<Record<string, unknown>> {
  const phantom = makePhantom({ spacingMm: [0.8, 0.8, 1.0], noiseHu: 0 });
  const labels: LabelMap = { dims: phantom.labels.dims, affine: phantom.labels.affine, data: phantom.labels.data };
  const segments: SegSegmentSpec[] = Object.entries(phantom.table).map(([label, name]) => {
    const d = describeStructure(name);
    return { label: Number(label), displayName: d.displayName, color: d.color, codes: structureCodes(name) };
  });

  // Ours on the whole volume.
  const rssBefore = process.memoryUsage().rss;
  let started = performance.now();
  const whole = buildSegmentation(labels, segments, sourceOf(labels), { algorithmName: 'phantom' })!;
  const wholeMs = performance.now() - started;

  // Ours and the peer on a slab.
  const part = slab(labels, SLAB);
  started = performance.now();
  const ours = buildSegmentation(part, segments, sourceOf(part), { algorithmName: 'phantom' })!;
  const oursSlabMs = performance.now() - started;
  started = performance.now();
  const peerBytes = await dcmjsAsDocumented(part, segments, sourceOf(part));
  const peerSlabMs = performance.now() - started;

  return {
    workload: `phantom label map ${labels.dims.join('×')} at 0.8×0.8×1.0 mm, ${segments.length} structures`,
    wholeVolume: {
      ms: Math.round(wholeMs),
      segments: whole.segments,
      frames: whole.frames,
      msPerFrame: Number((wholeMs / whole.frames).toFixed(2)),
      segMB: Number((whole.bytes.length / 1e6).toFixed(1)),
      rssGrowthMB: Math.round((process.memoryUsage().rss - rssBefore) / 1e6),
      peakRssMB: Math.round(processPeakBytes() / 1024 ** 2),
    },
    slab: {
      slices: SLAB,
      frames: ours.frames,
      holocaseMs: Math.round(oursSlabMs),
      dcmjsAsDocumentedMs: Math.round(peerSlabMs),
      holocaseMB: Number((ours.bytes.length / 1e6).toFixed(2)),
      dcmjsAsDocumentedMB: Number((peerBytes / 1e6).toFixed(2)),
    },
  };
}
