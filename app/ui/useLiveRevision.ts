'use client';
/**
 * The revision of a case a page shows, kept current: it starts from the case detail (or share view)
 * and follows the case's event stream, so a save anywhere (another browser, a headset, a re-run)
 * reaches this page's hologram, label map and validation marks without a reload.
 */
import { useMemo, useState } from 'react';
import type { ValidationMark } from '../viewer/viewerStore.ts';
import type { StructureView } from './api.ts';
import { useRevisionEvents, type RevisionProgress } from './useRevisionEvents.ts';

export interface LiveRevision {
  glbUrl: string | null;
  /** The headset's level of detail of the same revision, when it has one. */
  xrGlbUrl: string | null;
  revision: number;
  structures: StructureView[];
  /** Validation marks by label value. */
  validation: Record<number, ValidationMark | null>;
  /** A revision on its way (saved, being meshed, or failed to mesh). */
  pending: RevisionProgress | null;
  /** Why the page can no longer follow the case (deleted, link revoked). */
  gone: string | null;
}

interface Start {
  glbUrl: string | null;
  xrGlbUrl: string | null;
  revision: number | null;
  structures: StructureView[];
}

function validationOf(structures: StructureView[]): Record<number, ValidationMark | null> {
  return Object.fromEntries(structures.map((s) => [s.label, s.validated ? { by: s.validated.by, at: s.validated.at } : null]));
}

/** Marks from a new revision's structures where they carry one; the last known mark otherwise. */
function mergeValidation(previous: Record<number, ValidationMark | null>, structures: StructureView[]): Record<number, ValidationMark | null> {
  return Object.fromEntries(
    structures.map((s) => [s.label, s.validated === undefined ? (previous[s.label] ?? null) : s.validated ? { by: s.validated.by, at: s.validated.at } : null]),
  );
}

/** Follows `eventsUrl` from `start` (a new `start` object starts over). */
export function useLiveRevision(start: Start | null, eventsUrl: string | null): LiveRevision {
  const initial = useMemo<LiveRevision | null>(
    () => (start ? { glbUrl: start.glbUrl, xrGlbUrl: start.xrGlbUrl, revision: start.revision ?? 0, structures: start.structures, validation: validationOf(start.structures), pending: null, gone: null } : null),
    [start],
  );
  const [state, setState] = useState<{ from: LiveRevision | null; live: LiveRevision | null }>({ from: null, live: null });
  const live = state.from === initial ? state.live : initial;
  const update = (patch: (l: LiveRevision) => Partial<LiveRevision>) =>
    setState((s) => {
      const base = s.from === initial ? s.live : initial;
      return base ? { from: initial, live: { ...base, ...patch(base) } } : s;
    });

  useRevisionEvents(start ? eventsUrl : null, {
    onReady: (e) =>
      update((l) =>
        e.revision < l.revision
          ? {}
          : { glbUrl: e.glbUrl, xrGlbUrl: e.xrGlbUrl, revision: e.revision, structures: e.structures as StructureView[], validation: mergeValidation(l.validation, e.structures as StructureView[]), pending: null },
      ),
    onProgress: (e) => update((l) => (e.revision >= l.revision ? { pending: e } : {})),
    onValidation: (e) => update((l) => ({ validation: { ...l.validation, [e.label]: e.validated ? { by: e.validated.by, at: e.validated.at } : null } })),
    onGone: (message) => update(() => ({ gone: message })),
  });
  return live ?? { glbUrl: null, xrGlbUrl: null, revision: 0, structures: [], validation: {}, pending: null, gone: null };
}
