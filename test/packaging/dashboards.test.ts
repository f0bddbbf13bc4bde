// Grafana dashboards: current schema, a Prometheus datasource variable that every panel uses,
// a sound grid layout, the panels the issue asks for, every query valid PromQL (checked by
// promtool after substituting Grafana's variables) and selecting only metric names that the
// code registers; and the chart ships each dashboard as a ConfigMap for the Grafana sidecar.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import yaml from 'js-yaml';
import {
  AWAITED_METRICS,
  CHART_DIR,
  REPO,
  classifyName,
  dashboardFiles,
  dashboardQueries,
  promqlMetricNames,
  registeredMetrics,
} from '../support/packaging.js';

type Json = Record<string, any>;
const load = (f: string): Json => JSON.parse(readFileSync(f, 'utf8')) as Json;
const DASHBOARDS = dashboardFiles();
const byTitle = (fragment: string): Json => {
  const d = DASHBOARDS.map(load).find((x) => String(x.title).includes(fragment));
  assert.ok(d, `no dashboard titled *${fragment}*`);
  return d!;
};
const allPanels = (d: Json): Json[] =>
  (d.panels as Json[]).flatMap((p) => [p, ...((p.panels as Json[] | undefined) ?? [])]);
const exprs = (d: Json): string[] =>
  dashboardQueries(DASHBOARDS.find((f) => load(f).uid === d.uid)!).map((q) => q.expr);

test('three dashboards: Training, Serving, Drift & canary', () => {
  assert.equal(
    DASHBOARDS.map((f) => basename(f)),
    ['drift-canary.json', 'serving.json', 'training.json'],
  );
  const uids = DASHBOARDS.map((f) => load(f).uid as string);
  assert.is(new Set(uids).size, 3);
});

for (const file of DASHBOARDS) {
  test(`${basename(file)}: current schema, datasource variable used by every panel and query`, () => {
    const d = load(file);
    assert.ok(d.schemaVersion >= 36, `schemaVersion ${d.schemaVersion}`);
    assert.ok(typeof d.uid === 'string' && d.uid.length <= 40);
    const ds = (d.templating.list as Json[]).find((v) => v.type === 'datasource');
    assert.ok(ds, 'no datasource variable');
    assert.is(ds!.query, 'prometheus');
    for (const p of allPanels(d)) {
      if (p.type === 'row') continue;
      assert.is(p.datasource?.uid, `\${${ds!.name}}`, `panel "${p.title}" does not use the datasource variable`);
      assert.ok((p.targets as Json[]).length > 0, `panel "${p.title}" has no query`);
      for (const t of p.targets as Json[])
        assert.is(t.datasource?.uid, `\${${ds!.name}}`, `query ${t.refId} of "${p.title}"`);
      assert.ok(String(p.description ?? '').length > 10, `panel "${p.title}" has no description`);
    }
    for (const v of d.templating.list as Json[])
      if (v.type === 'query') assert.is(v.datasource?.uid, `\${${ds!.name}}`, `variable ${v.name}`);
    for (const a of d.annotations.list as Json[])
      if (!a.builtIn) assert.is(a.datasource?.uid, `\${${ds!.name}}`, `annotation ${a.name}`);
  });

  test(`${basename(file)}: grid layout fits 24 columns, panel ids unique, no overlaps`, () => {
    const d = load(file);
    const ids = allPanels(d).map((p) => p.id as number);
    assert.is(new Set(ids).size, ids.length, 'duplicate panel ids');
    const cells = new Set<string>();
    for (const p of allPanels(d)) {
      const g = p.gridPos as { x: number; y: number; w: number; h: number };
      assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24, `panel "${p.title}" gridPos ${JSON.stringify(g)}`);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          const key = `${x},${y}`;
          assert.not.ok(cells.has(key), `panel "${p.title}" overlaps another at ${key}`);
          cells.add(key);
        }
      }
    }
  });
}

test('Serving shows RPS, p50/p95/p99 latency, error rate, predictions per class and confidence', () => {
  const q = exprs(byTitle('Serving')).join('\n');
  assert.match(q, /rate\(modelship_requests_total\{[^}]*handler=~"predict\|infer"/);
  for (const quantile of ['0.5', '0.95', '0.99'])
    assert.ok(
      q.includes(`histogram_quantile(${quantile}, sum by (le) (rate(modelship_request_duration_seconds_bucket`),
      `p${quantile}`,
    );
  assert.match(q, /code!~"5\.\."/);
  assert.match(q, /sum by \(head, class\) \(rate\(modelship_predictions_total/);
  assert.match(q, /modelship_prediction_confidence_bucket/);
});

test('Drift & canary shows drift per feature and version, accuracy per version, weight and phase, promotions and rollbacks as annotations', () => {
  const d = byTitle('Drift');
  const q = exprs(d).join('\n');
  assert.match(q, /by \(isvc, role, feature\) \(modelship_operator_drift_score/);
  assert.match(q, /by \(model, version, head\) \(increase\(modelship_feedback_total\{[^}]*outcome="correct"/);
  assert.match(q, /modelship_operator_canary_weight/);
  assert.match(q, /modelship_router_upstream_weight/);
  assert.match(q, /modelship_operator_rollout_phase/);
  assert.match(q, /modelship_router_shadow_pairs_total\{[^}]*agree="true"/);
  assert.match(q, /by \(model, version, head, judged\) \(increase\(modelship_router_shadow_feedback_total/);
  assert.match(q, /modelship_prediction_calibrated_confidence_sum/);
  const annotations = (d.annotations.list as Json[]).filter((a) => !a.builtIn).map((a) => a.expr as string);
  assert.ok(
    annotations.some((e) => e.includes('modelship_operator_promotions_total')),
    'promotion annotations',
  );
  assert.ok(
    annotations.some((e) => e.includes('modelship_operator_rollbacks_total')),
    'rollback annotations',
  );
});

test('Training shows runs, durations and metrics per version, and the training controllers', () => {
  const q = exprs(byTitle('Training')).join('\n');
  assert.match(q, /modelship_operator_trainingruns_completed_total/);
  assert.match(q, /modelship_operator_trainingrun_duration_seconds_bucket/);
  assert.match(q, /by \(model, version, metric\) \(modelship_operator_modelversion_metric/);
  assert.match(q, /modelship_operator_reconcile_total\{controller=~"trainingrun\|modelversion"\}/);
});

/** Grafana's variables replaced by values Prometheus accepts, so promtool can parse the query. */
function substituteGrafanaVariables(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?[A-Za-z_]\w*\}?/g, '.*');
}

test('every dashboard query is valid PromQL (promtool check rules)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'modelship-dash-'));
  try {
    const rules = DASHBOARDS.flatMap((f) => dashboardQueries(f))
      .filter((q) => !q.panel.startsWith('variable '))
      .map((q, i) => ({ record: `dashboard:query_${i}:check`, expr: substituteGrafanaVariables(q.expr) }));
    assert.ok(rules.length > 30, `only ${rules.length} queries`);
    const file = join(tmp, 'queries.yaml');
    writeFileSync(file, yaml.dump({ groups: [{ name: 'dashboard-queries', rules }] }));
    const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    assert.is(r.status, 0, `${r.stdout}${r.stderr}`);
    // And the check is real: a broken query fails it.
    writeFileSync(
      file,
      yaml.dump({ groups: [{ name: 'broken', rules: [{ record: 'x:y:z', expr: 'sum by (le (rate(x[5m]))' }] }] }),
    );
    assert.is.not(spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' }).status, 0);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('dashboards query only metric names the code registers (or names awaited from the TrainingRun controller)', () => {
  const registered = registeredMetrics();
  const used = new Set<string>();
  const awaited = new Set<string>();
  for (const f of DASHBOARDS) {
    for (const q of dashboardQueries(f)) {
      const names = promqlMetricNames(q.expr);
      assert.ok(names.length > 0, `${q.dashboard} / ${q.panel}: no metric in ${q.expr}`);
      for (const name of names) {
        const kind = classifyName(name, registered);
        assert.is.not(kind, 'unknown', `${q.dashboard} / ${q.panel} queries ${name}, which nothing exports`);
        used.add(name.replace(/_(bucket|sum|count)$/, ''));
        if (kind === 'awaited') awaited.add(name);
      }
    }
  }
  // The serving contract is fully charted: every series the model server exports has a panel.
  for (const name of registered.keys()) {
    if (
      /^modelship_(requests|request_duration|predictions|prediction_confidence|feedback|model_errors|model_info)/.test(
        name,
      )
    ) {
      assert.ok(used.has(name), `no panel shows ${name}`);
    }
  }
  for (const name of Object.keys(AWAITED_METRICS))
    assert.not.ok(registered.has(name), `${name} is registered now: remove it from AWAITED_METRICS`);
  if (awaited.size) console.log(`  dashboards waiting for operator metrics: ${[...awaited].join(', ')}`);
});

test('the chart renders one ConfigMap per dashboard with the sidecar label and the JSON unchanged', () => {
  const out = execFileSync(
    join(REPO, 'hack', 'bin', 'helm'),
    [
      'template',
      'r',
      CHART_DIR,
      '--namespace',
      'monitoring',
      '--set',
      'dashboards.enabled=true',
      '--set',
      'dashboards.label=grafana_dashboard',
      '--set',
      'dashboards.labelValue=yes',
      '--show-only',
      'templates/dashboards.yaml',
    ],
    { encoding: 'utf8' },
  );
  const maps = yaml.loadAll(out).filter(Boolean) as Json[];
  assert.is(maps.length, DASHBOARDS.length);
  for (const file of DASHBOARDS) {
    const cm = maps.find((m) => basename(file) in m.data);
    assert.ok(cm, `no ConfigMap for ${basename(file)}`);
    assert.is(cm!.kind, 'ConfigMap');
    assert.is(cm!.metadata.namespace, 'monitoring');
    assert.is(cm!.metadata.labels.grafana_dashboard, 'yes');
    assert.is(cm!.metadata.annotations.grafana_folder, 'Modelship');
    assert.equal(JSON.parse(cm!.data[basename(file)] as string), load(file));
  }
});

test.run();
