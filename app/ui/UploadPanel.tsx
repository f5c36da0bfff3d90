'use client';
/**
 * Upload a CT: drop a DICOM folder, a zip or a NIfTI file (or pick them), type an optional label,
 * choose the model (any installed model or model set, with its licence, limits and structures), send. Shows upload progress, then the processing progress from the job stream,
 * and opens the case when it is ready.
 */
import Link from 'next/link';
import { useEffect, useRef, useState, type DragEvent } from 'react';
import { api, type ModelInfo } from './api.ts';
import { describeFiles, filesFromDrop, filesFromInput, type PickedFile } from './droppedFiles.ts';
import { FormError } from './FormError.tsx';
import { ModelDetails } from './ModelDetails.tsx';
import { JobProgress } from './JobProgress.tsx';
import { uploadCase } from './uploadCase.ts';
import { useCaseEvents } from './useCaseEvents.ts';

export interface UploadPanelProps {
  /** Called when a new case was accepted (to refresh the case list). */
  onUploaded?: (id: string) => void;
}

export function UploadPanel({ onUploaded }: UploadPanelProps) {
  const [files, setFiles] = useState<PickedFile[]>([]);
  const [label, setLabel] = useState('');
  const [models, setModels] = useState<ModelInfo[]>([]);
  const [model, setModel] = useState('');
  const [defaultModel, setDefaultModel] = useState('');
  const [dragging, setDragging] = useState(false);
  const [sent, setSent] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [caseId, setCaseId] = useState<string | null>(null);
  const progress = useCaseEvents(caseId);
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    api.models().then(
      (answer) => {
        setModels(answer.models);
        setDefaultModel(answer.defaultModel);
      },
      () => setModels([]),
    );
  }, []);
  useEffect(() => {
    // `webkitdirectory` is not a React prop: set it on the element.
    folderInput.current?.setAttribute('webkitdirectory', '');
  }, []);

  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    setFiles(await filesFromDrop(e.dataTransfer));
    setError(null);
  };

  const send = async () => {
    setError(null);
    setSent(0);
    setCaseId(null);
    try {
      const accepted = await uploadCase(files, { label: label.trim() || undefined, model: model || undefined, onProgress: setSent });
      setCaseId(accepted.id);
      setFiles([]);
      onUploaded?.(accepted.id);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setSent(null);
    }
  };

  const busy = sent !== null;
  const chosen = models.find((m) => m.id === (model || defaultModel));
  return (
    <section className="card upload" aria-label="New case">
      <h2>New case</h2>
      <div
        className={dragging ? 'dropzone dragging' : 'dropzone'}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>Drop a DICOM folder, a .zip or a NIfTI file (.nii, .nii.gz) here</p>
        <div className="row">
          <button type="button" onClick={() => folderInput.current?.click()}>
            Choose a folder
          </button>
          <button type="button" onClick={() => fileInput.current?.click()}>
            Choose files
          </button>
        </div>
        <input ref={folderInput} type="file" multiple hidden onChange={(e) => setFiles(filesFromInput(e.target.files))} data-testid="folder-input" />
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          accept=".zip,.nii,.gz,.dcm,application/dicom,application/zip"
          onChange={(e) => setFiles(filesFromInput(e.target.files))}
          data-testid="file-input"
        />
        {files.length > 0 && <p className="muted" data-testid="picked">{describeFiles(files)}</p>}
      </div>
      <div className="row">
        <label className="field">
          <span>
            Label <span className="muted">(no patient names or IDs)</span>
          </span>
          <input value={label} onChange={(e) => setLabel(e.target.value)} maxLength={200} placeholder="e.g. liver resection planning 12" data-testid="label" />
        </label>
        {models.length > 0 && (
          <label className="field">
            Model
            <select value={model} onChange={(e) => setModel(e.target.value)} data-testid="model">
              <option value="">Default{models.some((m) => m.id === defaultModel) ? ` (${models.find((m) => m.id === defaultModel)!.name})` : ''}</option>
              {models.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name}
                  {m.engine === 'set' ? ` — ${m.members?.length} networks` : ''} · {m.classes.length} structure{m.classes.length === 1 ? '' : 's'}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {chosen && <ModelDetails model={chosen} />}
      <button type="button" className="primary" disabled={files.length === 0 || busy} onClick={send} data-testid="upload">
        {busy ? `Uploading… ${Math.round((sent ?? 0) * 100)} %` : 'Upload and process'}
      </button>
      {busy && <progress max={1} value={sent ?? 0} />}
      <FormError error={error} testId="upload-error" />
      {caseId && (
        <JobProgress progress={progress} caseId={caseId}>
          {progress.status === 'done' && (
            <Link className="button primary" href={`/cases/${caseId}`} data-testid="open-case">
              Open the case
            </Link>
          )}
        </JobProgress>
      )}
    </section>
  );
}
