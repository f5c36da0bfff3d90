/**
 * Errors that describe what was wrong with the input, in words a radiographer understands.
 * Every stage throws `HolocaseError`; the CLI prints its message, the HTTP layer maps `status`.
 * Anything else that escapes a stage is a bug and is reported as an internal error without details.
 */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'NOT_DICOM'
  | 'DICOM_TRUNCATED'
  | 'DICOM_MALFORMED'
  | 'DICOM_UNSUPPORTED'
  | 'DICOM_DECODE_FAILED'
  | 'SERIES_EMPTY'
  | 'SERIES_SINGLE_SLICE'
  | 'SERIES_GAP'
  | 'SERIES_DUPLICATE'
  | 'SERIES_SPACING'
  | 'SERIES_INCONSISTENT'
  | 'SERIES_TILTED'
  | 'NIFTI_MALFORMED'
  | 'NIFTI_TRUNCATED'
  | 'NIFTI_UNSUPPORTED'
  | 'ZIP_MALFORMED'
  | 'ZIP_UNSAFE_PATH'
  | 'ZIP_TOO_LARGE'
  | 'UNSUPPORTED_INPUT'
  | 'INPUT_TOO_LARGE'
  | 'VOLUME_TOO_LARGE'
  | 'UPLOAD_TIMEOUT'
  | 'DISK_FULL'
  | 'MEMORY_BUSY'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_INVALID'
  | 'MODEL_MISMATCH'
  | 'CHECKPOINT_MALFORMED'
  | 'NNUNET_INVALID'
  | 'NNUNET_UNSUPPORTED'
  | 'MODALITY_MISMATCH'
  | 'PROVIDER_UNAVAILABLE'
  | 'LABELS_INVALID'
  | 'MESH_FAILED'
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'GONE'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'SEG_GRID_MISMATCH'
  | 'PACS_UNAVAILABLE'
  | 'DOWNLOAD_FAILED';

const STATUS: Record<ErrorCode, number> = {
  NOT_FOUND: 404,
  NOT_DICOM: 422,
  DICOM_TRUNCATED: 422,
  DICOM_MALFORMED: 422,
  DICOM_UNSUPPORTED: 415,
  DICOM_DECODE_FAILED: 422,
  SERIES_EMPTY: 422,
  SERIES_SINGLE_SLICE: 422,
  SERIES_GAP: 422,
  SERIES_DUPLICATE: 422,
  SERIES_SPACING: 422,
  SERIES_INCONSISTENT: 422,
  SERIES_TILTED: 422,
  NIFTI_MALFORMED: 422,
  NIFTI_TRUNCATED: 422,
  NIFTI_UNSUPPORTED: 415,
  ZIP_MALFORMED: 422,
  ZIP_UNSAFE_PATH: 422,
  ZIP_TOO_LARGE: 413,
  UNSUPPORTED_INPUT: 415,
  INPUT_TOO_LARGE: 413,
  VOLUME_TOO_LARGE: 413,
  UPLOAD_TIMEOUT: 408,
  DISK_FULL: 507,
  MEMORY_BUSY: 503,
  MODEL_NOT_FOUND: 404,
  MODEL_INVALID: 422,
  MODEL_MISMATCH: 422,
  CHECKPOINT_MALFORMED: 422,
  NNUNET_INVALID: 422,
  NNUNET_UNSUPPORTED: 422,
  MODALITY_MISMATCH: 422,
  PROVIDER_UNAVAILABLE: 503,
  LABELS_INVALID: 422,
  MESH_FAILED: 500,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  GONE: 410,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  SEG_GRID_MISMATCH: 422,
  PACS_UNAVAILABLE: 502,
  DOWNLOAD_FAILED: 502,
};

export interface HolocaseErrorOptions {
  cause?: unknown;
  /**
   * Whether running the same job again can succeed (default: only for server-side faults, status ≥ 500).
   * A job that failed on its input, or whose input is gone, is not retryable.
   */
  retryable?: boolean;
}

export class HolocaseError extends Error {
  readonly code: ErrorCode;
  /** HTTP status the API answers with. */
  readonly status: number;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options?: HolocaseErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HolocaseError';
    this.code = code;
    this.status = STATUS[code];
    this.retryable = options?.retryable ?? this.status >= 500;
  }
}

/** Error codes of a file system that is full (or over its quota). */
export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

export function isHolocaseError(error: unknown): error is HolocaseError {
  return error instanceof HolocaseError || (error instanceof Error && error.name === 'HolocaseError' && 'code' in error);
}
