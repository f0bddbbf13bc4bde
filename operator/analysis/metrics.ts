// Operator metrics for analysis and monitoring, on the operator's registry:
//   modelship_operator_analysis_value{resource_namespace,isvc,check,role,head}      latest measured value
//   modelship_operator_analysis_threshold{resource_namespace,isvc,check,role,head}  its threshold
//   modelship_operator_analysis_verdict{resource_namespace,isvc,check,role,head,verdict}  1 for the current verdict
//   modelship_operator_drift_score{resource_namespace,isvc,role,feature}            PSI per feature
//   modelship_operator_drift_js_distance{resource_namespace,isvc,role,feature}      Jensen–Shannon distance per feature
//   modelship_operator_monitoring_level{resource_namespace,isvc,signal}             0 Ok, 1 Warn, 2 Critical, -1 Unknown
// `resource_namespace` is the InferenceService's namespace: a plain `namespace` label would be
// replaced by the scraped pod's (the operator's) and kept only as `exported_namespace`.
// Each record call replaces that service's (and role's) previous series, so checks or features
// that disappear do not linger as stale values; forget() removes a deleted service.
import { Gauge, type Registry } from 'prom-client';
import type { AnalysisCheck, MonitoringLevel, VersionRole } from '../api/index.js';
import type { DriftReport } from './checks/drift.js';

export interface ServiceRef {
  namespace: string;
  /** InferenceService name. */
  name: string;
}

type Labels = Record<string, string>;

export const LEVEL_VALUE: Record<MonitoringLevel, number> = { Ok: 0, Warn: 1, Critical: 2, Unknown: -1 };

function gauge(registry: Registry, name: string, help: string, labelNames: string[]): Gauge<string> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge<string>;
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

export class AnalysisMetrics {
  readonly value: Gauge<string>;
  readonly threshold: Gauge<string>;
  readonly verdict: Gauge<string>;
  readonly samples: Gauge<string>;
  readonly samplesNeeded: Gauge<string>;
  readonly eta: Gauge<string>;
  readonly driftScore: Gauge<string>;
  readonly driftJs: Gauge<string>;
  readonly level: Gauge<string>;
  /** Series set per owner key, so the next record can remove what it no longer sets. */
  private readonly owned = new Map<string, Array<[Gauge<string>, Labels]>>();

  constructor(registry: Registry) {
    const check = ['resource_namespace', 'isvc', 'check', 'role', 'head'];
    this.value = gauge(
      registry,
      'modelship_operator_analysis_value',
      'Latest analysis value per check, role and head.',
      check,
    );
    this.threshold = gauge(
      registry,
      'modelship_operator_analysis_threshold',
      'Threshold of each analysis check.',
      check,
    );
    this.verdict = gauge(
      registry,
      'modelship_operator_analysis_verdict',
      '1 for the current verdict of each analysis check.',
      [...check, 'verdict'],
    );
    this.samples = gauge(
      registry,
      'modelship_operator_analysis_samples',
      'Samples behind each analysis check (accuracy and drift: since the canary began).',
      check,
    );
    this.samplesNeeded = gauge(
      registry,
      'modelship_operator_analysis_samples_needed',
      'More samples an inconclusive check needs at its current estimate (absent when none will decide it).',
      check,
    );
    this.eta = gauge(
      registry,
      'modelship_operator_analysis_eta_timestamp_seconds',
      'When an inconclusive check will have its samples at the rate seen so far (Unix seconds).',
      check,
    );
    this.driftScore = gauge(
      registry,
      'modelship_operator_drift_score',
      'Population stability index of each input feature against the reference profile.',
      ['resource_namespace', 'isvc', 'role', 'feature'],
    );
    this.driftJs = gauge(
      registry,
      'modelship_operator_drift_js_distance',
      'Jensen–Shannon distance of each input feature against the reference profile.',
      ['resource_namespace', 'isvc', 'role', 'feature'],
    );
    this.level = gauge(
      registry,
      'modelship_operator_monitoring_level',
      'Production monitoring level of the stable version: 0 Ok, 1 Warn, 2 Critical, -1 Unknown.',
      ['resource_namespace', 'isvc', 'signal'],
    );
  }

  private replace(owner: string, series: Array<[Gauge<string>, Labels, number]>): void {
    for (const [g, labels] of this.owned.get(owner) ?? []) g.remove(labels);
    for (const [g, labels, v] of series) g.set(labels, v);
    this.owned.set(
      owner,
      series.map(([g, labels]) => [g, labels]),
    );
  }

  /** Sets the analysis series of `svc` from its latest checks (replacing the previous ones). */
  recordAnalysis(svc: ServiceRef, checks: readonly AnalysisCheck[]): void {
    const series: Array<[Gauge<string>, Labels, number]> = [];
    for (const c of checks) {
      const labels = {
        resource_namespace: svc.namespace,
        isvc: svc.name,
        check: c.check,
        role: c.role ?? '',
        head: c.head ?? '',
      };
      if (c.value !== undefined && Number.isFinite(c.value)) series.push([this.value, labels, c.value]);
      if (c.threshold !== undefined && Number.isFinite(c.threshold)) series.push([this.threshold, labels, c.threshold]);
      series.push([this.verdict, { ...labels, verdict: c.verdict }, 1]);
      if (c.samples !== undefined) series.push([this.samples, labels, c.samples]);
      if (c.samplesNeeded !== undefined) series.push([this.samplesNeeded, labels, c.samplesNeeded]);
      if (c.eta) series.push([this.eta, labels, Date.parse(c.eta) / 1000]);
    }
    this.replace(`analysis/${svc.namespace}/${svc.name}`, series);
  }

  /** Sets the per-feature drift series of `svc` and `role`. */
  recordDrift(svc: ServiceRef, role: VersionRole, report: DriftReport): void {
    const series: Array<[Gauge<string>, Labels, number]> = [];
    for (const [feature, d] of Object.entries(report.items)) {
      const labels = { resource_namespace: svc.namespace, isvc: svc.name, role, feature };
      series.push([this.driftScore, labels, d.psi], [this.driftJs, labels, d.jensenShannon]);
    }
    this.replace(`drift/${role}/${svc.namespace}/${svc.name}`, series);
  }

  /** Sets the monitoring levels of `svc`. */
  recordLevels(svc: ServiceRef, levels: { drift?: MonitoringLevel; accuracy?: MonitoringLevel }): void {
    const series: Array<[Gauge<string>, Labels, number]> = [];
    for (const [signal, level] of Object.entries(levels)) {
      if (level)
        series.push([this.level, { resource_namespace: svc.namespace, isvc: svc.name, signal }, LEVEL_VALUE[level]]);
    }
    this.replace(`levels/${svc.namespace}/${svc.name}`, series);
  }

  /** Removes every series of a deleted service. */
  forget(svc: ServiceRef): void {
    const suffix = `/${svc.namespace}/${svc.name}`;
    for (const owner of [...this.owned.keys()]) if (owner.endsWith(suffix)) this.replace(owner, []);
    for (const owner of [...this.owned.keys()]) if (owner.endsWith(suffix)) this.owned.delete(owner);
  }
}
