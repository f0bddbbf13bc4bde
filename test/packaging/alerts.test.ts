// Alert rules: the plain rules file and the chart's copy are identical; `promtool check rules`
// accepts them; `promtool test rules` proves each alert fires on an unhealthy synthetic series
// and stays silent on a healthy one; weakening a threshold makes those unit tests fail (so they
// really pin the thresholds); every alert has a summary, a description and a runbook section;
// the chart's PrometheusRule carries the same rules; every queried metric is exported by code.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import {
  ALERTS_FILE,
  ALERTS_TESTS_FILE,
  AWAITED_METRICS,
  CHART_ALERTS_FILE,
  CHART_DIR,
  REPO,
  RUNBOOKS_FILE,
  classifyName,
  githubAnchor,
  loadAlertRules,
  promqlMetricNames,
  registeredMetrics,
} from '../support/packaging.js';

const HELM = join(REPO, 'hack', 'bin', 'helm');
const tmp = mkdtempSync(join(tmpdir(), 'modelship-alerts-'));

function promtool(args: string[], cwd = tmp): { code: number; out: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** Runs the unit tests against `rulesText` (written where the test file expects the rules). */
function unitTests(rulesText: string): { code: number; out: string } {
  writeFileSync(join(tmp, 'modelship-alerts.yaml'), rulesText);
  copyFileSync(ALERTS_TESTS_FILE, join(tmp, 'modelship-alerts.test.yaml'));
  return promtool(['test', 'rules', 'modelship-alerts.test.yaml']);
}

const RULES_TEXT = readFileSync(ALERTS_FILE, 'utf8');

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('the chart carries an identical copy of the plain rules file', () => {
  assert.is(
    readFileSync(CHART_ALERTS_FILE, 'utf8'),
    RULES_TEXT,
    'charts/modelship/files/modelship-alerts.yaml differs from hack/prometheus/modelship-alerts.yaml; copy one over the other',
  );
});

test('promtool check rules accepts the rules', () => {
  const r = promtool(['check', 'rules', ALERTS_FILE]);
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /SUCCESS: 12 rules found/);
});

test('promtool unit tests pass: each alert fires on unhealthy series and stays silent on healthy ones', () => {
  const r = unitTests(RULES_TEXT);
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /SUCCESS/);
});

test('every alert of the rules file is exercised by a firing unit test', () => {
  const tests = yaml.load(readFileSync(ALERTS_TESTS_FILE, 'utf8')) as {
    tests: Array<{
      alert_rule_test?: Array<{ alertname: string; exp_alerts?: Array<{ exp_labels: Record<string, string> }> }>;
    }>;
  };
  const firing = new Set<string>();
  for (const t of tests.tests) {
    for (const a of t.alert_rule_test ?? [])
      for (const e of a.exp_alerts ?? []) firing.add(`${a.alertname}/${e.exp_labels.severity}`);
  }
  const rules = loadAlertRules().map((r) => `${r.alert}/${r.labels.severity}`);
  for (const rule of rules) assert.ok(firing.has(rule), `no unit test expects ${rule} to fire`);
});

// Each mutation weakens or breaks one alert; the unit tests must notice.
const MUTATIONS: Array<[string, string, string]> = [
  ['latency warning threshold', '[5m]))) > 0.5', '[5m]))) > 5'],
  ['latency critical threshold', '[5m]))) > 1\n', '[5m]))) > 10\n'],
  ['error-rate warning threshold', '[5m]))) > 0.01', '[5m]))) > 0.5'],
  ['error-rate excludes client errors', 'code=~"5.."', 'code=~"[45].."'],
  ['accuracy warning threshold', '< 0.85', '< 0.5'],
  ['accuracy minimum sample count', '>= 50', '>= 1'],
  ['drift critical threshold', '> 0.25', '> 0.9'],
  ['rollback window', 'modelship_operator_rollbacks_total[15m]', 'modelship_operator_rollbacks_total[60m]'],
  ['operator down when not scraped', 'absent(modelship_operator_leader) or ', ''],
  ['reconcile error ratio', ') > 0.1\n', ') > 0.9\n'],
  ['retraining failure phase', 'phase="Failed"', 'phase="Succeeded"'],
];

for (const [name, from, to] of MUTATIONS) {
  test(`unit tests catch a broken rule: ${name}`, () => {
    assert.ok(RULES_TEXT.includes(from), `mutation anchor ${JSON.stringify(from)} not found in the rules`);
    const r = unitTests(RULES_TEXT.replace(from, to));
    assert.is.not(r.code, 0, `promtool test rules still passed with ${name} changed`);
  });
}

test('every alert has a summary, a description and a runbook_url pointing at an existing runbook section', () => {
  const anchors = new Set(
    readFileSync(RUNBOOKS_FILE, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('## '))
      .map((l) => githubAnchor(l.slice(3))),
  );
  for (const r of loadAlertRules()) {
    assert.ok(r.annotations.summary?.length > 10, `${r.alert}: summary`);
    assert.ok(r.annotations.description?.length > 40, `${r.alert}: description`);
    assert.ok(['warning', 'critical'].includes(r.labels.severity), `${r.alert}: severity`);
    const url = new URL(r.annotations.runbook_url);
    assert.ok(url.pathname.endsWith('/docs/runbooks.md'), `${r.alert}: ${url}`);
    assert.ok(anchors.has(url.hash.slice(1)), `${r.alert}: docs/runbooks.md has no section #${url.hash.slice(1)}`);
  }
});

test('thresholds are the ones the issue sets: 500 ms / 1 s, 1% / 5%, 0.15 / 0.25, 85% / 80%', () => {
  const threshold = (alert: string, severity: string) => {
    const r = loadAlertRules().find((x) => x.alert === alert && x.labels.severity === severity);
    assert.ok(r, `${alert}/${severity} missing`);
    return Number(/[<>]=?\s*([0-9.]+)\s*(?:\n|$|and)/.exec(r!.expr)?.[1]);
  };
  assert.equal(
    [threshold('ModelshipLatencyP95High', 'warning'), threshold('ModelshipLatencyP95High', 'critical')],
    [0.5, 1],
  );
  assert.equal(
    [threshold('ModelshipErrorRateHigh', 'warning'), threshold('ModelshipErrorRateHigh', 'critical')],
    [0.01, 0.05],
  );
  assert.equal([threshold('ModelshipDriftHigh', 'warning'), threshold('ModelshipDriftHigh', 'critical')], [0.15, 0.25]);
  assert.equal(
    [threshold('ModelshipAccuracyLow', 'warning'), threshold('ModelshipAccuracyLow', 'critical')],
    [0.85, 0.8],
  );
  for (const a of [
    'ModelshipCanaryRolledBack',
    'ModelshipOperatorDown',
    'ModelshipReconcileErrors',
    'ModelshipRetrainingFailed',
  ]) {
    assert.ok(
      loadAlertRules().some((r) => r.alert === a),
      `${a} missing`,
    );
  }
});

test('the chart PrometheusRule renders the same rules, with runbook links at runbookBaseUrl, and passes the same unit tests', () => {
  const base = 'https://docs.example.com/modelship/runbooks.md';
  const out = execFileSync(
    HELM,
    [
      'template',
      'r',
      CHART_DIR,
      '--set',
      'prometheusRule.enabled=true',
      '--set',
      `prometheusRule.runbookBaseUrl=${base}`,
      '--show-only',
      'templates/prometheusrule.yaml',
    ],
    { encoding: 'utf8' },
  );
  const rule = yaml.load(out) as { kind: string; spec: { groups: unknown[] } };
  assert.is(rule.kind, 'PrometheusRule');
  const plain = yaml.load(RULES_TEXT) as { groups: unknown[] };
  const relinked = JSON.parse(
    JSON.stringify(plain).replaceAll('https://github.com/modelship/modelship/blob/main/docs/runbooks.md', base),
  );
  assert.equal(rule.spec.groups, relinked.groups);
  const r = unitTests(yaml.dump({ groups: plain.groups }));
  assert.is(r.code, 0, r.out);
});

test('alert expressions query only metric names the code registers (or names awaited from the controllers)', () => {
  const registered = registeredMetrics();
  const awaited = new Set<string>();
  for (const r of loadAlertRules()) {
    for (const name of promqlMetricNames(r.expr)) {
      const kind = classifyName(name, registered);
      assert.is.not(kind, 'unknown', `${r.alert} queries ${name}, which nothing exports`);
      if (kind === 'awaited') awaited.add(name);
    }
  }
  for (const name of Object.keys(AWAITED_METRICS))
    assert.not.ok(registered.has(name), `${name} is registered now: remove it from AWAITED_METRICS`);
  if (awaited.size) console.log(`  alerts waiting for operator metrics: ${[...awaited].join(', ')}`);
});

test.run();
