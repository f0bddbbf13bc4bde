// Rollout metrics of the InferenceService controller, next to the analysis layer's
// (modelship_operator_analysis_*, drift and monitoring gauges):
//   modelship_operator_canary_weight{resource_namespace,isvc}            canary traffic percent
//   modelship_operator_rollout_phase{resource_namespace,isvc,phase}      1 for the current phase
//   modelship_operator_promotions_total{resource_namespace,isvc}
//   modelship_operator_rollbacks_total{resource_namespace,isvc,reason}
//   modelship_operator_retrains_total{resource_namespace,isvc,reason}
import { Counter, Gauge, Registry } from 'prom-client';
import { AnalysisMetrics } from '../../analysis/metrics.js';
import type { InferenceServicePhase } from '../../api/index.js';
import { PHASES } from './phases.js';

function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export class RolloutMetrics {
  readonly analysis: AnalysisMetrics;
  readonly canaryWeight: Gauge<string>;
  readonly phase: Gauge<string>;
  readonly promotions: Counter<string>;
  readonly rollbacks: Counter<string>;
  readonly retrains: Counter<string>;

  constructor(readonly registry: Registry = new Registry()) {
    this.analysis = new AnalysisMetrics(registry);
    const isvc = ['resource_namespace', 'isvc'];
    this.canaryWeight = once(
      registry,
      'modelship_operator_canary_weight',
      () =>
        new Gauge({
          name: 'modelship_operator_canary_weight',
          help: 'Percent of traffic sent to the canary.',
          labelNames: isvc,
          registers: [registry],
        }),
    );
    this.phase = once(
      registry,
      'modelship_operator_rollout_phase',
      () =>
        new Gauge({
          name: 'modelship_operator_rollout_phase',
          help: '1 for the current rollout phase of each InferenceService.',
          labelNames: [...isvc, 'phase'],
          registers: [registry],
        }),
    );
    this.promotions = once(
      registry,
      'modelship_operator_promotions_total',
      () =>
        new Counter({
          name: 'modelship_operator_promotions_total',
          help: 'Canaries promoted to stable.',
          labelNames: isvc,
          registers: [registry],
        }),
    );
    this.rollbacks = once(
      registry,
      'modelship_operator_rollbacks_total',
      () =>
        new Counter({
          name: 'modelship_operator_rollbacks_total',
          help: 'Canaries (or guarded promotions) rolled back, by reason.',
          labelNames: [...isvc, 'reason'],
          registers: [registry],
        }),
    );
    this.retrains = once(
      registry,
      'modelship_operator_retrains_total',
      () =>
        new Counter({
          name: 'modelship_operator_retrains_total',
          help: 'TrainingRuns created by retraining triggers, by reason.',
          labelNames: [...isvc, 'reason'],
          registers: [registry],
        }),
    );
  }

  setRollout(namespace: string, name: string, phase: InferenceServicePhase | undefined, canaryWeight: number): void {
    this.canaryWeight.set({ resource_namespace: namespace, isvc: name }, canaryWeight);
    for (const p of PHASES)
      this.phase.set({ resource_namespace: namespace, isvc: name, phase: p }, p === phase ? 1 : 0);
  }

  forget(namespace: string, name: string): void {
    this.canaryWeight.remove({ resource_namespace: namespace, isvc: name });
    for (const p of PHASES) this.phase.remove({ resource_namespace: namespace, isvc: name, phase: p });
  }
}
