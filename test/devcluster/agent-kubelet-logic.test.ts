// Pure parts of the node agent's kubelet: image → command mapping with Docker semantics,
// env resolution, container path rewriting, pod phase and status, pod IP allocation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import {
  commandLine,
  findImage,
  normalizeImageName,
  parseImageConfig,
  ImageConfigError,
} from '../../hack/devcluster/agent/images.js';
import {
  containerEnv,
  ContainerConfigError,
  expandVars,
  fieldRefValue,
} from '../../hack/devcluster/agent/container-spec.js';
import { volumeHostDirs } from '../../hack/devcluster/agent/volumes.js';
import { cpuQuotaUs, locateCgroup, memoryBytes } from '../../hack/devcluster/agent/cgroups.js';
import { buildPodStatus, podPhase, type ContainerView, type PodView } from '../../hack/devcluster/agent/pod-status.js';
import { PodIpAllocator } from '../../hack/devcluster/agent/ip-allocator.js';
import { countResult, scheduleProbes } from '../../hack/devcluster/agent/probe-scheduler.js';
import type { KubeObject } from '../../hack/devcluster/agent/kube-client.js';
import { serviceHosts, serviceLinkEnv } from '../../hack/devcluster/agent/cluster-dns.js';
import { containerLogDir, readContainerLog } from '../../hack/devcluster/agent/logs.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const images = parseImageConfig(readFileSync(new URL('../../hack/devcluster/images.yaml', import.meta.url), 'utf8'));

for (const [image, expected] of [
  ['busybox', 'busybox'],
  ['busybox:1.36', 'busybox'],
  ['docker.io/library/busybox:1.36', 'busybox'],
  ['busybox@sha256:abcdef', 'busybox'],
  ['ghcr.io/acme/modelship/serving:v1', 'ghcr.io/acme/modelship/serving'],
  ['localhost:5000/modelship/serving:dev', 'localhost:5000/modelship/serving'],
] as const) {
  test(`normalizeImageName(${image})`, () => assert.is(normalizeImageName(image), expected));
}

test('project images map to their entry points, the tag is ignored', () => {
  assert.equal(findImage(images, 'modelship/serving:0.1.0')?.entrypoint, [
    'node',
    '--import',
    'tsx',
    'serving/main.ts',
  ]);
  assert.equal(findImage(images, 'modelship/operator:latest')?.entrypoint, [
    'node',
    '--import',
    'tsx',
    'operator/main.ts',
  ]);
  assert.equal(findImage(images, 'modelship/trainer-image-classifier:1')?.entrypoint, [
    '/usr/bin/python3',
    'examples/trainers/image-classifier/train.py',
  ]);
  assert.is(findImage(images, 'localhost:5000/modelship/serving:dev')?.entrypoint[3], 'serving/main.ts');
  assert.is(findImage(images, 'docker.io/library/alpine:3.20')?.cwd, 'pod');
  assert.is(findImage(images, 'nosuch/image:1'), undefined);
});

test('Docker semantics: command replaces entrypoint, args replace the default cmd', () => {
  const serving = findImage(images, 'modelship/serving:1')!;
  assert.equal(commandLine(serving, undefined, ['validate', '--model-dir', '/m']), [
    'node',
    '--import',
    'tsx',
    'serving/main.ts',
    'validate',
    '--model-dir',
    '/m',
  ]);
  assert.equal(commandLine(serving, ['sh', '-c'], ['echo hi']), ['sh', '-c', 'echo hi']);
  const busybox = findImage(images, 'busybox')!;
  assert.equal(commandLine(busybox, undefined, undefined), ['sh']);
  assert.equal(commandLine(busybox, ['sh', '-c', 'exit 3'], undefined), ['sh', '-c', 'exit 3']);
});

test('invalid image config is rejected with a precise error', () => {
  assert.throws(
    () => parseImageConfig('images: [{names: [], entrypoint: []}]'),
    (e: Error) => e instanceof ImageConfigError && /names must be a non-empty list/.test(e.message),
  );
  assert.throws(
    () => parseImageConfig('foo: 1'),
    (e: Error) => e instanceof ImageConfigError && /top-level "images"/.test(e.message),
  );
});

test('image user and env: parsed, and rejected when malformed', () => {
  const [entry] = parseImageConfig('images: [{names: [x], entrypoint: [x], user: "65532:65532", env: {A: 1}}]');
  assert.equal([entry.user, entry.env], ['65532:65532', { A: '1' }]);
  assert.throws(
    () => parseImageConfig('images: [{names: [x], entrypoint: [x], user: "a b"}]'),
    /images\[0\]\.user must be a user name or id/,
  );
  assert.throws(
    () => parseImageConfig('images: [{names: [x], entrypoint: [x], env: [A]}]'),
    /images\[0\]\.env must be a map/,
  );
});

test('$(VAR) expansion: defined names substituted, $$ escapes, unknown kept', () => {
  const vars = new Map([
    ['A', 'x'],
    ['B', 'y'],
  ]);
  assert.is(expandVars('$(A)-$(B)-$(C)-$$(A)', vars), 'x-y-$(C)-$(A)');
});

const pod: KubeObject = {
  metadata: {
    name: 'p1',
    namespace: 'ns',
    uid: 'u1',
    labels: { app: 'web', 'modelship.dev/model': 'm' },
    annotations: { a: 'b' },
  },
  spec: {
    volumes: [
      { name: 'models', persistentVolumeClaim: { claimName: 'store' } },
      { name: 'scratch', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'c' } },
    ],
  },
};

test('downward API field references', () => {
  assert.is(fieldRefValue(pod, '127.64.0.9', 'status.podIP'), '127.64.0.9');
  assert.is(fieldRefValue(pod, '', 'metadata.name'), 'p1');
  assert.is(fieldRefValue(pod, '', 'metadata.namespace'), 'ns');
  assert.is(fieldRefValue(pod, '', "metadata.labels['modelship.dev/model']"), 'm');
  assert.is(fieldRefValue(pod, '', "metadata.annotations['a']"), 'b');
  assert.throws(
    () => fieldRefValue(pod, '', 'spec.bogus'),
    (e: Error) => e instanceof ContainerConfigError && /spec.bogus/.test(e.message),
  );
});

const secrets: Record<string, KubeObject> = {
  'ns/s': { metadata: { name: 's' }, data: { token: Buffer.from('t0k').toString('base64') } },
};
const configMaps: Record<string, KubeObject> = {
  'ns/c': { metadata: { name: 'c' }, data: { MODE: 'fast', LEVEL: 'info' } },
};
const sources = {
  pod,
  podIP: '127.64.0.9',
  secrets: (ns: string, n: string) => secrets[`${ns}/${n}`],
  configMaps: (ns: string, n: string) => configMaps[`${ns}/${n}`],
};

test('env: envFrom first, then env in order with $(VAR) expansion, secret and configmap refs', () => {
  const env = containerEnv(
    {
      envFrom: [{ configMapRef: { name: 'c' }, prefix: 'CFG_' }],
      env: [
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'URL', value: 'http://$(POD_IP):8080' },
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 's', key: 'token' } } },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'c', key: 'MODE' } } },
        { name: 'OPT', valueFrom: { secretKeyRef: { name: 'missing', key: 'k', optional: true } } },
        { name: 'CFG_LEVEL', value: 'debug' },
      ],
    },
    sources,
  );
  assert.equal(Object.fromEntries(env), {
    CFG_MODE: 'fast',
    CFG_LEVEL: 'debug',
    POD_IP: '127.64.0.9',
    URL: 'http://127.64.0.9:8080',
    TOKEN: 't0k',
    MODE: 'fast',
  });
});

test('env: resourceFieldRef reads as the kubelet writes it, an integer after the divisor, rounded up', () => {
  const env = containerEnv(
    {
      resources: { limits: { memory: '1Gi', cpu: '250m' }, requests: { memory: '256Mi' } },
      env: [
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } },
        { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        { name: 'CPU_M', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
        { name: 'REQ', valueFrom: { resourceFieldRef: { resource: 'requests.memory' } } },
        { name: 'UNSET', valueFrom: { resourceFieldRef: { resource: 'limits.ephemeral-storage' } } },
      ],
    },
    sources,
  );
  assert.equal(Object.fromEntries(env), {
    MEM: '1073741824',
    MEM_MI: '1024',
    CPU: '1',
    CPU_M: '250',
    REQ: '268435456',
    UNSET: String(8 * 1024 ** 3),
  });
});

test('env: a missing required secret or key is a CreateContainerConfigError', () => {
  assert.throws(
    () => containerEnv({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] }, sources),
    /secret "nope" not found/,
  );
  assert.throws(
    () => containerEnv({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'c', key: 'nokey' } } }] }, sources),
    /couldn't find key nokey in ConfigMap ns\/c/,
  );
});

test('volumes map to folders under the data dir', () => {
  const dirs = volumeHostDirs(pod, '/d');
  assert.is(dirs.get('models'), '/d/volumes/pvc/ns/store');
  assert.is(dirs.get('scratch'), '/d/pods/u1/scratch');
  assert.is(dirs.get('cfg'), '/d/pods/u1/cfg');
});

const running = (name: string, ready = true): ContainerView => ({
  name,
  image: 'i',
  state: { kind: 'running', startedAt: 't' },
  restartCount: 0,
  ready,
  started: true,
});
const terminated = (name: string, exitCode: number): ContainerView => ({
  name,
  image: 'i',
  state: {
    kind: 'terminated',
    terminated: { exitCode, reason: exitCode ? 'Error' : 'Completed', startedAt: 't', finishedAt: 't' },
  },
  restartCount: 0,
  ready: false,
  started: false,
});
const waiting = (name: string, reason: string, restarted = false): ContainerView => ({
  name,
  image: 'i',
  state: { kind: 'waiting', reason },
  restartCount: restarted ? 1 : 0,
  ready: false,
  started: false,
  ...(restarted ? { lastTerminated: { exitCode: 1, reason: 'Error', startedAt: 't', finishedAt: 't' } } : {}),
});
const view = (containers: ContainerView[], podFailure?: PodView['podFailure']): PodView => ({
  podIP: '127.64.0.2',
  startTime: 't',
  containers,
  podFailure,
});

for (const [name, containers, expected] of [
  ['all running', [running('a'), running('b')], 'Running'],
  ['one not yet started', [running('a'), waiting('b', 'ErrImagePull')], 'Pending'],
  ['restarting after crash', [waiting('a', 'CrashLoopBackOff', true)], 'Running'],
  ['all completed', [terminated('a', 0), terminated('b', 0)], 'Succeeded'],
  ['one failed', [terminated('a', 0), terminated('b', 2)], 'Failed'],
  ['one still running', [terminated('a', 1), running('b')], 'Running'],
] as const) {
  test(`podPhase: ${name} → ${expected}`, () => assert.is(podPhase(view([...containers])), expected));
}

test('init containers: Pending until all succeed, Failed when one fails for good, Initialized condition', () => {
  const p: KubeObject = {
    metadata: { name: 'p', uid: 'u' },
    spec: { containers: [{ name: 'a' }], initContainers: [{ name: 'i1' }, { name: 'i2' }] },
  };
  const initializing = view([waiting('a', 'PodInitializing')]);
  initializing.initContainers = [terminated('i1', 0), running('i2', false)];
  assert.is(podPhase(initializing), 'Pending');
  const s1 = buildPodStatus(p, initializing, 'now');
  const init = s1.conditions.find((c: any) => c.type === 'Initialized');
  assert.equal(
    [init.status, init.reason, init.message],
    ['False', 'ContainersNotInitialized', 'containers with incomplete status: [i2]'],
  );
  assert.equal(
    s1.initContainerStatuses.map((c: any) => Object.keys(c.state)[0]),
    ['terminated', 'running'],
  );
  const failed = view([waiting('a', 'PodInitializing')]);
  failed.initContainers = [terminated('i1', 1), waiting('i2', 'PodInitializing')];
  assert.is(podPhase(failed), 'Failed');
  const done = view([running('a')]);
  done.initContainers = [terminated('i1', 0), terminated('i2', 0)];
  assert.is(podPhase(done), 'Running');
  assert.is(buildPodStatus(p, done, 'now').conditions.find((c: any) => c.type === 'Initialized').status, 'True');
});

test('pod status: conditions, container states and termination message like a kubelet', () => {
  const p: KubeObject = { metadata: { name: 'p', uid: 'u' }, spec: { containers: [{ name: 'a' }] } };
  const ready = buildPodStatus(p, view([running('a')]), '2026-01-01T00:00:00Z');
  assert.is(ready.phase, 'Running');
  assert.is(ready.podIP, '127.64.0.2');
  const cond = Object.fromEntries(ready.conditions.map((c: any) => [c.type, c.status]));
  assert.equal(cond, {
    PodReadyToStartContainers: 'True',
    Initialized: 'True',
    Ready: 'True',
    ContainersReady: 'True',
    PodScheduled: 'True',
  });
  const unready = buildPodStatus({ ...p, status: ready }, view([running('a', false)]), '2026-01-01T00:00:05Z');
  const r = unready.conditions.find((c: any) => c.type === 'Ready');
  assert.equal(
    [r.status, r.reason, r.message, r.lastTransitionTime],
    ['False', 'ContainersNotReady', 'containers with unready status: [a]', '2026-01-01T00:00:05Z'],
  );
  assert.is(
    unready.conditions.find((c: any) => c.type === 'PodScheduled').lastTransitionTime,
    '2026-01-01T00:00:00Z',
    'unchanged conditions keep their transition time',
  );
  const done: ContainerView = { ...terminated('a', 0) };
  (done.state as any).terminated.message = 'accuracy=0.93';
  const finished = buildPodStatus(p, view([done]), 'now');
  assert.is(finished.phase, 'Succeeded');
  assert.equal(finished.containerStatuses[0].state.terminated, {
    exitCode: 0,
    reason: 'Completed',
    message: 'accuracy=0.93',
    startedAt: 't',
    finishedAt: 't',
  });
  assert.is(finished.conditions.find((c: any) => c.type === 'Ready').reason, 'PodCompleted');
  const deadline = buildPodStatus(p, view([running('a')], { reason: 'DeadlineExceeded', message: 'too long' }), 'now');
  assert.equal([deadline.phase, deadline.reason], ['Failed', 'DeadlineExceeded']);
});

test('pod IPs come from 127.64.0.0/16, are unique, and a preferred free one is kept', () => {
  const ips = new PodIpAllocator();
  const a = ips.allocate();
  const b = ips.allocate();
  assert.match(a, /^127\.64\.\d+\.\d+$/);
  assert.is.not(a, b);
  assert.is(ips.allocate('127.64.7.7'), '127.64.7.7');
  assert.is.not(ips.allocate('127.64.7.7'), '127.64.7.7');
  ips.release(a);
  assert.is.not(ips.allocate(), a, 'a just-released address is not reused at once');
  assert.is(PodIpAllocator.offsetOf('10.0.0.1'), undefined);
});

test('cluster DNS names and service link env vars from Services', () => {
  const svcs: KubeObject[] = [
    {
      metadata: { name: 'model-api', namespace: 'ns' },
      spec: {
        clusterIP: '127.96.0.7',
        ports: [
          { name: 'http', port: 80 },
          { name: 'metrics', port: 9090, protocol: 'TCP' },
        ],
      },
    },
    { metadata: { name: 'headless', namespace: 'ns' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } },
    { metadata: { name: 'other', namespace: 'elsewhere' }, spec: { clusterIP: '127.96.0.8', ports: [{ port: 80 }] } },
  ];
  assert.equal(serviceHosts(svcs), {
    'model-api.ns': '127.96.0.7',
    'model-api.ns.svc': '127.96.0.7',
    'model-api.ns.svc.cluster.local': '127.96.0.7',
    'other.elsewhere': '127.96.0.8',
    'other.elsewhere.svc': '127.96.0.8',
    'other.elsewhere.svc.cluster.local': '127.96.0.8',
  });
  const env = Object.fromEntries(serviceLinkEnv(svcs, 'ns'));
  assert.is(env.MODEL_API_SERVICE_HOST, '127.96.0.7');
  assert.is(env.MODEL_API_SERVICE_PORT, '80');
  assert.is(env.MODEL_API_SERVICE_PORT_METRICS, '9090');
  assert.is(env.MODEL_API_PORT, 'tcp://127.96.0.7:80');
  assert.is(env.MODEL_API_PORT_9090_TCP_ADDR, '127.96.0.7');
  assert.is(env.OTHER_SERVICE_HOST, undefined, 'only Services of the pod namespace');
  assert.is(env.HEADLESS_SERVICE_HOST, undefined);
});

test('container logs: current or previous instance, tail and byte limits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-logs-'));
  try {
    const logDir = containerLogDir(dir, 'ns', 'p', 'u', 'c');
    mkdirSync(logDir, { recursive: true });
    writeFileSync(join(logDir, '0.log'), 'first run\n');
    writeFileSync(join(logDir, '1.log'), 'a\nb\nc\n');
    assert.is(readContainerLog(dir, 'ns', 'p', 'u', 'c'), 'a\nb\nc\n');
    assert.is(readContainerLog(dir, 'ns', 'p', 'u', 'c', { previous: true }), 'first run\n');
    assert.is(readContainerLog(dir, 'ns', 'p', 'u', 'c', { tailLines: 2 }), 'b\nc\n');
    assert.is(readContainerLog(dir, 'ns', 'p', 'u', 'c', { limitBytes: 3 }), 'a\nb');
    assert.is(readContainerLog(dir, 'ns', 'p', 'u', 'nope'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('probe thresholds count consecutive results', () => {
  const counter = { successes: 0, failures: 0 };
  const probe = { successThreshold: 2, failureThreshold: 2 };
  assert.equal(
    [true, true, false, true, false, false, true].map((ok) => countResult(counter, ok, probe)),
    ['unchanged', 'success', 'unchanged', 'unchanged', 'unchanged', 'failure', 'unchanged'],
  );
});

/** Drives scheduleProbes with scripted probe results and a manual timer queue. */
async function driveProbes(spec: any, results: Record<string, boolean[]>, steps: number) {
  const timers: (() => void)[] = [];
  const log: string[] = [];
  const c = { spec, started: !spec.startupProbe, ready: false };
  scheduleProbes(c, {
    alive: () => true,
    later: (_ms, fn) => timers.push(fn),
    run: async (probe) => {
      const kind = probe === spec.startupProbe ? 'startup' : probe === spec.readinessProbe ? 'readiness' : 'liveness';
      log.push(kind);
      return { success: results[kind].shift() ?? true };
    },
    changed: () => log.push(`ready=${c.ready} started=${c.started}`),
    unhealthy: () => undefined,
    restart: (reason) => log.push(`restart:${reason}`),
  });
  for (let i = 0; i < steps && timers.length; i++) {
    timers.splice(0, timers.length).forEach((fn) => fn());
    await new Promise((r) => setImmediate(r));
  }
  return { c, log };
}

test('readiness probe: ready after a success, unready after failureThreshold failures', async () => {
  const { log } = await driveProbes(
    { readinessProbe: { httpGet: {}, failureThreshold: 2 } },
    { readiness: [false, true, false, false] },
    4,
  );
  assert.equal(
    log.filter((l) => l.startsWith('ready=')),
    ['ready=true started=true', 'ready=false started=true'],
  );
});

test('startup probe gates readiness and liveness; liveness failures restart the container', async () => {
  const spec = {
    startupProbe: { exec: {}, failureThreshold: 5 },
    readinessProbe: { exec: {} },
    livenessProbe: { exec: {}, failureThreshold: 2 },
  };
  const { log } = await driveProbes(spec, { startup: [false, true], readiness: [true], liveness: [false, false] }, 6);
  const firstOther = log.findIndex((l) => l === 'readiness' || l === 'liveness');
  assert.ok(log.indexOf('ready=false started=true') < firstOther, 'nothing else probes before startup succeeds');
  assert.ok(log.includes('restart:liveness'));
  assert.not.ok(log.includes('restart:startup'));
});

test('memory quantities in bytes, as the kubelet reads limits.memory', () => {
  const cases: Array<[string | number | undefined, number | undefined]> = [
    ['512Mi', 512 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1G', 1e9],
    ['129e6', 129e6],
    ['1.5Gi', 1.5 * 2 ** 30],
    [1073741824, 1073741824],
    ['128974848', 128974848],
    ['100m', 1], // a milli-byte quantity rounds up to a byte
    ['', undefined],
    ['lots', undefined],
    ['-1Gi', undefined],
    [undefined, undefined],
  ];
  for (const [q, want] of cases) assert.is(memoryBytes(q), want, String(q));
});

test('CPU limits as CFS quota per 100 ms period, as the kubelet computes them', () => {
  const cases: Array<[string | number | undefined, number | undefined]> = [
    ['1', 100_000],
    [2, 200_000],
    ['500m', 50_000],
    ['250m', 25_000],
    ['1.5', 150_000],
    ['1m', 1_000], // the kubelet's smallest quota, 1 ms
    ['0', undefined],
    [undefined, undefined],
  ];
  for (const [q, want] of cases) assert.is(cpuQuotaUs(q), want, String(q));
});

test('a cgroup folder: the v1 hierarchy with the controller option, else the v2 mount', () => {
  const v1Cgroup = '4:memory:/process_api/abc\n3:cpuset:/\n0::/\n';
  const v1Mounts = [
    '30 25 0:26 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '31 25 0:27 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  ].join('\n');
  assert.equal(locateCgroup('memory', v1Cgroup, v1Mounts), {
    version: 1,
    dir: '/sys/fs/cgroup/memory/process_api/abc',
  });
  const v2Mounts = '29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate';
  assert.equal(locateCgroup('memory', '0::/user.slice/agent.scope\n', v2Mounts), {
    version: 2,
    dir: '/sys/fs/cgroup/user.slice/agent.scope',
  });
  // A container's own cgroup namespace: the mount's root is the path's prefix.
  const nested = '29 23 0:26 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw';
  assert.equal(locateCgroup('cpu', '0::/kubepods/pod1/c\n', nested), { version: 2, dir: '/sys/fs/cgroup/c' });
  assert.is(locateCgroup('memory', '0::/\n', ''), undefined, 'no cgroup filesystem mounted');
});

test.run();
