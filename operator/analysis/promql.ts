// Pure PromQL builders for the serving runtime's series (serving/lib/monitoring/metrics.ts). Series are
// selected by the `version` label (plus model, namespace or any extra matchers), never by a
// role label: a version keeps its numbers when it moves from canary to stable.

export class PromQLError extends Error {
  override name = 'PromQLError';
}

/** Which series belong to the version measured. */
export interface SeriesTarget {
  version: string;
  model?: string;
  namespace?: string;
  /** Further equality matchers, e.g. { job: 'kubernetes-pods' }. */
  matchers?: Record<string, string>;
}

/** Handlers that carry predictions; health probes and /metrics scrapes must not dilute rates. */
export const PREDICTION_HANDLERS = ['predict', 'infer'] as const;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const WINDOW = /^([0-9]+(ms|s|m|h|d|w|y))+$/;

/** A PromQL string literal (double quotes; backslash, quote and newline escaped). */
export function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** `{a="x",b=~"y"}` from the target and extra regex matchers; label names are checked. */
export function selector(target: SeriesTarget, extra: Record<string, { re: string }> = {}): string {
  const eq: Record<string, string> = { ...(target.matchers ?? {}) };
  if (target.model !== undefined) eq.model = target.model;
  if (target.namespace !== undefined) eq.namespace = target.namespace;
  eq.version = target.version;
  const parts: string[] = [];
  for (const [name, value] of Object.entries(eq)) parts.push(`${labelName(name)}=${quote(value)}`);
  for (const [name, m] of Object.entries(extra)) parts.push(`${labelName(name)}=~${quote(m.re)}`);
  return `{${parts.join(',')}}`;
}

function labelName(name: string): string {
  if (!LABEL_NAME.test(name)) throw new PromQLError(`invalid Prometheus label name ${JSON.stringify(name)}`);
  return name;
}

/** The window as a PromQL range, e.g. "1m30s"; rejects anything else. */
export function range(window: string): string {
  if (!WINDOW.test(window))
    throw new PromQLError(`invalid window ${JSON.stringify(window)}: expected a duration such as 1m or 1m30s`);
  return `[${window}]`;
}

const predictions = { handler: { re: PREDICTION_HANDLERS.join('|') } };

export interface MeasurementQueries {
  requests: string;
  serverErrors: string;
  routerFailures: string;
  latencyP95Seconds: string;
  feedback: string;
  featureBins: string;
  predictions: string;
  modelErrors: string;
  /** Samples per request series in the window (how far increase() extrapolated). */
  scrapes: string;
  /** The same over the evidence window. */
  evidenceScrapes: string;
}

/**
 * Every query measure() runs for one version: requests, errors and latency over `window` (the
 * recent past is what matters for them), feedback, feature and prediction counts over
 * `evidenceWindow` (everything since the canary began: a version's accuracy and its traffic's
 * distribution do not depend on its weight, so the evidence accumulates).
 */
export function measurementQueries(
  target: SeriesTarget,
  window: string,
  evidenceWindow: string = window,
): MeasurementQueries {
  const w = range(window);
  const e = range(evidenceWindow);
  return {
    requests: `sum(increase(modelship_requests_total${selector(target, predictions)}${w}))`,
    serverErrors: `sum(increase(modelship_requests_total${selector(target, { ...predictions, code: { re: '5..' } })}${w}))`,
    // The router's own failures (502 upstream unavailable, 504 upstream timeout): requests the
    // version's pods never saw because they crashed or hung.
    routerFailures: `sum(increase(modelship_router_requests_total${selector(target, { code: { re: '502|504' } })}${w}))`,
    latencyP95Seconds: `histogram_quantile(0.95, sum by (le) (rate(modelship_request_duration_seconds_bucket${selector(target, predictions)}${w})))`,
    feedback: `sum by (head, outcome) (increase(modelship_feedback_total${selector(target)}${e}))`,
    featureBins: `sum by (feature, bin) (increase(modelship_feature_bin_total${selector(target)}${e}))`,
    predictions: `sum by (head, class) (increase(modelship_predictions_total${selector(target)}${e}))`,
    modelErrors: `sum by (reason) (increase(modelship_model_errors_total${selector(target)}${w}))`,
    scrapes: `max(count_over_time(modelship_requests_total${selector(target, predictions)}${w}))`,
    evidenceScrapes: `max(count_over_time(modelship_requests_total${selector(target, predictions)}${e}))`,
  };
}
