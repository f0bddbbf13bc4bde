// The compact validation report the serving image writes to the termination message
// (serving/lib/validate-cmd.ts compactReport): parsed defensively (pure), since a crashed or
// foreign process may leave anything there.

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
}

export type ParsedReport = { ok: true; report: CompactValidationReport } | { ok: false; message: string };

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function parseValidationReport(text: string | undefined): ParsedReport {
  if (!text || !text.trim()) return { ok: false, message: 'the validation pod wrote no report to its termination message' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const tail = text.trim().split('\n').slice(-3).join(' | ').slice(0, 400);
    return { ok: false, message: `the validation report is not JSON; last output: ${tail}` };
  }
  if (typeof value !== 'object' || value === null || typeof (value as { ok?: unknown }).ok !== 'boolean') {
    return { ok: false, message: 'the validation report has no boolean "ok"' };
  }
  const v = value as Record<string, unknown>;
  const heads: Record<string, number> = {};
  if (typeof v.heads === 'object' && v.heads !== null) {
    for (const [k, a] of Object.entries(v.heads as Record<string, unknown>)) if (num(a) !== undefined) heads[k] = a as number;
  }
  const lat = (typeof v.latencyMs === 'object' && v.latencyMs !== null ? v.latencyMs : {}) as Record<string, unknown>;
  return {
    ok: true,
    report: {
      ok: v.ok as boolean,
      ...(typeof v.error === 'string' ? { error: v.error } : {}),
      ...(typeof v.model === 'string' ? { model: v.model } : {}),
      ...(typeof v.digest === 'string' ? { digest: v.digest } : {}),
      ...(num(v.samples) !== undefined ? { samples: v.samples as number } : {}),
      ...(num(v.accuracy) !== undefined ? { accuracy: v.accuracy as number } : {}),
      ...(num(v.trainingAccuracy) !== undefined ? { trainingAccuracy: v.trainingAccuracy as number } : {}),
      ...(num(v.accuracyGap) !== undefined ? { accuracyGap: v.accuracyGap as number } : {}),
      ...(Object.keys(heads).length ? { heads } : {}),
      ...(num(lat.p50) !== undefined || num(lat.p95) !== undefined ? { latencyMs: { p50: num(lat.p50), p95: num(lat.p95) } } : {}),
      ...(typeof v.profile === 'string' ? { profile: v.profile } : {}),
    },
  };
}

export type RejectionReason = 'SignatureMismatch' | 'LoadFailed' | 'InvalidArtifact' | 'TrainingServingSkew';

/** Why the serving code refused the artifact, from its error text (pure). */
export function classifyValidationError(error: string): RejectionReason {
  if (/skew/i.test(error)) return 'TrainingServingSkew';
  if (/signature|tensor|output|input|head/i.test(error)) return 'SignatureMismatch';
  if (/reference|labels\.jsonl|metrics\.json|modelship\.json/i.test(error)) return 'InvalidArtifact';
  return 'LoadFailed';
}
