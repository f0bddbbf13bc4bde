// Pure decisions of the node agent's controllers: ReplicaSet scaling and status, Deployment
// rollouts (RollingUpdate within maxSurge/maxUnavailable, Recreate) and conditions, Job
// progress and terminal conditions as Kubernetes 1.31 reports them, Endpoints, Prometheus targets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../hack/devcluster/agent/kube-client.js';
import { planReplicaSet, podFromTemplate, rankForDeletion } from '../../hack/devcluster/agent/replicaset-logic.js';
import {
  deploymentStatus,
  newReplicaSetFor,
  planScale,
  rolloutParams,
  templateHash,
} from '../../hack/devcluster/agent/deployment-logic.js';
import { planJob, jobPodLabels, type JobCounted } from '../../hack/devcluster/agent/job-logic.js';
import { buildEndpointSlices, buildEndpointSubsets } from '../../hack/devcluster/agent/endpoints-logic.js';
import { readyTargets } from '../../hack/devcluster/agent/service-proxy.js';
import { matchesSelector, scaledValue, setCondition } from '../../hack/devcluster/agent/util.js';
import { podTargetGroups, prometheusConfig, sanitizeLabelName } from '../../hack/devcluster/prometheus/config.js';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const NOW_ISO = '2026-01-01T00:10:00Z';

let seq = 0;
function pod(
  opts: {
    phase?: string;
    ready?: boolean;
    ip?: string;
    labels?: Record<string, string>;
    created?: string;
    deleting?: boolean;
    restarts?: number;
    finishedAt?: string;
    ports?: any[];
    annotations?: Record<string, string>;
  } = {},
): KubeObject {
  seq++;
  return {
    metadata: {
      name: `p${seq}`,
      namespace: 'ns',
      uid: `uid-${seq}`,
      labels: opts.labels ?? { app: 'web' },
      annotations: opts.annotations,
      creationTimestamp: opts.created ?? '2026-01-01T00:00:00Z',
      ...(opts.deleting ? { deletionTimestamp: NOW_ISO } : {}),
    },
    spec: { containers: [{ name: 'c', ports: opts.ports ?? [{ name: 'http', containerPort: 8080 }] }] },
    status: {
      phase: opts.phase ?? 'Running',
      podIP: opts.ip ?? `127.64.0.${(seq % 250) + 2}`,
      conditions: [
        { type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: '2026-01-01T00:00:00Z' },
      ],
      containerStatuses: [
        {
          name: 'c',
          restartCount: opts.restarts ?? 0,
          state: opts.finishedAt ? { terminated: { exitCode: 1, finishedAt: opts.finishedAt } } : { running: {} },
        },
      ],
    },
  };
}

test('label selectors: matchLabels and every matchExpressions operator', () => {
  const labels = { app: 'web', tier: 'front' };
  assert.ok(matchesSelector({ matchLabels: { app: 'web' } }, labels));
  assert.ok(
    matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, labels),
  );
  assert.not.ok(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels));
  assert.ok(matchesSelector({ matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }, labels));
  assert.not.ok(matchesSelector({ matchExpressions: [{ key: 'x', operator: 'Exists' }] }, labels));
});

test('IntOrString percentages round like Kubernetes (surge up, unavailable down)', () => {
  assert.is(scaledValue('25%', 3, true, '25%'), 1);
  assert.is(scaledValue('25%', 3, false, '25%'), 0);
  assert.is(scaledValue(2, 3, false, '25%'), 2);
  assert.equal(
    rolloutParams({
      metadata: { name: 'd' },
      spec: { replicas: 1, strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } },
    }),
    { desired: 1, maxSurge: 0, maxUnavailable: 1 },
  );
});

test('setCondition keeps lastTransitionTime while the status is unchanged', () => {
  const a = setCondition([], { type: 'Ready', status: 'True' }, 't1');
  const b = setCondition(a, { type: 'Ready', status: 'True', reason: 'x' }, 't2');
  const c = setCondition(b, { type: 'Ready', status: 'False' }, 't3');
  assert.equal([a[0].lastTransitionTime, b[0].lastTransitionTime, c[0].lastTransitionTime], ['t1', 't1', 't3']);
});

const rs: KubeObject = {
  metadata: { name: 'web-abc', namespace: 'ns', uid: 'rs-uid', generation: 3 },
  spec: {
    replicas: 2,
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
  },
};

test('ReplicaSet: creates missing pods, counts ready/available, ignores finished and terminating pods', () => {
  const plan = planReplicaSet(rs, [pod({ ready: false }), pod({ phase: 'Failed' }), pod({ deleting: true })], NOW);
  assert.is(plan.create, 1);
  assert.equal(plan.remove, []);
  assert.equal(plan.status, {
    replicas: 1,
    fullyLabeledReplicas: 1,
    readyReplicas: 0,
    availableReplicas: 0,
    observedGeneration: 3,
  });
});

test('ReplicaSet: scale-down removes pending, then unready, then newest pods first', () => {
  const old = pod({ created: '2026-01-01T00:00:00Z' });
  const newer = pod({ created: '2026-01-01T00:05:00Z' });
  const unready = pod({ ready: false });
  const pending = pod({ phase: 'Pending', ready: false });
  assert.equal(
    rankForDeletion([old, newer, unready, pending]).map((p) => p.metadata.name),
    [pending, unready, newer, old].map((p) => p.metadata.name),
  );
  const plan = planReplicaSet({ ...rs, spec: { ...rs.spec, replicas: 1 } }, [old, newer, unready], NOW);
  assert.equal(
    plan.remove.map((p) => p.metadata.name),
    [unready.metadata.name, newer.metadata.name],
  );
});

test('pods from a template carry the controller ownerReference', () => {
  const p = podFromTemplate(rs, 'apps/v1', 'ReplicaSet');
  assert.match(p.metadata.name, /^web-abc-[a-z0-9]{5}$/);
  assert.equal(p.metadata.ownerReferences, [
    {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: 'web-abc',
      uid: 'rs-uid',
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);
  assert.equal(p.metadata.labels, { app: 'web' });
});

const deploy = (replicas: number, strategy?: any): KubeObject => ({
  metadata: { name: 'web', namespace: 'ns', uid: 'd-uid', generation: 2 },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'v2' }] } },
    ...(strategy ? { strategy } : {}),
  },
});
const rsOf = (name: string, replicas: number, available: number, revision: number): KubeObject => ({
  metadata: { name, namespace: 'ns', annotations: { 'deployment.kubernetes.io/revision': String(revision) } },
  spec: { replicas },
  status: { replicas, readyReplicas: available, availableReplicas: available },
});

test('Deployment: the new ReplicaSet is named by pod-template-hash and selects it', () => {
  const d = deploy(3);
  const hash = templateHash(d);
  const r = newReplicaSetFor(d, hash, 1, 3);
  assert.is(r.metadata.name, `web-${hash}`);
  assert.is(r.spec.selector.matchLabels['pod-template-hash'], hash);
  assert.is(r.spec.template.metadata.labels['pod-template-hash'], hash);
  assert.is(templateHash(deploy(5)), hash, 'replicas are not part of the template hash');
  const restored = deploy(3);
  restored.spec.template.metadata.creationTimestamp = null;
  assert.is(templateHash(restored), hash, 'a null field is the same as an absent one (kubectl rollout undo)');
  const changed = deploy(3);
  changed.spec.template.spec.containers[0].image = 'v3';
  assert.is.not(templateHash(changed), hash);
});

test('RollingUpdate: surge the new ReplicaSet, keep minimum availability while scaling old down', () => {
  const d = deploy(4, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } });
  // Start: old has 4 available; new just created with 0.
  let t = planScale(d, rsOf('new', 0, 0, 2), [rsOf('old', 4, 4, 1)], true);
  assert.equal(Object.fromEntries(t), { new: 1, old: 3 });
  // New pod not available yet: old cannot go below 3 available.
  t = planScale(d, rsOf('new', 1, 0, 2), [rsOf('old', 3, 3, 1)], true);
  assert.equal(Object.fromEntries(t), { new: 2, old: 3 });
  // Once new pods are available, old scales down further.
  t = planScale(d, rsOf('new', 2, 2, 2), [rsOf('old', 3, 3, 1)], true);
  assert.equal(Object.fromEntries(t), { new: 2, old: 1 });
  // No old replicas left: plain scaling.
  t = planScale(deploy(6), rsOf('new', 4, 4, 2), [rsOf('old', 0, 0, 1)], false);
  assert.equal(Object.fromEntries(t), { new: 6 });
});

test('Recreate: old ReplicaSets go to zero, the new one waits until old pods are gone', () => {
  const d = deploy(2, { type: 'Recreate' });
  assert.equal(Object.fromEntries(planScale(d, rsOf('new', 0, 0, 2), [rsOf('old', 2, 2, 1)], true)), {
    old: 0,
    new: 0,
  });
  assert.equal(Object.fromEntries(planScale(d, rsOf('new', 0, 0, 2), [rsOf('old', 0, 0, 1)], true)), { new: 0 });
  assert.equal(Object.fromEntries(planScale(d, rsOf('new', 0, 0, 2), [rsOf('old', 0, 0, 1)], false)), { new: 2 });
});

test('Deployment status: Available and Progressing as kube-controller-manager reports them', () => {
  const d = deploy(2);
  const partial = rsOf('web-x', 2, 1, 1);
  const progressing = deploymentStatus({
    deploy: d,
    newRS: partial,
    allRSs: [partial],
    createdNewRS: false,
    now: NOW,
    nowIso: NOW_ISO,
  }) as any;
  assert.is(progressing.observedGeneration, 2);
  assert.equal(
    [progressing.replicas, progressing.updatedReplicas, progressing.availableReplicas, progressing.unavailableReplicas],
    [2, 2, 1, 1],
  );
  const unavailable = progressing.conditions.find((c: any) => c.type === 'Available');
  // maxUnavailable 25% of 2 rounds down to 0, so 1 of 2 is not minimum availability.
  assert.equal(
    [unavailable.status, unavailable.reason, unavailable.message],
    ['False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'],
  );
  const p1 = progressing.conditions.find((c: any) => c.type === 'Progressing');
  assert.equal([p1.status, p1.reason, p1.message], ['True', 'ReplicaSetUpdated', 'ReplicaSet "web-x" is progressing.']);

  const full = rsOf('web-x', 2, 2, 1);
  const later = '2026-01-01T00:11:00Z';
  const done = deploymentStatus({
    deploy: { ...d, status: progressing },
    newRS: full,
    allRSs: [full],
    createdNewRS: false,
    now: Date.parse(later),
    nowIso: later,
  }) as any;
  assert.is(done.unavailableReplicas, undefined);
  const available = done.conditions.find((c: any) => c.type === 'Available');
  assert.equal(
    [available.status, available.reason, available.lastTransitionTime],
    ['True', 'MinimumReplicasAvailable', later],
  );
  const p2 = done.conditions.find((c: any) => c.type === 'Progressing');
  assert.equal(
    [p2.status, p2.reason, p2.message],
    ['True', 'NewReplicaSetAvailable', 'ReplicaSet "web-x" has successfully progressed.'],
  );

  const again = deploymentStatus({
    deploy: { ...d, status: done },
    newRS: full,
    allRSs: [full],
    createdNewRS: false,
    now: Date.parse(later) + 60_000,
    nowIso: '2026-01-01T00:12:00Z',
  });
  assert.equal(again, done, 'steady state produces an identical status, so nothing is written');

  const stuck = deploymentStatus({
    deploy: { ...d, spec: { ...d.spec, progressDeadlineSeconds: 30 }, status: progressing },
    newRS: partial,
    allRSs: [partial],
    createdNewRS: false,
    now: NOW + 60_000,
    nowIso: '2026-01-01T00:11:00Z',
  }) as any;
  const p3 = stuck.conditions.find((c: any) => c.type === 'Progressing');
  assert.equal([p3.status, p3.reason], ['False', 'ProgressDeadlineExceeded']);
});

const job = (spec: any, status: any = {}): KubeObject => ({
  metadata: { name: 'train', namespace: 'ns', uid: 'job-uid' },
  spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } }, ...spec },
  status,
});
const none = (): JobCounted => ({ succeeded: new Set(), failed: new Set() });
const opts = { backoffBaseMs: 1000 };
const types = (status: any) => (status.conditions ?? []).map((c: any) => `${c.type}=${c.status}:${c.reason ?? ''}`);

test('Job: starts one pod, records startTime, labels pods like the Job controller', () => {
  const plan = planJob(job({}), [], none(), NOW, NOW_ISO, opts);
  assert.is(plan.create, 1);
  assert.is(plan.status.startTime, NOW_ISO);
  assert.equal(jobPodLabels(job({})), {
    'batch.kubernetes.io/controller-uid': 'job-uid',
    'batch.kubernetes.io/job-name': 'train',
    'controller-uid': 'job-uid',
    'job-name': 'train',
  });
});

test('Job: success adds SuccessCriteriaMet then Complete with CompletionsReached and completionTime', () => {
  const done = pod({ phase: 'Succeeded' });
  const plan = planJob(job({}, { startTime: NOW_ISO, active: 1 }), [done], none(), NOW, NOW_ISO, opts);
  assert.equal(plan.newlyCounted.succeeded, [done.metadata.uid]);
  assert.equal(types(plan.status), ['SuccessCriteriaMet=True:CompletionsReached', 'Complete=True:CompletionsReached']);
  assert.is(plan.status.conditions[1].message, 'Reached expected number of succeeded pods');
  assert.equal([plan.status.succeeded, plan.status.active, plan.status.completionTime], [1, undefined, NOW_ISO]);
  assert.is(plan.create, 0);
});

test('Job: backoffLimit counts failed pods; limit+1 failures → FailureTarget and Failed BackoffLimitExceeded', () => {
  const f1 = pod({ phase: 'Failed', finishedAt: NOW_ISO });
  const waitPlan = planJob(job({ backoffLimit: 2 }, { startTime: NOW_ISO }), [f1], none(), NOW, NOW_ISO, opts);
  assert.is(waitPlan.create, 0, 'the replacement waits for the pod failure back-off');
  assert.ok(waitPlan.requeueAfterMs! > 0);
  const later = planJob(job({ backoffLimit: 2 }, { startTime: NOW_ISO }), [f1], none(), NOW + 2_000, NOW_ISO, opts);
  assert.is(later.create, 1);
  const three = [f1, pod({ phase: 'Failed' }), pod({ phase: 'Failed' })];
  const failed = planJob(job({ backoffLimit: 2 }, { startTime: NOW_ISO }), three, none(), NOW, NOW_ISO, opts);
  assert.equal(types(failed.status), ['FailureTarget=True:BackoffLimitExceeded', 'Failed=True:BackoffLimitExceeded']);
  assert.is(failed.status.conditions[1].message, 'Job has reached the specified backoff limit');
  assert.equal([failed.status.failed, failed.create, failed.status.completionTime], [3, 0, undefined]);
});

test('Job: OnFailure counts container restarts against backoffLimit and removes the active pod first', () => {
  const spec = { backoffLimit: 1, template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c' }] } } };
  const active = pod({ restarts: 2 });
  const plan = planJob(job(spec, { startTime: NOW_ISO, active: 1 }), [active], none(), NOW, NOW_ISO, opts);
  assert.equal(types(plan.status), ['FailureTarget=True:BackoffLimitExceeded']);
  assert.equal(plan.remove, [active]);
  assert.is(plan.status.active, undefined);
});

test('Job: activeDeadlineSeconds → DeadlineExceeded, active pods terminated', () => {
  const active = pod();
  const start = '2026-01-01T00:09:00Z';
  const plan = planJob(
    job({ activeDeadlineSeconds: 30 }, { startTime: start, active: 1 }),
    [active],
    none(),
    NOW,
    NOW_ISO,
    opts,
  );
  assert.equal(types(plan.status), ['FailureTarget=True:DeadlineExceeded']);
  assert.is(plan.status.conditions[0].message, 'Job was active longer than specified deadline');
  assert.equal(plan.remove, [active]);
  const after = planJob(
    job({ activeDeadlineSeconds: 30 }, plan.status),
    [],
    { succeeded: new Set(), failed: new Set(plan.newlyCounted.failed) },
    NOW + 1000,
    NOW_ISO,
    opts,
  );
  assert.equal(types(after.status), ['FailureTarget=True:DeadlineExceeded', 'Failed=True:DeadlineExceeded']);
  assert.is(after.status.failed, 1);
});

test('Job: ttlSecondsAfterFinished deletes the Job once expired', () => {
  const finished = {
    startTime: '2026-01-01T00:00:00Z',
    completionTime: '2026-01-01T00:09:50Z',
    conditions: [{ type: 'Complete', status: 'True' }],
  };
  assert.is(planJob(job({ ttlSecondsAfterFinished: 5 }, finished), [], none(), NOW, NOW_ISO, opts).deleteJob, true);
  const young = planJob(job({ ttlSecondsAfterFinished: 60 }, finished), [], none(), NOW, NOW_ISO, opts);
  assert.equal([young.deleteJob, young.requeueAfterMs], [false, 50_000]);
});

test('Job: parallelism and completions bound the number of active pods', () => {
  const plan = planJob(
    job({ parallelism: 3, completions: 4 }, { startTime: NOW_ISO, succeeded: 2 }),
    [],
    none(),
    NOW,
    NOW_ISO,
    opts,
  );
  assert.is(plan.create, 2);
});

const svc: KubeObject = {
  metadata: { name: 'web', namespace: 'ns', uid: 'svc-uid' },
  spec: { selector: { app: 'web' }, clusterIP: '127.96.0.5', ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
};

test('Endpoints: ready pods in addresses, unready in notReadyAddresses, finished and unselected pods left out', () => {
  const a = pod({ ip: '127.64.0.10' });
  const b = pod({ ip: '127.64.0.11', ready: false });
  const c = pod({ ip: '127.64.0.12', phase: 'Succeeded' });
  const d = pod({ ip: '127.64.0.13', labels: { app: 'other' } });
  const subsets = buildEndpointSubsets(svc, [a, b, c, d]);
  assert.is(subsets.length, 1);
  assert.equal(subsets[0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.equal(
    subsets[0].addresses.map((x: any) => x.ip),
    ['127.64.0.10'],
  );
  assert.equal(
    subsets[0].notReadyAddresses.map((x: any) => x.ip),
    ['127.64.0.11'],
  );
  assert.equal(readyTargets({ metadata: { name: 'web' }, subsets }, 'http'), [{ ip: '127.64.0.10', port: 8080 }]);
  const slices = buildEndpointSlices(svc, [a, b]);
  assert.equal(
    slices[0].endpoints.map((e: any) => [e.addresses[0], e.conditions.ready]),
    [
      ['127.64.0.10', true],
      ['127.64.0.11', false],
    ],
  );
  assert.is(slices[0].metadata.labels?.['kubernetes.io/service-name'], 'web');
});

test('Prometheus targets: annotated running pods with port/path, namespace, pod and sanitised labels', () => {
  const scraped = pod({
    ip: '127.64.1.2',
    labels: { app: 'web', 'modelship.dev/model': 'flowers', job: 'x' },
    annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090', 'prometheus.io/path': '/m' },
  });
  const defaults = pod({ ip: '127.64.1.3', annotations: { 'prometheus.io/scrape': 'true' } });
  const notAnnotated = pod();
  const pending = pod({ phase: 'Pending', annotations: { 'prometheus.io/scrape': 'true' } });
  const groups = podTargetGroups([scraped, defaults, notAnnotated, pending]);
  assert.equal(
    groups.map((g) => g.targets[0]),
    ['127.64.1.2:9090', '127.64.1.3:8080'],
  );
  assert.equal(groups[0].labels, {
    app: 'web',
    modelship_dev_model: 'flowers',
    namespace: 'ns',
    pod: scraped.metadata.name,
    __metrics_path__: '/m',
    __scheme__: 'http',
  });
  assert.is(groups[1].labels.__metrics_path__, '/metrics');
  assert.is(sanitizeLabelName('app.kubernetes.io/name'), 'app_kubernetes_io_name');
});

test('Prometheus config: 2s scrapes, file_sd for pods, the API server /metrics', () => {
  const yaml = prometheusConfig({
    targetsFile: '/d/t.json',
    apiServer: { hostPort: '127.0.0.1:6443', scheme: 'http' },
  });
  assert.match(yaml, /scrape_interval: 2s/);
  assert.match(yaml, /files:\n\s+- \/d\/t.json/);
  assert.match(yaml, /job_name: devcluster-apiserver[\s\S]*targets:\n\s+- 127.0.0.1:6443/);
});

test.run();
