// The operator's own Prometheus metrics, on a registry per manager (two managers in one test
// process must not share counters).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface OperatorMetrics {
  registry: Registry;
  reconcileTotal: Counter<'controller' | 'result'>;
  reconcileErrors: Counter<'controller'>;
  reconcileDuration: Histogram<'controller'>;
  queueDepth: Gauge<'controller'>;
  informerRestarts: Counter<'kind'>;
  leader: Gauge;
}

export function createOperatorMetrics(opts: { registry?: Registry; processMetrics?: boolean } = {}): OperatorMetrics {
  const registry = opts.registry ?? new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry });
  return {
    registry,
    reconcileTotal: new Counter({
      name: 'modelship_operator_reconcile_total',
      help: 'Reconciles by controller and result (success, requeue, error; stale: skipped while the cache lagged behind an own write).',
      labelNames: ['controller', 'result'],
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      name: 'modelship_operator_reconcile_errors_total',
      help: 'Reconciles that failed, by controller.',
      labelNames: ['controller'],
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'modelship_operator_reconcile_duration_seconds',
      help: 'Time spent in one reconcile, by controller.',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'modelship_operator_queue_depth',
      help: 'Keys waiting in the work queue, by controller.',
      labelNames: ['controller'],
      registers: [registry],
    }),
    informerRestarts: new Counter({
      name: 'modelship_operator_informer_restarts_total',
      help: 'Informer list/watch restarts (errors, stream ends, 410 re-lists), by kind.',
      labelNames: ['kind'],
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'modelship_operator_leader',
      help: '1 while this process holds the leader lease (or runs without election).',
      registers: [registry],
    }),
  };
}
