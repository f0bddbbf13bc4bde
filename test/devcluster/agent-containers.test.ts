// Pods run as containers (hack/devcluster/agent/sandbox.ts): a program finds its volumes at
// their mountPaths, a read-only root refuses writes, processes run as their runAsUser,
// runAsNonRoot refuses UID 0 as the kubelet does, fsGroup makes a fresh claim writable (and
// without it a non-root user cannot write there), memory and CPU limits are enforced (OOMKilled,
// CFS quota), and exec probes run inside the container.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { eventually, kubectlOk } from './helpers.js';

let cluster: TestCluster;
const kubectl = (args: string[], input?: string) => kubectlOk(cluster, args, input);

test.before(async () => {
  cluster = await startTestCluster({ agent: true });
});

test.after(async () => {
  await cluster?.stop();
});

/** A one-shot pod running `script` in busybox; resolves with its terminated state. */
async function runPod(
  name: string,
  script: string,
  spec: { podSecurity?: object; security?: object; volumes?: object[]; mounts?: object[]; resources?: object } = {},
): Promise<any> {
  await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: {
        restartPolicy: 'Never',
        ...(spec.podSecurity ? { securityContext: spec.podSecurity } : {}),
        ...(spec.volumes ? { volumes: spec.volumes } : {}),
        containers: [
          {
            name: 'c',
            image: 'busybox',
            command: ['sh', '-c', script],
            ...(spec.security ? { securityContext: spec.security } : {}),
            ...(spec.mounts ? { volumeMounts: spec.mounts } : {}),
            ...(spec.resources ? { resources: spec.resources } : {}),
          },
        ],
      },
    }),
  );
  return eventually(
    `${name} to finish`,
    async () => {
      const s = JSON.parse(await kubectl(['get', 'pod', name, '-o', 'json'])).status;
      return s.containerStatuses?.[0]?.state?.terminated;
    },
    30_000,
  );
}

async function claim(name: string): Promise<string> {
  await kubectl(
    ['apply', '-f', '-'],
    `{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"${name}"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}`,
  );
  return join(cluster.dir, 'volumes', 'pvc', 'default', name);
}

test('a program finds its volume at the mountPath; nothing is written at that path on the host', async () => {
  const dir = await claim('data');
  const t = await runPod('mounts', 'echo hi > /work/data/out.txt && cat /work/data/out.txt > /dev/termination-log', {
    volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }],
    mounts: [{ name: 'd', mountPath: '/work/data' }],
  });
  assert.equal([t.exitCode, t.message], [0, 'hi\n']);
  assert.is(readFileSync(join(dir, 'out.txt'), 'utf8'), 'hi\n');
  assert.not.ok(existsSync('/work/data/out.txt'));
});

test('readOnlyRootFilesystem refuses writes to the root and /tmp; volumes stay writable', async () => {
  const t = await runPod(
    'readonly',
    'touch /x 2>/tmp/err; touch /tmp/y 2>>/dev/termination-log; touch /scratch/z && echo " scratch-ok" >> /dev/termination-log',
    {
      security: { readOnlyRootFilesystem: true },
      volumes: [{ name: 's', emptyDir: {} }],
      mounts: [{ name: 's', mountPath: '/scratch' }],
    },
  );
  assert.match(t.message, /Read-only file system/);
  assert.match(t.message, /scratch-ok/);
  const writable = await runPod('writable', 'touch /x && touch /tmp/y && echo ok > /dev/termination-log');
  assert.equal([writable.exitCode, writable.message], [0, 'ok\n'], 'without it the root is a writable layer');
});

test('processes run as runAsUser / runAsGroup, with fsGroup and supplementalGroups', async () => {
  const t = await runPod('ids', 'id > /dev/termination-log', {
    podSecurity: { runAsUser: 1234, runAsGroup: 2345, fsGroup: 3456, supplementalGroups: [4567] },
  });
  assert.match(t.message, /^uid=1234 gid=2345 groups=2345,3456,4567\b/);
});

test('runAsNonRoot with UID 0 is refused: Waiting CreateContainerConfigError, nothing runs', async () => {
  await kubectl(
    ['apply', '-f', '-'],
    '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"rootless"},"spec":{"securityContext":{"runAsNonRoot":true},"containers":[{"name":"c","image":"busybox","command":["sleep","60"]}]}}',
  );
  const waiting = await eventually(
    'CreateContainerConfigError',
    async () => {
      const s = JSON.parse(await kubectl(['get', 'pod', 'rootless', '-o', 'json'])).status;
      const w = s.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerConfigError' ? w : undefined;
    },
    20_000,
  );
  assert.match(waiting.message, /^container has runAsNonRoot and image will run as root \(pod: "rootless_default\(/);
  const events = await kubectl([
    'get',
    'events',
    '--field-selector',
    'involvedObject.name=rootless',
    '-o',
    'jsonpath={.items[*].message}',
  ]);
  assert.match(events, /Error: container has runAsNonRoot and image will run as root/);
});

test('a fresh claim is root-owned: a non-root user cannot write it without fsGroup, can with it', async () => {
  const denied = await claim('fresh-a');
  const t1 = await runPod('no-fsgroup', 'touch /data/f 2> /dev/termination-log', {
    podSecurity: { runAsUser: 65532, runAsNonRoot: true },
    volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'fresh-a' } }],
    mounts: [{ name: 'd', mountPath: '/data' }],
  });
  assert.is(t1.exitCode, 1);
  assert.match(t1.message, /Permission denied/);
  assert.not.ok(existsSync(join(denied, 'f')));
  const allowed = await claim('fresh-b');
  const t2 = await runPod(
    'with-fsgroup',
    'mkdir /data/out && touch /data/out/f && touch /run1/g && echo ok > /dev/termination-log',
    {
      podSecurity: { runAsUser: 65532, runAsNonRoot: true, fsGroup: 65532 },
      volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'fresh-b' } }],
      // A missing subPath is created with the volume root's owner and mode, so it is group-writable too.
      mounts: [
        { name: 'd', mountPath: '/data' },
        { name: 'd', mountPath: '/run1', subPath: 'runs/r1' },
      ],
    },
  );
  assert.equal([t2.exitCode, t2.message], [0, 'ok\n']);
  const st = statSync(allowed);
  assert.equal(
    [st.gid, (st.mode & 0o2070).toString(8)],
    [65532, '2070'],
    'the claim root: group fsGroup, g+rwx and setgid',
  );
  assert.is(statSync(join(allowed, 'out', 'f')).gid, 65532, 'new files inherit the group');
  assert.ok(existsSync(join(allowed, 'runs', 'r1', 'g')), 'written through the subPath mount');
});

test('a container past its memory limit is OOMKilled (exit 137); within it, it runs', async () => {
  const limits = { limits: { memory: '64Mi' } };
  // dd fills a buffer of bs bytes: 256 MiB cannot fit a 64 MiB limit, 8 MiB can.
  const within = await runPod('mem-ok', 'dd if=/dev/zero of=/dev/null bs=8M count=2', { resources: limits });
  assert.equal([within.reason, within.exitCode], ['Completed', 0]);
  const past = await runPod('mem-hog', 'dd if=/dev/zero of=/dev/null bs=256M count=1', { resources: limits });
  assert.equal([past.reason, past.exitCode], ['OOMKilled', 137]);
  const unlimited = await runPod('mem-free', 'dd if=/dev/zero of=/dev/null bs=256M count=1');
  assert.equal([unlimited.reason, unlimited.exitCode], ['Completed', 0], 'no limit, no kill');
});

/** Seconds of CPU (user + system) of the children, from the shell's `times` output. */
function childCpuSeconds(times: string): number {
  const [, children] = times.trim().split('\n');
  return [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
}

test('a CPU limit is a CFS quota: a busy loop under 100m gets at most a tenth of a core', async () => {
  const busy = "timeout 3 sh -c 'while :; do :; done'; times > /dev/termination-log";
  const limited = await runPod('cpu-capped', busy, { resources: { limits: { cpu: '100m' } } });
  const cpu = childCpuSeconds(limited.message);
  // 3 s at 100m is 0.3 s of CPU; the quota is a hard cap (unlimited, the loop gets a core).
  assert.ok(cpu <= 0.45, `a 100m container used ${cpu} s of CPU in 3 s: ${limited.message}`);
  assert.ok(cpu > 0.1, `it still ran: ${cpu} s`);
});

test('exec probes run inside the container (its files, its user)', async () => {
  await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'probed' },
      spec: {
        securityContext: { runAsUser: 4321 },
        containers: [
          {
            name: 'c',
            image: 'busybox',
            command: ['sh', '-c', 'touch /tmp/ready; sleep 60'],
            readinessProbe: {
              exec: { command: ['sh', '-c', 'test -f /tmp/ready && test "$(id -u)" = 4321'] },
              periodSeconds: 1,
            },
          },
        ],
      },
    }),
  );
  await kubectl(['wait', '--for=condition=Ready', 'pod/probed', '--timeout=20s']);
});

test.run();
