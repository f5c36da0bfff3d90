'use client';
/**
 * Files from a drop or a file picker, folders included: a dropped folder is walked recursively through
 * the File and Directory Entries API (`webkitGetAsEntry`), keeping each file's path inside the folder.
 */

/** A file with the path it had inside the dropped or picked folder (just its name when alone). */
export interface PickedFile {
  file: File;
  path: string;
}

/** Everything dropped: plain files, files in folders (recursively), zips and NIfTI files alike. */
export async function filesFromDrop(transfer: DataTransfer): Promise<PickedFile[]> {
  const entries: FileSystemEntry[] = [];
  for (const item of Array.from(transfer.items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
  }
  if (entries.length === 0) return Array.from(transfer.files).map((file) => ({ file, path: file.name }));
  const out: PickedFile[] = [];
  for (const entry of entries) await walk(entry, out);
  return out;
}

/** Files from an `<input type="file">` (with `webkitdirectory`, their paths inside the folder). */
export function filesFromInput(list: FileList | null): PickedFile[] {
  return Array.from(list ?? []).map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

async function walk(entry: FileSystemEntry, out: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, path: entry.fullPath.replace(/^\//, '') || file.name });
    return;
  }
  if (!entry.isDirectory) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns the folder in batches (100 in Chromium) until it returns an empty batch.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, out);
  }
}

/** "20 files, 10.4 MB" */
export function describeFiles(files: readonly PickedFile[]): string {
  const bytes = files.reduce((sum, f) => sum + f.file.size, 0);
  return `${files.length} file${files.length === 1 ? '' : 's'}, ${(bytes / 1e6).toFixed(1)} MB`;
}
