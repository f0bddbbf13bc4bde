// The compact report (≤ 4 KiB) the validation Job leaves as its termination message: the
// operator reads it from the Pod status, with the reference distributions it records in
// ModelVersion.status.profile. Pure.
import type { Profile } from '../model/schema.js';
import type { ValidationReport } from './report.js';

/** The kubelet's limit on a termination message. */
const TERMINATION_LIMIT = 4096;

/** Rounds to n significant digits so the termination message stays small. */
const significant = (v: number, n = 4): number => Number(v.toPrecision(n));
const share = (counts: number[]): number[] => {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? Math.round((c / total) * 1e4) / 1e4 : 0));
};

/**
 * The reference distributions in the compact form the operator records in
 * ModelVersion.status.profile, so that drift can be measured without reading the artifact store.
 */
export function profileSummary(profile: Profile): ProfileSummary {
  return {
    bins: profile.bins,
    features: Object.entries(profile.features).map(([name, f]) => ({
      name,
      edges: f.edges.map((e) => significant(e)),
      proportions: share(f.counts),
    })),
    predictions: Object.entries(profile.heads).map(([head, h]) => ({
      head,
      labels: Object.keys(h.classes),
      proportions: share(Object.values(h.classes)),
    })),
  };
}

type CalibrationEntry = [number, number, number, number, number[]];

/**
 * Per head [temperature, ECE before, ECE after (out of fold), samples, calibrated-confidence
 * counts]: for status.calibration, and the reference of the label-free accuracy estimate.
 */
export function calibrationSummary(profile: Profile): Record<string, CalibrationEntry> | undefined {
  const out: Record<string, CalibrationEntry> = {};
  for (const [head, h] of Object.entries(profile.heads))
    if (h.calibration) {
      const c = h.calibration;
      out[head] = [significant(c.temperature), c.eceBefore, c.eceAfter, c.samples, c.confidence.counts];
    }
  return Object.keys(out).length ? out : undefined;
}

export interface ProfileSummary {
  bins: number;
  features: { name: string; edges: number[]; proportions: number[] }[];
  predictions: { head: string; labels: string[]; proportions: number[] }[];
}

/**
 * The termination-message form of the report (≤ 4 KiB). What does not fit is dropped in order
 * of least use to the operator: the signature, then the profile distributions, then per-head detail.
 */
export function compactReport(
  report: Partial<ValidationReport> & { ok: boolean; error?: string },
  profile?: Profile,
): string {
  const full = {
    ok: report.ok,
    ...(report.error ? { error: report.error.slice(0, 2000) } : {}),
    model: report.model,
    digest: report.digest,
    samples: report.samples,
    accuracy: report.accuracy,
    trainingAccuracy: report.trainingAccuracy,
    accuracyGap: report.accuracyGap,
    heads: report.heads ? Object.fromEntries(Object.entries(report.heads).map(([h, v]) => [h, v.accuracy])) : undefined,
    latencyMs: report.latencyMs ? { p50: report.latencyMs.p50, p95: report.latencyMs.p95 } : undefined,
    profile: report.profile?.path,
    signature: report.signature,
    calibration: profile ? calibrationSummary(profile) : undefined,
    distributions: profile ? profileSummary(profile) : undefined,
  };
  const attempts = [
    full,
    { ...full, signature: undefined },
    { ...full, signature: undefined, distributions: undefined },
    { ...full, signature: undefined, distributions: undefined, heads: undefined, profile: undefined },
    { ok: full.ok, error: full.error?.slice(0, 1000), digest: full.digest, accuracy: full.accuracy },
  ];
  for (const attempt of attempts) {
    const text = JSON.stringify(attempt);
    if (text.length <= TERMINATION_LIMIT) return text;
  }
  return JSON.stringify({ ok: full.ok, error: 'the validation report did not fit in the termination message' });
}
