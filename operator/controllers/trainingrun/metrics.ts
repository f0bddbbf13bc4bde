// TrainingRun and ModelVersion metrics for the Training dashboard and the retraining-failed
// alert. Outcomes are counted on the status write that moves a run into Succeeded/Failed: the
// API server accepts that write once (optimistic concurrency), so re-lists, resyncs and operator
// restarts (which see the run already terminal) never count a run twice. Offline metrics of
// ModelVersions are read from the informer cache at scrape time, so they follow creations and
// deletions without any bookkeeping.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ModelVersion, TrainingRun, TrainingRunPhase, TrainingRunStatus } from '../../api/index.js';
import type { CacheReader } from '../../runtime/controller.js';
import { Kinds } from '../../runtime/kinds.js';
import { isTerminal } from './status.js';

export const TRAININGRUNS_COMPLETED = 'modelship_operator_trainingruns_completed_total';
export const MODELVERSION_METRIC = 'modelship_operator_modelversion_metric';

/** Training takes seconds (tests, tiny models) to a day (large GPU jobs). */
const DURATION_BUCKETS = [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400];
const TERMINAL_PHASES: TrainingRunPhase[] = ['Succeeded', 'Failed'];

/** A run that reached a terminal phase with this write. */
export interface Completion {
  labels: { resource_namespace: string; model: string; phase: TrainingRunPhase };
  /** Seconds from start to completion; absent when the run never started (e.g. InvalidSpec). */
  durationSeconds?: number;
}

/**
 * The completion a status write records (pure): `before` is the stored status the write was
 * computed from, `after` the status it stored. Undefined unless the write is the transition into
 * Succeeded/Failed.
 */
export function completionOf(
  run: TrainingRun,
  before: TrainingRunStatus | undefined,
  after: TrainingRunStatus | undefined,
): Completion | undefined {
  if (isTerminal(before?.phase) || !after?.phase || !isTerminal(after.phase)) return undefined;
  const labels = { resource_namespace: run.metadata.namespace ?? '', model: run.spec.model, phase: after.phase };
  const start = Date.parse(after.startTime ?? '');
  const end = Date.parse(after.completionTime ?? '');
  const durationSeconds =
    Number.isFinite(start) && Number.isFinite(end) && end >= start ? (end - start) / 1000 : undefined;
  return durationSeconds === undefined ? { labels } : { labels, durationSeconds };
}

export interface ModelVersionSample {
  labels: { resource_namespace: string; model: string; version: string; metric: string };
  value: number;
}

/** One sample per offline metric (per head as <head>.<metric>) of each ModelVersion (pure). */
export function modelVersionSamples(versions: ModelVersion[]): ModelVersionSample[] {
  const samples: ModelVersionSample[] = [];
  for (const mv of versions) {
    if (!mv.spec?.model || mv.spec.version === undefined) continue;
    for (const [metric, value] of Object.entries(mv.spec.metrics ?? {})) {
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      samples.push({
        labels: {
          resource_namespace: mv.metadata.namespace ?? '',
          model: mv.spec.model,
          version: String(mv.spec.version),
          metric,
        },
        value,
      });
    }
  }
  return samples;
}

export class TrainingRunMetrics {
  readonly completed: Counter<'resource_namespace' | 'model' | 'phase'>;
  readonly duration: Histogram<'resource_namespace' | 'model'>;
  readonly modelVersionMetric: Gauge<'resource_namespace' | 'model' | 'version' | 'metric'>;
  /** The controller's informer cache, known from its first reconcile (none before it leads). */
  private cache?: CacheReader;

  constructor(readonly registry: Registry = new Registry()) {
    this.completed = new Counter({
      name: TRAININGRUNS_COMPLETED,
      help: 'TrainingRuns that ended Succeeded or Failed, by resource namespace, model and phase.',
      labelNames: ['resource_namespace', 'model', 'phase'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'modelship_operator_trainingrun_duration_seconds',
      help: "Seconds from a TrainingRun's start (its Job) to its completion.",
      labelNames: ['resource_namespace', 'model'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
    const samples = () => (this.cache ? modelVersionSamples(this.cache.list<ModelVersion>(Kinds.ModelVersion)) : []);
    this.modelVersionMetric = new Gauge({
      name: MODELVERSION_METRIC,
      help: 'Offline metrics (spec.metrics, per head as <head>.<metric>) of each ModelVersion.',
      labelNames: ['resource_namespace', 'model', 'version', 'metric'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of samples()) this.set(s.labels, s.value);
      },
    });
  }

  /**
   * Called on every reconcile of a run: remembers the cache and creates the run's outcome series
   * at 0, so that the first failure of a model is an increase Prometheus can see.
   */
  seen(run: TrainingRun, cache: CacheReader): void {
    this.cache = cache;
    for (const phase of TERMINAL_PHASES)
      this.completed.inc({ resource_namespace: run.metadata.namespace ?? '', model: run.spec.model, phase }, 0);
  }

  /** Records the completion a status write made, if it made one. */
  written(run: TrainingRun, before: TrainingRunStatus | undefined, after: TrainingRunStatus | undefined): void {
    const c = completionOf(run, before, after);
    if (!c) return;
    this.completed.inc(c.labels);
    if (c.durationSeconds !== undefined)
      this.duration.observe(
        { resource_namespace: c.labels.resource_namespace, model: c.labels.model },
        c.durationSeconds,
      );
  }
}
