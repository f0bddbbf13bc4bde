// Shared helpers of the packaging tests (chart, alerts, dashboards, Argo CD): repository paths,
// PromQL metric-name extraction, and the metric names the code registers with prom-client.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';

export const REPO = resolve(new URL('../..', import.meta.url).pathname);
export const CHART_DIR = join(REPO, 'charts', 'modelship');
export const ALERTS_FILE = join(REPO, 'hack', 'prometheus', 'modelship-alerts.yaml');
export const ALERTS_TESTS_FILE = join(REPO, 'hack', 'prometheus', 'modelship-alerts.test.yaml');
export const CHART_ALERTS_FILE = join(CHART_DIR, 'files', 'modelship-alerts.yaml');
export const DASHBOARDS_DIR = join(CHART_DIR, 'dashboards');
export const RUNBOOKS_FILE = join(REPO, 'docs', 'runbooks.md');

/**
 * Operator metrics that the Training dashboard and the retraining alert use and that the
 * TrainingRun controller is to export (runs, durations, metrics per version), but that no
 * code registers yet. The tests print which are still missing and fail once one is
 * registered, so the list only shrinks. Empty since the TrainingRun controller registers
 * its run and ModelVersion metrics (operator/controllers/trainingrun/metrics.ts).
 */
export const AWAITED_METRICS: Record<string, string> = {};

/** Series Prometheus itself creates (not exported by any code). */
const PROMETHEUS_SYNTHETIC = new Set([
  'up',
  'ALERTS',
  'ALERTS_FOR_STATE',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
]);

const PROMQL_KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
  'atan2',
]);

/**
 * Metric names a PromQL expression selects. Drops string literals, label matchers, range and
 * subquery brackets, grouping clauses and function calls; what remains as identifiers are
 * metric names. Grafana variables ($namespace, $__rate_interval) are removed first.
 */
export function promqlMetricNames(expr: string): string[] {
  let s = expr.replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, '1m');
  s = s.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/\{[^}]*\}/g, ' ');
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const after = s.slice((m.index ?? 0) + word.length);
    if (/^\s*\(/.test(after)) continue; // a function call
    if (PROMQL_KEYWORDS.has(word.toLowerCase())) continue;
    if (/^\d/.test(word)) continue;
    const before = s.slice(0, m.index ?? 0);
    if (/\d$/.test(before)) continue; // a duration or number suffix such as 5m, 1e3
    names.add(word);
  }
  return [...names].sort();
}

/** Metric names from `label_values(metric, label)` / `label_values(metric{…}, label)` variable queries. */
export function labelValuesMetric(query: string): string | undefined {
  return /label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)/.exec(query)?.[1];
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

export interface RegisteredMetric {
  name: string;
  histogram: boolean;
  file: string;
}

/**
 * Names registered with prom-client in serving/ and operator/ (non-test sources): every
 * string literal that looks like a Modelship metric name, with whether the same file makes a
 * Histogram (so `_bucket`, `_sum`, `_count` of it are queryable).
 */
export function registeredMetrics(): Map<string, RegisteredMetric> {
  const found = new Map<string, RegisteredMetric>();
  for (const file of [...walk(join(REPO, 'serving')), ...walk(join(REPO, 'operator'))]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/['"`](modelship_[a-z0-9_]+)['"`]/g)) {
      const name = m[1];
      const at = m.index ?? 0;
      const context = text.slice(Math.max(0, at - 200), at);
      const histogram = /Histogram\s*\(\s*\{[^}]*$/.test(context) || /histogram/i.test(context.slice(-60));
      const prev = found.get(name);
      found.set(name, { name, histogram: histogram || (prev?.histogram ?? false), file: prev?.file ?? file });
    }
  }
  return found;
}

/** How a queried name resolves: registered, a histogram series of a registered one, awaited, Prometheus' own, or unknown. */
export function classifyName(
  name: string,
  registered: Map<string, RegisteredMetric>,
): 'registered' | 'awaited' | 'prometheus' | 'unknown' {
  if (PROMETHEUS_SYNTHETIC.has(name)) return 'prometheus';
  if (registered.has(name)) return 'registered';
  const base = name.replace(/_(bucket|sum|count)$/, '');
  if (base !== name && registered.get(base)?.histogram) return 'registered';
  if (name in AWAITED_METRICS || base in AWAITED_METRICS) return 'awaited';
  // prom-client's default process metrics (process_*, nodejs_*) are registered by collectDefaultMetrics.
  if (/^(process|nodejs)_/.test(name)) return 'registered';
  return 'unknown';
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function loadAlertRules(file = ALERTS_FILE): AlertRule[] {
  const doc = yaml.load(readFileSync(file, 'utf8')) as { groups: Array<{ name: string; rules: AlertRule[] }> };
  return doc.groups.flatMap((g) => g.rules);
}

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  expr: string;
}

/** Every PromQL expression of a dashboard: panel targets (rows included), annotations, variables. */
export function dashboardQueries(file: string): DashboardQuery[] {
  const dash = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
  const out: DashboardQuery[] = [];
  const panels = (list: any[]): void => {
    for (const p of list ?? []) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ dashboard: dash.title, panel: p.title, expr: t.expr });
      panels(p.panels ?? []);
    }
  };
  panels(dash.panels);
  for (const a of dash.annotations?.list ?? [])
    if (a.expr) out.push({ dashboard: dash.title, panel: `annotation ${a.name}`, expr: a.expr });
  for (const v of dash.templating?.list ?? []) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    if (v.type === 'query' && q) {
      const metric = labelValuesMetric(q);
      if (metric) out.push({ dashboard: dash.title, panel: `variable ${v.name}`, expr: metric });
    }
  }
  return out;
}

export function dashboardFiles(): string[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(DASHBOARDS_DIR, f))
    .sort();
}

/** GitHub's anchor for a Markdown heading: lower-case, punctuation dropped, spaces to dashes. */
export function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}
