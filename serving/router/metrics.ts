// The router's own Prometheus series (separate registry, so a router and a model server in one
// test process never collide). Names and labels are documented in serving/router/README.md.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RouterConfig } from './config.js';

export class RouterMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'modelship_router_requests_total',
    help: 'Requests routed, by upstream role/version and the status code returned to the client.',
    labelNames: ['model', 'role', 'version', 'code'] as const,
    registers: [this.registry],
  });

  readonly upstreamDuration = new Histogram({
    name: 'modelship_router_upstream_duration_seconds',
    help: 'Time from forwarding a request to the upstream until its response headers arrived.',
    labelNames: ['model', 'role', 'version'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly mirrored = new Counter({
    name: 'modelship_router_mirror_requests_total',
    help: 'Mirror copies sent, by target and result (ok = any response, error = failed or dropped).',
    labelNames: ['model', 'role', 'version', 'result'] as const,
    registers: [this.registry],
  });

  readonly shadowPairs = new Counter({
    name: 'modelship_router_shadow_pairs_total',
    help: "Predictions of a shadow (version) joined to stable's for the same input, by head and the class each predicted: the confusion matrix; agree says whether the two classes are the same.",
    labelNames: ['model', 'version', 'stable_version', 'head', 'stable_class', 'shadow_class', 'agree'] as const,
    registers: [this.registry],
  });

  readonly shadowFeedback = new Counter({
    name: 'modelship_router_shadow_feedback_total',
    help: 'Feedback stable accepted for a prediction joined with a shadow (version), scoring each version judged on the same items.',
    labelNames: ['model', 'version', 'stable_version', 'head', 'judged', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly shadowJoins = new Counter({
    name: 'modelship_router_shadow_joins_total',
    help: 'Requests whose stable and shadow (version) answers were to be joined, by result; feedback_unmatched counts accepted feedback for no joined prediction.',
    labelNames: ['model', 'version', 'result'] as const,
    registers: [this.registry],
  });

  readonly generation = new Gauge({
    name: 'modelship_router_config_generation',
    help: 'The routing table in use: its own `generation` field when set, else the count of tables applied.',
    registers: [this.registry],
  });

  readonly reloads = new Counter({
    name: 'modelship_router_config_reloads_total',
    help: 'Routing-table changes, by result (applied, rejected).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly weight = new Gauge({
    name: 'modelship_router_upstream_weight',
    help: 'Configured weight of each upstream in the current table.',
    labelNames: ['model', 'role', 'version'] as const,
    registers: [this.registry],
  });

  private applied = 0;

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Records that `config` is now the table in use. */
  tableApplied(config: RouterConfig): void {
    this.applied++;
    this.reloads.inc({ result: 'applied' });
    this.generation.set(config.generation ?? this.applied);
    this.weight.reset();
    for (const u of config.upstreams)
      this.weight.set({ model: config.model, role: u.role, version: u.version }, u.weight);
  }
}
