/**
 * Routing rules: which studies arriving from the PACS become cases, from which series, with which
 * model and owner. By default every CT study does (its best CT series, the default model, owned by the
 * `pacs` service account and shared with its team). A rules file (JSON, `HOLOCASE_PACS_RULES`) narrows
 * that by calling AE title, Orthanc label or series description; the first rule that matches a usable
 * CT series wins. Everything a rule looks at (AE titles, descriptions) is used in memory only and never
 * stored or logged; a study that no rule takes is recorded with a reason in holocase's own words.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { HolocaseError } from '../errors.ts';

const AE_TITLE = z.string().min(1).max(16);

const RuleSchema = z
  .object({
    /** Shown to administrators as the reason a case was made ("cardiac CTA"). */
    name: z.string().min(1).max(80),
    /** Calling AE titles (the sender, Orthanc's `RemoteAET`); any of them matches. */
    callingAet: z.array(AE_TITLE).min(1).optional(),
    /** Orthanc labels on the study (Orthanc 1.12+); any of them matches. */
    label: z.array(z.string().min(1).max(64)).min(1).optional(),
    /** Regular expression tested against the Series Description, case-insensitive. */
    seriesDescription: z
      .string()
      .min(1)
      .max(200)
      .refine((source) => {
        try {
          new RegExp(source, 'i');
          return true;
        } catch {
          return false;
        }
      }, 'is not a valid regular expression')
      .optional(),
    /** Model bundle id; default: the server's default model. */
    model: z.string().min(1).optional(),
    /** Account that owns the cases; default: the file's `owner`. */
    owner: z.string().min(2).max(64).optional(),
  })
  .strict();

export const RoutingSchema = z
  .object({
    /** Service account that owns incoming cases (created on first start when missing). */
    owner: z.string().min(2).max(64).default('pacs'),
    /** Team of that account when holocase creates it: the team that sees the cases. */
    team: z.string().min(1).max(64).optional(),
    /** Share incoming cases with the owner's team. */
    shareWithTeam: z.boolean().default(true),
    rules: z.array(RuleSchema).min(1).default([{ name: 'every CT study' }]),
  })
  .strict();

export type RoutingRule = z.infer<typeof RuleSchema>;
export type RoutingConfig = z.infer<typeof RoutingSchema>;

/** The routing without a rules file: every CT study. */
export const DEFAULT_ROUTING: RoutingConfig = RoutingSchema.parse({});

/** Reads and validates a rules file; BAD_REQUEST names the file and the field that is wrong. */
export function loadRoutingRules(file: string | undefined): RoutingConfig {
  if (!file) return DEFAULT_ROUTING;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : `it is not valid JSON (${(error as Error).message})`;
    throw new HolocaseError('BAD_REQUEST', `PACS routing rules ${file}: ${reason}`);
  }
  const parsed = RoutingSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HolocaseError('BAD_REQUEST', `PACS routing rules ${file}: ${issue?.path.join('.') || 'the file'} ${issue?.message}`);
  }
  return parsed.data;
}

/** A series as routing sees it (held in memory only). */
export interface SeriesFacts {
  /** Orthanc's series id, when the study is in Orthanc. */
  orthancId?: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  modality: string;
  description: string;
  /** Images in the series. */
  instances: number;
  /** Scout / localizer images (Image Type LOCALIZER). */
  localizer: boolean;
  /** The sender's AE title, when known. */
  callingAet?: string;
}

export interface StudyFacts {
  /** Orthanc labels on the study. */
  labels: string[];
  series: SeriesFacts[];
}

export type RoutingDecision = { kind: 'case'; series: SeriesFacts; rule: RoutingRule } | { kind: 'skip'; reason: string };

function matches(rule: RoutingRule, series: SeriesFacts, labels: string[]): boolean {
  if (rule.callingAet && !rule.callingAet.some((aet) => aet.trim().toUpperCase() === series.callingAet?.trim().toUpperCase())) return false;
  if (rule.label && !rule.label.some((label) => labels.includes(label))) return false;
  if (rule.seriesDescription && !new RegExp(rule.seriesDescription, 'i').test(series.description)) return false;
  return true;
}

/** "1 series", "2 series", "1 image", "2 images". */
function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 || what.endsWith('series') ? '' : 's'}`;
}

/**
 * 1. Not CT at all → skipped, naming the modalities found.
 * 2. Usable CT series: not localizers, two images or more; none → skipped, saying why.
 * 3. The first rule with a matching series wins; among its matches the series with the most images.
 */
export function routeStudy(study: StudyFacts, routing: RoutingConfig): RoutingDecision {
  const ct = study.series.filter((s) => s.modality.toUpperCase() === 'CT');
  if (ct.length === 0) {
    const modalities = [...new Set(study.series.map((s) => s.modality || 'unknown modality'))].sort();
    return { kind: 'skip', reason: `not CT (${modalities.join(', ') || 'no images'})` };
  }
  const usable = ct.filter((s) => !s.localizer && s.instances >= 2);
  if (usable.length === 0) {
    const localizers = ct.filter((s) => s.localizer).length;
    const single = ct.filter((s) => !s.localizer && s.instances < 2).length;
    const parts = [localizers ? count(localizers, 'localizer series') : '', single ? count(single, 'series') + ' of a single image' : ''].filter(Boolean);
    return { kind: 'skip', reason: `no usable CT series (${parts.join(', ')})` };
  }
  for (const rule of routing.rules) {
    const matching = usable.filter((s) => matches(rule, s, study.labels));
    if (matching.length === 0) continue;
    const series = matching.sort((a, b) => b.instances - a.instances)[0]!;
    return { kind: 'case', series, rule };
  }
  return { kind: 'skip', reason: `no routing rule matches its ${count(usable.length, 'CT series')}` };
}
