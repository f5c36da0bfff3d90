/**
 * De-identification on ingest, following DICOM PS3.15 Annex E (Basic Application Level
 * Confidentiality Profile). holocase keeps an explicit allow-list: nothing leaves ingest unless it is
 * listed in `KEPT_ATTRIBUTES`, so every attribute the profile removes or replaces (patient name, ID,
 * birth date, accession number, institution, physicians, operators, UIDs, device serial numbers,
 * descriptions, comments, private tags, …) never reaches the returned volume, its metadata, the report,
 * warnings or error messages. The kept values are checked against the form their VR allows, so a site
 * that puts free text into a coded field does not leak it through.
 *
 * Study date: by default it is removed. When a per-install secret is configured (`dateShiftSecret`,
 * or the `HOLOCASE_DATE_SHIFT_SECRET` environment variable read by ingest), the date is shifted by a
 * whole number of days derived from that secret (HMAC-SHA256), the same for every study on that
 * install, so intervals between a patient's studies survive but the real dates do not
 * (PS3.15 "Retain Longitudinal Temporal Information with Modified Dates" option).
 */
import { createHmac } from 'node:crypto';
import type { DataSet } from 'dicom-parser';
import type { VolumeMeta } from './volume.ts';

/** The de-identified attributes ingest keeps: the DICOM part of `VolumeMeta`. */
export type DeidentifiedAttributes = Pick<VolumeMeta, 'modality' | 'bodyPart' | 'sliceThicknessMm' | 'kvp' | 'contrastAgent' | 'studyDateShifted' | 'manufacturer'>;

export interface DeidentifyOptions {
  /**
   * Per-install secret that fixes the study-date shift. Absent: study dates are removed.
   */
  dateShiftSecret?: string;
  /** Largest date shift in days, either way (default 3650). */
  maxShiftDays?: number;
}

export const DEIDENTIFY_DEFAULTS = { maxShiftDays: 3650 } as const;

/** The allow-list: each kept attribute, its tag and what is kept of it. */
export const KEPT_ATTRIBUTES = [
  { tag: '(0008,0060)', keyword: 'Modality', kept: 'as is when a defined term (CT, MR, …)' },
  { tag: '(0018,0015)', keyword: 'BodyPartExamined', kept: 'as is when a defined term (CHEST, ABDOMEN, …)' },
  { tag: '(0018,0050)', keyword: 'SliceThickness', kept: 'number (mm)' },
  { tag: '(0018,0060)', keyword: 'KVP', kept: 'number (kV)' },
  { tag: '(0018,0010)', keyword: 'ContrastBolusAgent', kept: 'present yes/no only (the agent text is dropped)' },
  { tag: '(0008,0070)', keyword: 'Manufacturer', kept: 'as is (device maker, e.g. SIEMENS)' },
  { tag: '(0008,0020)', keyword: 'StudyDate', kept: 'shifted by a per-install offset, or removed' },
] as const;

/** Identifying attributes PS3.15's basic profile removes; used by tests and documentation. */
export const IDENTIFYING_TAGS: Record<string, string> = {
  x00100010: 'PatientName',
  x00100020: 'PatientID',
  x00100021: 'IssuerOfPatientID',
  x00100030: 'PatientBirthDate',
  x00100032: 'PatientBirthTime',
  x00101000: 'OtherPatientIDs',
  x00101001: 'OtherPatientNames',
  x00101040: 'PatientAddress',
  x00102154: 'PatientTelephoneNumbers',
  x00080050: 'AccessionNumber',
  x00080080: 'InstitutionName',
  x00080081: 'InstitutionAddress',
  x00081040: 'InstitutionalDepartmentName',
  x00080090: 'ReferringPhysicianName',
  x00081048: 'PhysiciansOfRecord',
  x00081050: 'PerformingPhysicianName',
  x00081060: 'NameOfPhysiciansReadingStudy',
  x00081070: 'OperatorsName',
  x00081010: 'StationName',
  x00181000: 'DeviceSerialNumber',
  x00200010: 'StudyID',
  x0020000d: 'StudyInstanceUID',
  x0020000e: 'SeriesInstanceUID',
  x00080018: 'SOPInstanceUID',
  x00081030: 'StudyDescription',
  x0008103e: 'SeriesDescription',
  x00321060: 'RequestedProcedureDescription',
  x00400253: 'PerformedProcedureStepID',
  x00400254: 'PerformedProcedureStepDescription',
};

function text(dataSet: DataSet, tag: string): string | undefined {
  try {
    const value = dataSet.string(tag);
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  } catch {
    return undefined;
  }
}

function decimal(dataSet: DataSet, tag: string): number | undefined {
  const value = text(dataSet, tag)?.split('\\')[0];
  if (value === undefined || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim())) return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** A coded string (CS): upper-case letters, digits, space and underscore, at most 16 characters. */
function codedString(dataSet: DataSet, tag: string): string | undefined {
  const value = text(dataSet, tag)?.split('\\')[0].trim().toUpperCase();
  return value && /^[A-Z0-9 _]{1,16}$/.test(value) ? value : undefined;
}

/**
 * The allow-listed attributes of a dataset, de-identified. Everything not listed in `KEPT_ATTRIBUTES`
 * is left behind.
 */
export function deidentify(dataSet: DataSet, options: DeidentifyOptions = {}): DeidentifiedAttributes {
  const out: DeidentifiedAttributes = {};
  // 1. Coded and numeric values: kept only in their proper form.
  const modality = codedString(dataSet, 'x00080060');
  if (modality) out.modality = modality;
  const bodyPart = codedString(dataSet, 'x00180015');
  if (bodyPart) out.bodyPart = bodyPart;
  const thickness = decimal(dataSet, 'x00180050');
  if (thickness !== undefined) out.sliceThicknessMm = thickness;
  const kvp = decimal(dataSet, 'x00180060');
  if (kvp !== undefined) out.kvp = kvp;
  // 2. Contrast: yes/no from the agent (text dropped), its sequence, route or volume.
  out.contrastAgent = contrastRecorded(dataSet);
  // 3. Manufacturer (device maker), length-limited.
  const manufacturer = text(dataSet, 'x00080070');
  if (manufacturer && manufacturer.length <= 64) out.manufacturer = manufacturer.replace(/\s+/g, ' ');
  // 4. Study date: shifted with the install's secret, otherwise removed.
  if (options.dateShiftSecret) {
    const shifted = shiftDate(text(dataSet, 'x00080020'), options.dateShiftSecret, options.maxShiftDays ?? DEIDENTIFY_DEFAULTS.maxShiftDays);
    if (shifted) out.studyDateShifted = shifted;
  }
  return out;
}

function contrastRecorded(dataSet: DataSet): boolean {
  const agent = text(dataSet, 'x00180010');
  if (agent && !/^(none|no|n|0|-+|no contrast)$/i.test(agent)) return true;
  if ((dataSet.elements.x00180012?.items?.length ?? 0) > 0) return true; // Contrast/Bolus Agent Sequence
  if (text(dataSet, 'x00181040')) return true; // Contrast/Bolus Route
  const volume = decimal(dataSet, 'x00181041');
  return volume !== undefined && volume > 0;
}

/** The install's date shift in days (never 0), derived from its secret. */
export function dateShiftDays(secret: string, maxShiftDays: number = DEIDENTIFY_DEFAULTS.maxShiftDays): number {
  const digest = createHmac('sha256', secret).update('holocase study date shift').digest();
  const magnitude = 1 + (digest.readUInt32BE(0) % Math.max(1, maxShiftDays));
  return digest[4] & 1 ? magnitude : -magnitude;
}

/** `YYYYMMDD` shifted by the install's offset, as ISO `YYYY-MM-DD`; undefined for a missing/invalid date. */
function shiftDate(value: string | undefined, secret: string, maxShiftDays: number): string | undefined {
  const m = value?.match(/^(\d{4})(\d{2})(\d{2})$/);
  if (!m) return undefined;
  const time = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (!Number.isFinite(time)) return undefined;
  const shifted = new Date(time + dateShiftDays(secret, maxShiftDays) * 86_400_000);
  return shifted.toISOString().slice(0, 10);
}
