// The reference a version's live traffic is compared with: expected distributions per input
// feature (over the profile's bins) and per head (over class labels). Built either from the
// ModelVersion's status.profile summary (shares) or from the full profile.json written by
// `serve validate` (counts); the drift math normalises both the same way.
import type { ModelVersionStatusCalibration, ModelVersionStatusProfile } from '../api/index.js';
import type { HeadCalibrationReference } from './estimate.js';

export interface ReferenceProfile {
  /** Expected distribution per feature, one entry per bin (edges.length + 1 entries). */
  features: Record<string, number[]>;
  /** Expected predicted-class distribution per head. */
  predictions?: Record<string, Record<string, number>>;
  /** Samples the profile was computed from (how much its shares can be trusted); unknown: exact. */
  samples?: number;
  /** Per head: the reference's calibrated confidences per bin and the out-of-fold ECE. */
  calibration?: Record<string, HeadCalibrationReference>;
}

/** From ModelVersion.status.profile; undefined when validation recorded no feature histograms. */
export function referenceFromStatusProfile(
  profile: ModelVersionStatusProfile | undefined,
  calibration?: readonly ModelVersionStatusCalibration[],
): ReferenceProfile | undefined {
  if (!profile?.features?.length) return undefined;
  const features: Record<string, number[]> = {};
  for (const f of profile.features) if (f.proportions?.length) features[f.name] = [...f.proportions];
  const predictions: Record<string, Record<string, number>> = {};
  for (const p of profile.predictions ?? []) {
    if (!p.labels || !p.proportions || p.labels.length !== p.proportions.length) continue;
    predictions[p.head] = Object.fromEntries(p.labels.map((l, i) => [l, p.proportions![i]]));
  }
  if (!Object.keys(features).length) return undefined;
  const calibrated = calibrationFromStatus(calibration);
  return {
    features,
    predictions,
    ...(profile.samples !== undefined ? { samples: profile.samples } : {}),
    ...(calibrated ? { calibration: calibrated } : {}),
  };
}

function calibrationFromStatus(
  calibration: readonly ModelVersionStatusCalibration[] | undefined,
): Record<string, HeadCalibrationReference> | undefined {
  const out: Record<string, HeadCalibrationReference> = {};
  for (const c of calibration ?? [])
    if (c.confidenceCounts?.length && c.eceAfter !== undefined)
      out[c.head] = { bins: [...c.confidenceCounts], eceAfter: c.eceAfter };
  return Object.keys(out).length ? out : undefined;
}

/** The parts of profile.json (serving/lib/model/schema.ts Profile) the reference needs. */
export interface ProfileJsonLike {
  features: Record<string, { counts: number[] }>;
  heads?: Record<
    string,
    { classes: Record<string, number>; calibration?: { eceAfter: number; confidence: { counts: number[] } } }
  >;
}

/** From the full profile.json. */
export function referenceFromProfileJson(profile: ProfileJsonLike): ReferenceProfile {
  const features = Object.fromEntries(Object.entries(profile.features).map(([name, f]) => [name, [...f.counts]]));
  const predictions = Object.fromEntries(
    Object.entries(profile.heads ?? {}).map(([head, h]) => [head, { ...h.classes }]),
  );
  const samples = Math.max(0, ...Object.values(features).map((c) => c.reduce((s, v) => s + v, 0)));
  const calibration: Record<string, HeadCalibrationReference> = {};
  for (const [head, h] of Object.entries(profile.heads ?? {}))
    if (h.calibration)
      calibration[head] = { bins: [...h.calibration.confidence.counts], eceAfter: h.calibration.eceAfter };
  return {
    features,
    predictions,
    ...(samples > 0 ? { samples } : {}),
    ...(Object.keys(calibration).length ? { calibration } : {}),
  };
}
