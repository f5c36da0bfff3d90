/**
 * Option merging for every mesh operation: `DEFAULTS` overlaid with the options that are actually set.
 * Unlike `{ ...DEFAULTS, ...options }`, an option passed as `undefined` keeps its default, so callers can
 * forward optional values (`{ errorMm: parsed.errorMm }`) without filtering them first.
 * Isomorphic: no Node built-ins here.
 */
export function withDefaults<D extends object, O extends object>(defaults: D, options: O | undefined): D & O {
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(options ?? {})) {
    if (value !== undefined) merged[key] = value;
  }
  return merged as D & O;
}
