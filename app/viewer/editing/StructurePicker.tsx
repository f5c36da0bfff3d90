'use client';
/**
 * The structure the tools work on, and adding one: a name from the anatomy catalogue (its colour and
 * group come along) or a free name with a colour of the user's choice.
 */
import { useMemo, useState } from 'react';
import { ANATOMY } from '../../../models/anatomy.ts';
import { useViewer, useViewerStore } from '../viewerStore.ts';
import { newLabelEntry } from './labelTable.ts';

export function StructurePicker() {
  const store = useViewerStore();
  const table = useViewer((s) => s.labelTable);
  const active = useViewer((s) => s.activeLabel);
  const [name, setName] = useState('');
  const [color, setColor] = useState('#c83232');
  const [error, setError] = useState<string | null>(null);
  const entries = useMemo(() => Object.values(table).sort((a, b) => a.displayName.localeCompare(b.displayName)), [table]);
  const known = ANATOMY.find((e) => e.name === name.trim() || e.displayName.toLowerCase() === name.trim().toLowerCase());

  const add = () => {
    try {
      const entry = newLabelEntry(store.getState().labelTable, known?.name ?? name, known ? undefined : color);
      store.getState().addLabel(entry);
      setName('');
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <div className="structure-picker">
      <label>
        Structure
        <select value={active ?? ''} onChange={(e) => store.getState().setActiveLabel(e.target.value ? Number(e.target.value) : null)} data-testid="edit-structure">
          <option value="">Choose…</option>
          {entries.map((e) => (
            <option key={e.label} value={e.label}>
              {e.displayName}
              {e.added ? ' (new)' : ''}
            </option>
          ))}
        </select>
      </label>
      <div className="field-row">
        <input type="text" list="anatomy-names" placeholder="Add: catalogue or free name" value={name} onChange={(e) => setName(e.target.value)} aria-label="New structure name" data-testid="new-structure-name" />
        <div className="button-row">
          {!known && <input type="color" value={color} onChange={(e) => setColor(e.target.value)} aria-label="Colour of the new structure" />}
          <button type="button" className="small" disabled={!name.trim()} onClick={add} data-testid="add-structure">
            Add
          </button>
        </div>
      </div>
      <datalist id="anatomy-names">
        {ANATOMY.map((e) => (
          <option key={e.name} value={e.name}>
            {e.displayName}
          </option>
        ))}
      </datalist>
      {error && (
        <p className="error small-text" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
