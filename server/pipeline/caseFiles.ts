/** The files of a complete case folder, as `runCase` writes them and the server serves them. */
export const CASE_FILES = {
  ct: 'ct.nii.gz',
  labels: 'labels.nii.gz',
  glb: 'case.glb',
  report: 'report.json',
} as const;
