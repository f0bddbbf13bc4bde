// Names shared by the operator, the serving runtime and the tests that are not part of the CRD
// schemas (so not generated): condition types, annotations, labels and the naming rules the
// schemas enforce. Kept here so that no controller spells them twice.
import { GROUP } from './types.gen.js';

/** Condition types per kind, as written in status.conditions[].type. */
export const ConditionTypes = {
  TrainingRun: {
    /** The run reached a terminal phase: True = Succeeded, False = Failed. */
    Succeeded: 'Succeeded',
    /** A ModelVersion was registered (False with the gate numbers when a gate failed). */
    Registered: 'Registered',
    /** The spec changed after the Job was created; the running Job was left as it was. */
    SpecChangedAfterStart: 'SpecChangedAfterStart',
  },
  ModelVersion: {
    /** Validation finished: True = passed, False = rejected (reason says why). */
    Validated: 'Validated',
    /** The version may take traffic. */
    Ready: 'Ready',
  },
  InferenceService: {
    /** The user-facing Service answers with at least one ready stable pod. */
    Ready: 'Ready',
    /** A canary is in progress. */
    Progressing: 'Progressing',
    /** Serving with a problem (rollback, failed pods, critical monitoring level). */
    Degraded: 'Degraded',
    /** Live input drift is at warn or critical level. */
    Drifting: 'Drifting',
  },
} as const;

/** Annotations users set on an InferenceService for manual control; each value acts once. */
export const Annotations = {
  promote: `${GROUP}/promote`,
  rollback: `${GROUP}/rollback`,
  abort: `${GROUP}/abort`,
  /** On validation Jobs and serving pods: the full ModelVersion name (labels are capped at 63). */
  modelVersion: `${GROUP}/model-version`,
} as const;

/** Labels the operator puts on what it creates, so that children and lineage can be selected. */
export const Labels = {
  model: `${GROUP}/model`,
  version: `${GROUP}/version`,
  role: `${GROUP}/role`,
  trainingRun: `${GROUP}/training-run`,
  modelVersion: `${GROUP}/model-version`,
  inferenceService: `${GROUP}/inference-service`,
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** Field manager used for server-side apply and status writes. */
export const FIELD_MANAGER = 'modelship';

/** The name every ModelVersion must have (enforced by a CEL rule on the CRD). */
export function modelVersionName(model: string, version: number): string {
  if (!Number.isInteger(version) || version < 1)
    throw new RangeError(`version must be a positive integer, got ${version}`);
  return `${model}-v${version}`;
}

/** Inverse of modelVersionName; undefined when the name does not follow the rule. */
export function parseModelVersionName(name: string): { model: string; version: number } | undefined {
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)-v([1-9][0-9]*)$/.exec(name);
  return match ? { model: match[1], version: Number(match[3]) } : undefined;
}
