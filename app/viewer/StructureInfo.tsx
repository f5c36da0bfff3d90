'use client';
/** Names the structure under the pointer (or the one clicked): display name, group, volume. */
import type { CaseModelData } from './caseStructures.ts';
import { GROUP_LABELS } from './groupLabels.ts';
import { useViewer } from './viewerStore.ts';

export function StructureInfo({ model }: { model: CaseModelData }) {
  const name = useViewer((s) => s.hovered ?? s.selected);
  const s = name ? model.structures.find((x) => x.name === name) : undefined;
  if (!s) return null;
  return (
    <div className="structure-info" data-testid="structure-info" role="status">
      <span className="swatch" style={{ background: s.color }} />
      <strong>{s.displayName}</strong>
      <span className="muted"> {GROUP_LABELS[s.group]}</span>
      {s.volumeMl != null && <span> · {s.volumeMl.toFixed(1)} mL</span>}
    </div>
  );
}
