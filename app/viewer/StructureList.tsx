'use client';
/**
 * The structure panel: structures grouped by tissue, each group and each structure with a visibility
 * switch, an opacity slider and "isolate" (show only this), who validated it (and, for users who may
 * edit, a switch to validate it or take the mark back).
 */
import { useState } from 'react';
import { api, formatDate } from '../ui/api.ts';
import type { TissueGroup } from '../../models/anatomy-types.ts';
import type { CaseModelData } from './caseStructures.ts';
import { GROUP_LABELS } from './groupLabels.ts';
import { isStructureVisible, useViewer, useViewerStore, type StructureEntry } from './viewerStore.ts';

export interface StructureListProps {
  model: CaseModelData;
}

export function StructureList({ model }: StructureListProps) {
  return (
    <section className="structure-list" aria-label="Structures" data-testid="structure-list">
      {model.groups.map((g) => (
        <GroupSection key={g.group} group={g.group} structures={g.structures} />
      ))}
    </section>
  );
}

function GroupSection({ group, structures }: { group: TissueGroup; structures: readonly StructureEntry[] }) {
  const store = useViewerStore();
  const [open, setOpen] = useState(false);
  const visibleCount = useViewer((s) => structures.filter((x) => isStructureVisible(s, x.name, x.group)).length);
  const isolated = useViewer((s) => s.isolated?.kind === 'group' && s.isolated.name === group);
  const opacity = useViewer((s) => s.opacity[structures[0]?.name] ?? 1);
  const actions = store.getState();
  return (
    <div className="group" data-group={group}>
      <div className="group-head">
        <label className="switch">
          <input
            type="checkbox"
            checked={visibleCount > 0}
            onChange={() => actions.toggleGroup(group)}
            aria-label={`Show ${GROUP_LABELS[group]}`}
            data-testid={`group-toggle-${group}`}
          />
          <span className="group-name">
            {GROUP_LABELS[group]} <span className="muted">{visibleCount}/{structures.length}</span>
          </span>
        </label>
        <button type="button" className={isolated ? 'small on' : 'small'} onClick={() => actions.isolate('group', group)} title="Show only this group">
          Isolate
        </button>
        <button type="button" className="small" onClick={() => setOpen(!open)} aria-expanded={open} title="List structures">
          {open ? '▾' : '▸'}
        </button>
      </div>
      <OpacitySlider value={opacity} onChange={(v) => actions.setGroupOpacity(group, v)} label={`${GROUP_LABELS[group]} opacity`} />
      {open && (
        <ul>
          {structures.map((s) => (
            <StructureRow key={s.name} structure={s} />
          ))}
        </ul>
      )}
    </div>
  );
}

function StructureRow({ structure }: { structure: StructureEntry }) {
  const store = useViewerStore();
  const visible = useViewer((s) => isStructureVisible(s, structure.name, structure.group));
  const opacity = useViewer((s) => s.opacity[structure.name] ?? 1);
  const isolated = useViewer((s) => s.isolated?.kind === 'structure' && s.isolated.name === structure.name);
  const highlighted = useViewer((s) => s.hovered === structure.name || s.selected === structure.name);
  const actions = store.getState();
  return (
    <li className={highlighted ? 'structure highlighted' : 'structure'}>
      <label className="switch">
        <input type="checkbox" checked={visible} onChange={() => actions.toggleStructure(structure.name)} aria-label={`Show ${structure.displayName}`} />
        <span className="swatch" style={{ background: structure.color }} />
        <span className="structure-name" onClick={() => actions.select(structure.name)}>
          {structure.displayName}
        </span>
      </label>
      <OpacitySlider value={opacity} onChange={(v) => actions.setOpacity(structure.name, v)} label={`${structure.displayName} opacity`} />
      <button type="button" className={isolated ? 'small on' : 'small'} onClick={() => actions.isolate('structure', structure.name)}>
        Isolate
      </button>
      {structure.label !== undefined && <ValidationMarkRow label={structure.label} name={structure.displayName} />}
    </li>
  );
}

/**
 * "Validated by alice, 24 Nov" and, for users who may edit, the switch that sets or clears it. The
 * switch shows the new state at once; the mark itself comes from the server's answer (and reaches
 * every other viewer through the case's events).
 */
function ValidationMarkRow({ label, name }: { label: number; name: string }) {
  const store = useViewerStore();
  const mark = useViewer((s) => s.validation[label] ?? null);
  const caseId = useViewer((s) => s.editCaseId);
  const [pending, setPending] = useState<boolean | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!mark && !caseId) return null;
  const toggle = async (validated: boolean) => {
    setPending(validated);
    setError(null);
    try {
      const answer = await api.setValidated(caseId!, label, validated);
      const validation = store.getState().validation;
      store.getState().setValidation({ ...validation, [label]: answer ? { by: answer.validatedBy, at: answer.validatedAt } : null });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setPending(null);
    }
  };
  return (
    <div className="validation-row" data-testid={`validation-${label}`}>
      {caseId ? (
        <label className="switch">
          <input type="checkbox" checked={pending ?? !!mark} aria-label={`${name} validated`} onChange={(e) => void toggle(e.target.checked)} data-testid={`validate-${label}`} />
          <span className={mark ? 'validated' : 'muted small-text'}>{mark ? `Validated by ${mark.by}, ${formatDate(mark.at)}` : 'Not validated'}</span>
        </label>
      ) : (
        <span className="validated">
          Validated by {mark!.by}, {formatDate(mark!.at)}
        </span>
      )}
      {error && <span className="error small-text">{error}</span>}
    </div>
  );
}

/** Opacity from 10 % (never fully invisible: hiding is the checkbox's job) to 100 %. */
function OpacitySlider({ value, onChange, label }: { value: number; onChange: (value: number) => void; label: string }) {
  return <input type="range" min={0.1} max={1} step={0.05} value={value} onChange={(e) => onChange(Number(e.target.value))} aria-label={label} className="opacity" />;
}
