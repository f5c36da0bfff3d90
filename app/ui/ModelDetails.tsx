'use client';
/**
 * What a surgeon should know about a segmentation model before choosing it: its licence, what it
 * cannot do, whether it is several networks run one after another, and the structures it segments
 * (grouped by tissue, folded away when long).
 */
import type { ModelInfo } from './api.ts';

export interface ModelDetailsProps {
  model: ModelInfo;
}

export function ModelDetails({ model }: ModelDetailsProps) {
  const groups = new Map<string, string[]>();
  for (const c of model.classes) groups.set(c.group, [...(groups.get(c.group) ?? []), c.displayName]);
  return (
    <div className="model-details" data-testid="model-details">
      <p className="small-text">
        <span data-testid="model-license">Licence: {model.license}</span>
        {' · '}
        {model.engine === 'set' ? `${model.members?.length ?? 0} networks run one after another (${model.members?.join(', ')})` : model.engine === 'rules' ? 'built-in rules, no network' : 'one network'}
        {' · '}
        {model.modality}
      </p>
      {model.description && <p className="small-text muted">{model.description}</p>}
      <p className="small-text" data-testid="model-limits">
        <strong>Limits:</strong> {model.limits}
      </p>
      <details data-testid="model-classes">
        <summary className="small-text">
          {model.classes.length} structure{model.classes.length === 1 ? '' : 's'}
        </summary>
        <ul className="small-text model-classes">
          {[...groups].map(([group, names]) => (
            <li key={group}>
              <span className="muted">{group}:</span> {names.join(', ')}
            </li>
          ))}
        </ul>
      </details>
    </div>
  );
}
