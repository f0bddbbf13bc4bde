// The container plan (hack/devcluster/agent/sandbox.ts): identity with the kubelet's
// runAsNonRoot refusals, volumes at their mountPaths (read-only where upstream mounts them so),
// the base image as layers, and the runtime's command line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ContainerConfigError } from '../../hack/devcluster/agent/container-spec.js';
import {
  containerIdentity,
  execInContainer,
  sandboxArgv,
  sandboxPlan,
  volumeBinds,
} from '../../hack/devcluster/agent/sandbox.js';

const pod = (podSc: object = {}, volumes: object[] = []) => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
  spec: { securityContext: podSc, volumes },
});

const identities: Array<
  [string, object, object, string | undefined, { uid: number; gid: number; groups: number[] } | RegExp]
> = [
  ['image default user (Docker: root)', {}, {}, undefined, { uid: 0, gid: 0, groups: [] }],
  ['image USER 65532:65532', {}, {}, '65532:65532', { uid: 65532, gid: 65532, groups: [] }],
  [
    'pod runAsUser over the image; the image group only for the image user',
    { runAsUser: 1000 },
    {},
    '65532:65532',
    { uid: 1000, gid: 0, groups: [] },
  ],
  [
    'container over pod; runAsGroup; fsGroup and supplementalGroups as groups',
    { runAsUser: 1000, runAsGroup: 2000, fsGroup: 3000, supplementalGroups: [4000, 3000] },
    { runAsUser: 1001 },
    undefined,
    { uid: 1001, gid: 2000, groups: [3000, 4000] },
  ],
  [
    'runAsNonRoot with a non-root image user',
    { runAsNonRoot: true },
    {},
    '65532',
    { uid: 65532, gid: 65532, groups: [] },
  ],
  [
    'runAsNonRoot with runAsUser 0',
    { runAsNonRoot: true, runAsUser: 0 },
    {},
    '65532',
    /^container's runAsUser breaks non-root policy \(pod: "p_ns\(u1\)", container: c\)$/,
  ],
  [
    'runAsNonRoot with a root image',
    {},
    { runAsNonRoot: true },
    undefined,
    /^container has runAsNonRoot and image will run as root \(pod: "p_ns\(u1\)", container: c\)$/,
  ],
  [
    'runAsNonRoot with a named image user',
    { runAsNonRoot: true },
    {},
    'nonroot',
    /^container has runAsNonRoot and image has non-numeric user \(nonroot\), cannot verify user is non-root/,
  ],
];

for (const [name, podSc, sc, user, want] of identities) {
  test(`identity: ${name}`, () => {
    const run = () => containerIdentity(pod(podSc), { name: 'c', securityContext: sc }, { user });
    if (want instanceof RegExp)
      assert.throws(run, (e: unknown) => e instanceof ContainerConfigError && want.test((e as Error).message));
    else assert.equal(run(), want);
  });
}

test('volumes: bound at their mountPath with subPath; secrets, configMaps, projected and read-only claims read-only', () => {
  const p = pod({}, [
    { name: 'data', persistentVolumeClaim: { claimName: 'store' } },
    { name: 'models', persistentVolumeClaim: { claimName: 'm', readOnly: true } },
    { name: 'cfg', configMap: { name: 'c' } },
    { name: 'token', projected: { sources: [] } },
    { name: 'scratch', emptyDir: {} },
  ]);
  const dirs = new Map([
    ['data', '/d/pvc/store'],
    ['models', '/d/pvc/m'],
    ['cfg', '/d/pods/u1/cfg'],
    ['token', '/d/pods/u1/token'],
    ['scratch', '/d/pods/u1/scratch'],
  ]);
  const binds = volumeBinds(
    p,
    {
      volumeMounts: [
        { name: 'data', mountPath: '/data', subPath: 'run-1' },
        { name: 'models', mountPath: '/models' },
        { name: 'cfg', mountPath: '/etc/cfg' },
        { name: 'token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
        { name: 'scratch', mountPath: '/tmp/work', readOnly: true },
      ],
    },
    dirs,
  );
  assert.equal(
    binds.map((b) => [b.source, b.target, b.readOnly]),
    [
      ['/d/pvc/store/run-1', '/data', false],
      ['/d/pvc/m', '/models', true],
      ['/d/pods/u1/cfg', '/etc/cfg', true],
      ['/d/pods/u1/token', '/var/run/secrets/kubernetes.io/serviceaccount', true],
      ['/d/pods/u1/scratch', '/tmp/work', true],
    ],
  );
  assert.throws(
    () => volumeBinds(p, { volumeMounts: [{ name: 'nope', mountPath: '/x' }] }, dirs),
    /volumeMount "nope" refers to no volume/,
  );
});

test('plan and command line: base image and repository (at /app) as layers, read-only root, user, workdir', () => {
  const plan = sandboxPlan({
    pod: pod({ fsGroup: 65532 }),
    container: { name: 'c', securityContext: { readOnlyRootFilesystem: true, runAsUser: 65532 } },
    image: { user: '65532:65532' },
    root: '/d/pods/u1/rootfs/c',
    repoRoot: '/repo',
    hostDirs: new Map(),
    terminationFile: '/d/pods/u1/containers/c/termination-log',
    extraFiles: [{ source: '/d/node-agent/hosts.json', target: '/var/run/devcluster/hosts.json' }],
    imageWorkdir: '/app',
    base: { layers: [{ source: '/usr', target: '/usr' }], links: [{ target: 'usr/bin', path: '/bin' }] },
  });
  assert.equal(sandboxArgv('/bin/sandbox', plan, ['node', 'main.js']), [
    '/bin/sandbox',
    '--root',
    '/d/pods/u1/rootfs/c',
    '--layer',
    '/usr',
    '/usr',
    '--layer',
    '/repo',
    '/app',
    '--link',
    'usr/bin',
    '/bin',
    '--bind',
    '/d/node-agent/hosts.json',
    '/var/run/devcluster/hosts.json',
    'ro',
    '--bind',
    '/d/pods/u1/containers/c/termination-log',
    '/dev/termination-log',
    'rw',
    '--read-only-root',
    '--user',
    '65532',
    '--group',
    '65532',
    '--groups',
    '65532',
    '--workdir',
    '/app',
    '--',
    'node',
    'main.js',
  ]);
  assert.equal(execInContainer(42, plan).slice(0, 6), [
    '/usr/bin/nsenter',
    '--target=42',
    '--mount',
    '--root',
    '--wd',
    '--',
  ]);
});

test.run();
