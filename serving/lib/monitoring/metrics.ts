// The Prometheus series the operator, dashboards and alerts read. Names and labels are a
// contract (see serving/README.md); every series carries `model` and `version`.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ItemPrediction } from '../model/heads.js';
import { binIndex } from './profile.js';
import { CALIBRATED_EDGES, calibratedConfidence } from './calibration.js';
import type { Profile, Signature } from '../model/schema.js';

export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
export const CONFIDENCE_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
/**
 * The handlers the canary analysis counts (operator/analysis/measure.ts builds its queries on
 * them). The label is `handler`, not `endpoint`: prometheus-operator's target label `endpoint`
 * (the scraped port's name) would rename ours to `exported_endpoint`.
 */
export const ANALYSED_HANDLERS = ['predict', 'infer'] as const;

export interface MetricsIdentity {
  model: string;
  version: string;
  digest: string;
}

export class ServingMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'handler' | 'code'>;
  private readonly duration: Histogram<'handler'>;
  private readonly predictions: Counter<'head' | 'class'>;
  private readonly confidence: Histogram<'head'>;
  private readonly calibrated = new Histogram({
    name: 'modelship_prediction_calibrated_confidence',
    help: 'Calibrated confidence of the predicted class per head (the temperature validation fitted, in profile.json); its mean estimates accuracy without labels. Absent for a head without calibration.',
    labelNames: ['head'],
    buckets: [...CALIBRATED_EDGES, 1],
    registers: [this.registry],
  });
  /** Per head: its labels in probability order and its temperature, when profile.json has one. */
  private temperatures = new Map<string, { labels: string[]; temperature: number }>();
  private readonly feedback: Counter<'version' | 'head' | 'outcome'>;
  private readonly featureBins: Counter<'feature' | 'bin'>;
  private readonly modelErrors: Counter<'reason'>;
  private readonly refused = new Counter({
    name: 'modelship_requests_refused_total',
    help: 'Requests refused by admission control (503 before reading the body): capacity, not a model failure, so not in modelship_requests_total.',
    labelNames: ['handler'],
    registers: [this.registry],
  });
  private readonly info: Gauge<'digest'>;
  private readonly version: string;
  /** feature name → its profile bin edges; features without a profile are not counted */
  private binEdges: Array<{ name: string; edges: number[] } | undefined> = [];

  constructor(identity: MetricsIdentity, opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.version = identity.version;
    this.registry.setDefaultLabels({ model: identity.model, version: identity.version });
    this.requests = new Counter({
      name: 'modelship_requests_total',
      help: 'HTTP requests by handler (the route: predict, infer, feedback…) and status code.',
      labelNames: ['handler', 'code'],
      registers,
    });
    this.duration = new Histogram({
      name: 'modelship_request_duration_seconds',
      help: 'HTTP request duration by handler.',
      labelNames: ['handler'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.predictions = new Counter({
      name: 'modelship_predictions_total',
      help: 'Predicted class per head, one per predicted item.',
      labelNames: ['head', 'class'],
      registers,
    });
    this.confidence = new Histogram({
      name: 'modelship_prediction_confidence',
      help: 'Score of the predicted class per head.',
      labelNames: ['head'],
      buckets: CONFIDENCE_BUCKETS,
      registers,
    });
    this.feedback = new Counter({
      name: 'modelship_feedback_total',
      help: 'Ground-truth feedback per head: was the prediction correct. `version` is the version that made the prediction.',
      labelNames: ['version', 'head', 'outcome'],
      registers,
    });
    this.featureBins = new Counter({
      name: 'modelship_feature_bin_total',
      help: 'Input feature values counted into the bins of the reference profile (profile.json).',
      labelNames: ['feature', 'bin'],
      registers,
    });
    this.modelErrors = new Counter({
      name: 'modelship_model_errors_total',
      help: 'Failed predictions by reason (lower-case error code).',
      labelNames: ['reason'],
      registers,
    });
    this.info = new Gauge({
      name: 'modelship_model_info',
      help: 'Always 1; the digest of the served model.onnx.',
      labelNames: ['digest'],
      registers,
    });
    this.info.set({ digest: identity.digest }, 1);
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Pre-creates every head/class and feature/bin series at 0 so rate() and ratios work from the first scrape. */
  describeModel(sig: Signature, featureNames: readonly string[], profile: Profile | undefined): void {
    for (const head of sig.heads) {
      for (const label of head.labels) this.predictions.inc({ head: head.name, class: label }, 0);
      this.confidence.zero({ head: head.name });
      const temperature = profile?.heads[head.name]?.calibration?.temperature;
      if (temperature !== undefined) {
        this.temperatures.set(head.name, { labels: head.labels, temperature });
        this.calibrated.zero({ head: head.name });
      }
      // increase() over a window misses the first increment of a series born between two
      // scrapes; the canary analysis counts feedback and errors, so those start at 0 too.
      for (const outcome of ['correct', 'incorrect'] as const)
        this.feedback.inc({ version: this.version, head: head.name, outcome }, 0);
    }
    for (const handler of ANALYSED_HANDLERS) {
      for (const code of ['200', '500', '503']) this.requests.inc({ handler, code }, 0);
    }
    this.binEdges = featureNames.map((name) => {
      const edges = profile?.features[name]?.edges;
      if (!edges) return undefined;
      for (let bin = 0; bin <= edges.length; bin++) this.featureBins.inc({ feature: name, bin: String(bin) }, 0);
      return { name, edges };
    });
  }

  observeRequest(handler: string, code: number, seconds: number): void {
    this.requests.inc({ handler, code: String(code) });
    this.duration.observe({ handler }, seconds);
  }

  countPredictions(items: ItemPrediction[]): void {
    for (const item of items) {
      for (const [head, p] of Object.entries(item)) {
        this.predictions.inc({ head, class: p.label });
        this.confidence.observe({ head }, p.score);
        const t = this.temperatures.get(head);
        if (t)
          this.calibrated.observe(
            { head },
            calibratedConfidence(
              t.labels.map((l) => p.scores[l] ?? 0),
              t.temperature,
            ),
          );
      }
    }
  }

  countFeatures(rows: number[][]): void {
    for (const row of rows) {
      this.binEdges.forEach((f, i) => {
        if (f) this.featureBins.inc({ feature: f.name, bin: String(binIndex(f.edges, row[i])) });
      });
    }
  }

  countFeedback(version: string, head: string, outcome: 'correct' | 'incorrect'): void {
    this.feedback.inc({ version, head, outcome });
  }

  countRefused(handler: string): void {
    this.refused.inc({ handler });
  }

  countModelError(reason: string): void {
    this.modelErrors.inc({ reason });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
