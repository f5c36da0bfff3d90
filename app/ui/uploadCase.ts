'use client';
/**
 * Sends a study to `POST /api/cases` as multipart (`files`, many; `label`; `model`), reporting upload
 * progress (XMLHttpRequest: fetch has no upload progress). Resolves with the new case id.
 */
import { readApiResponse } from './api.ts';
import type { PickedFile } from './droppedFiles.ts';

export interface UploadCaseOptions {
  /** Uploader's label for the case (no patient identifiers, please). */
  label?: string;
  /** Model bundle id; the server's default when absent. */
  model?: string;
  /** Fraction of the bytes sent, 0..1. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

export function uploadCase(files: readonly PickedFile[], options: UploadCaseOptions = {}): Promise<{ id: string; eventsUrl: string }> {
  const form = new FormData();
  if (options.label) form.append('label', options.label);
  if (options.model) form.append('model', options.model);
  for (const f of files) form.append('files', f.file, f.path);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/cases');
    xhr.withCredentials = true;
    xhr.upload.onprogress = (e) => e.lengthComputable && options.onProgress?.(e.loaded / e.total);
    xhr.onload = () => {
      try {
        resolve(readApiResponse(xhr.status, xhr.responseText));
      } catch (error) {
        reject(error);
      }
    };
    xhr.onerror = () => reject(new Error('the upload was interrupted (network error)'));
    xhr.onabort = () => reject(new Error('the upload was cancelled'));
    options.signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(form);
  });
}
