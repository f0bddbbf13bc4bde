// The compact validation report the serving image writes to the termination message
// (serving/lib/validation/compact-report.ts): parsed defensively (pure), since a crashed or
// foreign process may leave anything there.

import type {
  ModelVersionStatusCalibration,
  ModelVersionStatusProfile,
  ModelVersionStatusSignature,
} from '../../api/index.js';

export interface CompactValidationReport {
  ok: boolean;
  error?: string;
  model?: string;
  digest?: string;
  samples?: number;
  /** Serving-path accuracy (mean over heads). */
  accuracy?: number;
  /** The artifact's own metrics.json accuracy. */
  trainingAccuracy?: number | null;
  accuracyGap?: number | null;
  /** Serving-path accuracy per head. */
  heads?: Record<string, number>;
  latencyMs?: { p50?: number; p95?: number };
  profile?: string;
  /** Input and heads as the serving code read them (for status.signature). */
  signature?: ModelVersionStatusSignature;
  /** Confidence calibration per head, fitted on the reference sample (for status.calibration). */
  calibration?: ModelVersionStatusCalibration[];
  /** Reference distributions (for status.profile, so drift needs no artifact-store access). */
  distributions?: Pick<ModelVersionStatusProfile, 'bins' | 'features' | 'predictions'>;
}

export type ParsedReport = { ok: true; report: CompactValidationReport } | { ok: false; message: string };

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function parseValidationReport(text: string | undefined): ParsedReport {
  if (!text || !text.trim())
    return { ok: false, message: 'the validation pod wrote no report to its termination message' };
  const parsed = parseJson(text);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (typeof value !== 'object' || value === null || typeof (value as { ok?: unknown }).ok !== 'boolean') {
    return { ok: false, message: 'the validation report has no boolean "ok"' };
  }
  return { ok: true, report: compactReport(value as Record<string, unknown>) };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    const tail = text.trim().split('\n').slice(-3).join(' | ').slice(0, 400);
    return { ok: false, message: `the validation report is not JSON; last output: ${tail}` };
  }
}

/** Only the fields of the expected type, in the report's documented order. */
function compactReport(v: Record<string, unknown>): CompactValidationReport {
  return {
    ok: v.ok as boolean,
    ...optional('error', str(v.error)),
    ...optional('model', str(v.model)),
    ...optional('digest', str(v.digest)),
    ...optional('samples', num(v.samples)),
    ...optional('accuracy', num(v.accuracy)),
    ...optional('trainingAccuracy', num(v.trainingAccuracy)),
    ...optional('accuracyGap', num(v.accuracyGap)),
    ...optional('heads', parseHeads(v.heads)),
    ...optional('latencyMs', parseLatency(v.latencyMs)),
    ...optional('profile', str(v.profile)),
    ...optional('signature', parseSignature(v.signature)),
    ...optional('calibration', parseCalibration(v.calibration)),
    ...optional('distributions', parseDistributions(v.distributions)),
  };
}

/** Whole, non-negative counts (at most 32), else undefined. */
function counts(value: unknown): number[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > 32) return undefined;
  return value.every((c) => Number.isInteger(c) && c >= 0) ? (value as number[]) : undefined;
}

/** {head: [temperature, eceBefore, eceAfter, samples, counts]} with plausible numbers; others dropped. */
function parseCalibration(value: unknown): ModelVersionStatusCalibration[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const out: ModelVersionStatusCalibration[] = [];
  for (const [head, v] of Object.entries(value as Record<string, unknown>)) {
    if (!Array.isArray(v) || v.length !== 5) continue;
    const [temperature, eceBefore, eceAfter, samples] = v.slice(0, 4).map(num);
    const confidenceCounts = counts(v[4]);
    const ece = (e: number | undefined) => e !== undefined && e >= 0 && e <= 1;
    if (temperature && temperature > 0 && ece(eceBefore) && ece(eceAfter) && samples && samples >= 1)
      out.push({
        head,
        temperature,
        eceBefore: eceBefore!,
        eceAfter: eceAfter!,
        samples: Math.round(samples),
        ...(confidenceCounts ? { confidenceCounts } : {}),
      });
  }
  return out.length ? out.slice(0, 32) : undefined;
}

/** Per-head accuracies that are finite numbers; none at all reads as absent. */
function parseHeads(value: unknown): Record<string, number> | undefined {
  const heads: Record<string, number> = {};
  if (typeof value === 'object' && value !== null) {
    for (const [k, a] of Object.entries(value as Record<string, unknown>))
      if (num(a) !== undefined) heads[k] = a as number;
  }
  return Object.keys(heads).length ? heads : undefined;
}

function parseLatency(value: unknown): CompactValidationReport['latencyMs'] | undefined {
  const lat = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  return num(lat.p50) !== undefined || num(lat.p95) !== undefined
    ? { p50: num(lat.p50), p95: num(lat.p95) }
    : undefined;
}

const optional = <K extends string, T>(key: K, value: T | undefined): Partial<Record<K, T>> =>
  value === undefined ? {} : ({ [key]: value } as Record<K, T>);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
const numbers = (v: unknown): number[] | undefined =>
  Array.isArray(v) && v.every((x) => num(x) !== undefined) ? (v as number[]) : undefined;
const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as T;

/** Only the fields the CRD's status.signature declares, so the stored status equals what we computed. */
function parseSignature(value: unknown): ModelVersionStatusSignature | undefined {
  const v = obj(value);
  if (!v || !Array.isArray(v.heads)) return undefined;
  const heads = v.heads
    .map(obj)
    .filter((h): h is Record<string, unknown> => !!h && typeof h.name === 'string')
    .map((h) =>
      defined({
        name: h.name as string,
        tensor: str(h.tensor),
        type: h.type === 'binary' || h.type === 'multiclass' ? (h.type as 'binary' | 'multiclass') : undefined,
        labels: strings(h.labels),
      }),
    );
  const i = obj(v.input);
  const input =
    i && (i.kind === 'image' || i.kind === 'tensor')
      ? defined({
          kind: i.kind as 'image' | 'tensor',
          tensor: str(i.tensor),
          width: num(i.width),
          height: num(i.height),
          channels: num(i.channels),
          layout: i.layout === 'NCHW' || i.layout === 'NHWC' ? (i.layout as 'NCHW' | 'NHWC') : undefined,
          features: strings(i.features),
        })
      : undefined;
  return defined({ input, heads });
}

function parseDistributions(value: unknown): CompactValidationReport['distributions'] | undefined {
  const v = obj(value);
  if (!v || !Array.isArray(v.features)) return undefined;
  const features = v.features
    .map(obj)
    .filter((f): f is Record<string, unknown> => !!f && typeof f.name === 'string')
    .map((f) => defined({ name: f.name as string, edges: numbers(f.edges), proportions: numbers(f.proportions) }));
  const predictions = (Array.isArray(v.predictions) ? v.predictions : [])
    .map(obj)
    .filter((p): p is Record<string, unknown> => !!p && typeof p.head === 'string')
    .map((p) => defined({ head: p.head as string, labels: strings(p.labels), proportions: numbers(p.proportions) }));
  return defined({ bins: num(v.bins), features, predictions });
}

export type RejectionReason = 'SignatureMismatch' | 'LoadFailed' | 'InvalidArtifact' | 'TrainingServingSkew';

/** Why the serving code refused the artifact, from its error text (pure). */
export function classifyValidationError(error: string): RejectionReason {
  if (/skew/i.test(error)) return 'TrainingServingSkew';
  if (/signature|tensor|output|input|head/i.test(error)) return 'SignatureMismatch';
  if (/reference|labels\.jsonl|metrics\.json|modelship\.json/i.test(error)) return 'InvalidArtifact';
  return 'LoadFailed';
}
