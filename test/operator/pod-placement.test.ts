// Every pod the operator creates — training Job, validation Job, serving Deployment (stable and
// canary), router Deployment — gets its pull secrets, ServiceAccount, node selection and pod
// security context from the resource's own fields over the operator's workload defaults.
// One table of placements, run through all four builders (built from the repository's examples).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type {
  InferenceService,
  ModelVersion,
  PodPlacement,
  TrainingRun,
  WorkloadDefaults,
} from '../../operator/api/index.js';
import { buildServingDeployment } from '../../operator/controllers/inferenceservice/builders.js';
import { buildValidationJob } from '../../operator/controllers/modelversion/job.js';
import { buildTrainingJob, NVIDIA_TOLERATION } from '../../operator/controllers/trainingrun/job.js';
import { buildRouterDeployment, routerName } from '../../operator/traffic/router.js';
import { loadExample } from '../support/invalid-manifests.js';

type PodSpec = Record<string, any>;
/** The pod template's spec of a Job or Deployment. */
const podOf = (obj: object): PodSpec => (obj as { spec: PodSpec }).spec.template.spec;
const example = <T>(kind: 'TrainingRun' | 'ModelVersion' | 'InferenceService'): T => {
  const obj = structuredClone(loadExample(kind)) as any;
  obj.metadata.namespace = 'ml';
  obj.metadata.uid = 'u1';
  return obj as T;
};

/** The four pod builders, each given the resource's placement where that kind keeps it. */
interface Builder {
  name: string;
  pod: (own: PodPlacement, defaults?: WorkloadDefaults) => PodSpec;
}
const builders: Builder[] = [
  {
    name: 'training Job',
    pod: (own, defaults) => {
      const run = example<TrainingRun>('TrainingRun');
      delete run.spec.nodeSelector;
      run.spec.resources = { gpus: 0 };
      Object.assign(run.spec, own);
      return podOf(buildTrainingJob(run, defaults));
    },
  },
  {
    name: 'validation Job',
    pod: (own, defaults) => {
      const mv = example<ModelVersion>('ModelVersion');
      mv.spec.validation = { ...mv.spec.validation, ...own };
      return podOf(buildValidationJob(mv, { workloadDefaults: defaults }));
    },
  },
  {
    name: 'serving Deployment',
    pod: (own, defaults) => {
      const isvc = example<InferenceService>('InferenceService');
      Object.assign(isvc.spec, own);
      return podOf(
        buildServingDeployment(isvc, 'canary', example<ModelVersion>('ModelVersion'), {
          servingImage: 's:1',
          workloadDefaults: defaults,
        }),
      );
    },
  },
  {
    name: 'router Deployment',
    pod: (own, defaults) => {
      const isvc = example<InferenceService>('InferenceService');
      Object.assign(isvc.spec, own);
      return podOf(buildRouterDeployment(isvc, { servingImage: 's:1', workloadDefaults: defaults }));
    },
  },
];

const DEFAULTS: WorkloadDefaults = {
  imagePullSecrets: [{ name: 'cluster-registry' }],
  nodeSelector: { 'kubernetes.io/os': 'linux', pool: 'general' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ml', effect: 'NoSchedule' }],
  affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } },
  podSecurityContext: { fsGroup: 65532, fsGroupChangePolicy: 'OnRootMismatch' },
};
const OWN: PodPlacement = {
  imagePullSecrets: [{ name: 'team-registry' }],
  serviceAccountName: 'team-workloads',
  nodeSelector: { pool: 'ml' },
  tolerations: [{ key: 'spot', operator: 'Exists' }],
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } },
  securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, supplementalGroups: [2000] },
};

interface Row {
  name: string;
  own: PodPlacement;
  defaults?: WorkloadDefaults;
  expect: (pod: PodSpec, builder: string) => void;
}
const rows: Row[] = [
  {
    name: 'no placement anywhere: restricted, with the built-in fsGroup so fresh claims are writable',
    own: {},
    expect: (pod, b) => {
      assert.is(pod.securityContext.runAsNonRoot, true);
      assert.equal(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
      assert.is(pod.securityContext.fsGroup, 65532);
      for (const f of ['imagePullSecrets', 'nodeSelector', 'tolerations', 'affinity']) assert.is(pod[f], undefined, f);
      if (b !== 'router Deployment') assert.is(pod.serviceAccountName, undefined);
    },
  },
  {
    name: 'operator defaults only',
    own: {},
    defaults: DEFAULTS,
    expect: (pod) => {
      assert.equal(pod.imagePullSecrets, [{ name: 'cluster-registry' }]);
      assert.equal(pod.nodeSelector, DEFAULTS.nodeSelector);
      assert.equal(pod.tolerations, DEFAULTS.tolerations);
      assert.equal(pod.affinity, DEFAULTS.affinity);
      assert.is(pod.securityContext.fsGroup, 65532);
      assert.is(pod.securityContext.fsGroupChangePolicy, 'OnRootMismatch');
    },
  },
  {
    name: 'the resource over the defaults',
    own: OWN,
    defaults: DEFAULTS,
    expect: (pod, b) => {
      assert.equal(pod.imagePullSecrets, [{ name: 'cluster-registry' }, { name: 'team-registry' }]);
      assert.equal(pod.nodeSelector, { 'kubernetes.io/os': 'linux', pool: 'ml' });
      assert.equal(pod.tolerations, [...OWN.tolerations!, ...DEFAULTS.tolerations!]);
      assert.equal(pod.affinity, { ...DEFAULTS.affinity, ...OWN.affinity });
      assert.equal(pod.securityContext, {
        runAsUser: 1000,
        runAsGroup: 1000,
        fsGroup: 1000,
        fsGroupChangePolicy: 'OnRootMismatch',
        supplementalGroups: [2000],
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      assert.is(
        pod.serviceAccountName,
        b === 'router Deployment' ? routerName(example<InferenceService>('InferenceService')) : 'team-workloads',
      );
    },
  },
];

for (const row of rows) {
  for (const b of builders) {
    test(`${b.name}: ${row.name}`, () => row.expect(b.pod(structuredClone(row.own), row.defaults), b.name));
  }
}

test("serving and router pods keep the serving image's UID unless the service sets another", () => {
  for (const b of builders.slice(2)) {
    assert.is(b.pod({}).securityContext.runAsUser, 65532, b.name);
    assert.is(b.pod({ securityContext: { runAsUser: 4242 } }).securityContext.runAsUser, 4242, b.name);
  }
});

test('the router keeps the ServiceAccount allowed to read its InferenceService', () => {
  const isvc = example<InferenceService>('InferenceService');
  isvc.spec.serviceAccountName = 'team-workloads';
  const pod = podOf(buildRouterDeployment(isvc, { servingImage: 's:1' }));
  assert.is(pod.serviceAccountName, routerName(isvc));
});

test('a GPU training run still gets the NVIDIA toleration next to its own and the defaults', () => {
  const run = example<TrainingRun>('TrainingRun');
  run.spec.resources = { gpus: 1 };
  run.spec.tolerations = [{ key: 'spot', operator: 'Exists' }];
  const pod = podOf(buildTrainingJob(run, DEFAULTS));
  assert.equal(pod.tolerations, [{ key: 'spot', operator: 'Exists' }, NVIDIA_TOLERATION, ...DEFAULTS.tolerations!]);
});

test('a training run keeps its priorityClassName next to the placement', () => {
  const run = example<TrainingRun>('TrainingRun');
  run.spec.priorityClassName = 'batch-low';
  assert.is(podOf(buildTrainingJob(run)).priorityClassName, 'batch-low');
});

test.run();
