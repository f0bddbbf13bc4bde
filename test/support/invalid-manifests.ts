// Invalid manifests of the three kinds, each derived from the matching valid example in
// examples/ by one small change, with the exact field path and message a Kubernetes 1.31 API
// server reports for it. Used against the dev cluster's schema engine (test/packaging/crds.test.ts) and
// against the dev cluster through the real kubectl (test/packaging/crds-kubectl.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';

export type Kind = 'TrainingRun' | 'ModelVersion' | 'InferenceService';
type Obj = Record<string, any>;

export interface InvalidCase {
  name: string;
  kind: Kind;
  /** Turns a copy of the valid example into the invalid manifest. */
  mutate: (obj: Obj) => void;
  /** For update rules (oldSelf): the change happens on update of the unchanged example. */
  update?: boolean;
  field: string;
  message: string;
}

const EXAMPLE_FILES: Record<Kind, string> = {
  TrainingRun: 'trainingrun.yaml',
  ModelVersion: 'modelversion.yaml',
  InferenceService: 'inferenceservice.yaml',
};

export function loadExample(kind: Kind, repo = process.cwd()): Obj {
  return yaml.load(readFileSync(join(repo, 'examples', EXAMPLE_FILES[kind]), 'utf8')) as Obj;
}

/** The invalid manifest of a case: a deep copy of its example with the mutation applied. */
export function buildInvalid(c: InvalidCase, repo = process.cwd()): Obj {
  const obj = structuredClone(loadExample(c.kind, repo));
  c.mutate(obj);
  return obj;
}

const DURATION = "'^([0-9]+(ms|s|m|h))+$'";
const URI = "'^[a-z][a-z0-9+.-]*://[^\\s]+$'";
const DNS_LABEL = "'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'";

export const invalidCases: InvalidCase[] = [
  // ---- TrainingRun ----
  {
    name: 'negative GPUs',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.resources.gpus = -1;
    },
    field: 'spec.resources.gpus',
    message: 'Invalid value: -1: spec.resources.gpus in body should be greater than or equal to 0',
  },
  {
    name: 'more GPUs than a node has',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.resources.gpus = 17;
    },
    field: 'spec.resources.gpus',
    message: 'Invalid value: 17: spec.resources.gpus in body should be less than or equal to 16',
  },
  {
    name: 'GPUs as a word',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.resources.gpus = 'two';
    },
    field: 'spec.resources.gpus',
    message: 'Invalid value: "string": spec.resources.gpus in body must be of type integer: "string"',
  },
  {
    name: 'missing model',
    kind: 'TrainingRun',
    mutate: (o) => {
      delete o.spec.model;
    },
    field: 'spec.model',
    message: 'Required value',
  },
  {
    name: 'model name that is not a DNS label',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.model = 'Face_Attributes';
    },
    field: 'spec.model',
    message: `Invalid value: "Face_Attributes": spec.model in body should match ${DNS_LABEL}`,
  },
  {
    name: 'model name too long for <model>-v<N>',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.model = 'm'.repeat(51);
    },
    field: 'spec.model',
    message: 'Too long: may not be longer than 50',
  },
  {
    name: 'hyperparameter name that is not an identifier',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.hyperparameters['learning-rate'] = '0.01';
    },
    field: 'spec.hyperparameters',
    message:
      'Invalid value: "object": hyperparameter names must be identifiers of at most 63 characters (letters, digits, underscores; not starting with a digit)',
  },
  {
    name: 'reserved HP_ environment variable',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.env.push({ name: 'HP_LR', value: '0.1' });
    },
    field: 'spec.env',
    message:
      'Invalid value: "array": env names starting with HP_ or MODELSHIP_ are reserved (set from hyperparameters and by the operator)',
  },
  {
    name: 'environment variable with value and valueFrom',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.env[0].valueFrom = { secretKeyRef: { name: 's', key: 'k' } };
    },
    field: 'spec.env[0]',
    message: 'Invalid value: "object": an environment variable sets either value or valueFrom, not both',
  },
  {
    name: 'valueFrom with two sources',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.env.push({
        name: 'TOKEN',
        valueFrom: { secretKeyRef: { name: 's', key: 'k' }, configMapKeyRef: { name: 'c', key: 'k' } },
      });
    },
    field: 'spec.env[1].valueFrom',
    message: 'Invalid value: "object": valueFrom sets exactly one of secretKeyRef, configMapKeyRef or fieldRef',
  },
  {
    name: 'duplicate environment variable',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.env.push({ name: 'GENERATE_DATA', value: '0' });
    },
    field: 'spec.env[1]',
    message: 'Duplicate value: map[string]interface {}{"name":"GENERATE_DATA"}',
  },
  {
    name: 'dataset location without a scheme',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.dataset.uri = '/data/faces';
    },
    field: 'spec.dataset.uri',
    message: `Invalid value: "/data/faces": spec.dataset.uri in body should match ${URI}`,
  },
  {
    name: 'dataset location with a scheme no step can read',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.dataset.uri = 'gs://bucket/faces';
    },
    field: 'spec.dataset',
    message: 'Invalid value: "object": uri: unsupported scheme; use pvc://, file://, s3:// or https://',
  },
  {
    name: 'output written to https',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.output.uri = 'https://models.example.com/faces';
    },
    field: 'spec.output',
    message: 'Invalid value: "object": uri: https:// is read-only; write the model to s3://, pvc:// or file://',
  },
  {
    name: 'missing output',
    kind: 'TrainingRun',
    mutate: (o) => {
      delete o.spec.output;
    },
    field: 'spec.output',
    message: 'Required value',
  },
  {
    name: 'nodeSelector key that is not a label key',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.nodeSelector['-gpu/type'] = 'a100';
    },
    field: 'spec.nodeSelector',
    message: `Invalid value: "object": nodeSelector keys must be label keys ([prefix/]name, name at most 63 characters of alphanumerics, '-', '_' or '.')`,
  },
  {
    name: 'label key that is not a qualified name',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.metadata.labels['-team'] = 'vision';
    },
    field: 'metadata.labels',
    message:
      `Invalid value: "-team": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character ` +
      `(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
  },
  {
    name: 'label value with a space',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.metadata.labels.team = 'computer vision';
    },
    field: 'metadata.labels',
    message:
      `Invalid value: "computer vision": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character ` +
      `(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
  },
  {
    name: 'CPU that is not a quantity',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.resources.cpu = 'lots';
    },
    field: 'spec.resources.cpu',
    message:
      'Invalid value: "lots": spec.resources.cpu in body should match ' +
      "'^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$'",
  },
  {
    name: 'toleration Exists with a value',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.tolerations = [{ key: 'gpu', operator: 'Exists', value: 'yes' }];
    },
    field: 'spec.tolerations[0]',
    message: 'Invalid value: "object": a toleration with operator Exists must not set a value',
  },
  {
    name: 'negative backoffLimit',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.backoffLimit = -1;
    },
    field: 'spec.backoffLimit',
    message: 'Invalid value: -1: spec.backoffLimit in body should be greater than or equal to 0',
  },
  {
    name: 'unknown image pull policy',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.imagePullPolicy = 'Sometimes';
    },
    field: 'spec.imagePullPolicy',
    message: 'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
  },
  {
    name: 'pod running as root',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.securityContext = { runAsUser: 0 };
    },
    field: 'spec.securityContext',
    message: 'Invalid value: "object": securityContext.runAsUser must not be 0 (root); pods run as non-root',
  },
  {
    name: 'runAsNonRoot false',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.securityContext = { runAsNonRoot: false, runAsUser: 1000 };
    },
    field: 'spec.securityContext',
    message: 'Invalid value: "object": securityContext.runAsNonRoot cannot be false; pods run as non-root',
  },
  {
    name: 'negative fsGroup',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.securityContext = { fsGroup: -1 };
    },
    field: 'spec.securityContext.fsGroup',
    message: 'Invalid value: -1: spec.securityContext.fsGroup in body should be greater than or equal to 0',
  },
  {
    name: 'unknown fsGroupChangePolicy',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.securityContext = { fsGroupChangePolicy: 'Never' };
    },
    field: 'spec.securityContext.fsGroupChangePolicy',
    message: 'Unsupported value: "Never": supported values: "OnRootMismatch", "Always"',
  },
  {
    name: 'image pull secret without a name',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.imagePullSecrets = [{}];
    },
    field: 'spec.imagePullSecrets[0].name',
    message: 'Required value',
  },
  {
    name: 'image pull secret name that is not a DNS name',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.imagePullSecrets = [{ name: 'Reg_Cred' }];
    },
    field: 'spec.imagePullSecrets[0].name',
    message: `Invalid value: "Reg_Cred": spec.imagePullSecrets[0].name in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'`,
  },
  {
    name: 'node affinity that is not an object',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.affinity = { nodeAffinity: 'gpu' };
    },
    field: 'spec.affinity.nodeAffinity',
    message: 'Invalid value: "string": spec.affinity.nodeAffinity in body must be of type object: "string"',
  },
  {
    name: 'validation pod running as root',
    kind: 'TrainingRun',
    mutate: (o) => {
      o.spec.registration.validation = { securityContext: { runAsUser: 0 } };
    },
    field: 'spec.registration.validation.securityContext',
    message: 'Invalid value: "object": securityContext.runAsUser must not be 0 (root); pods run as non-root',
  },
  // ---- ModelVersion ----
  {
    name: 'spec change on a ModelVersion',
    kind: 'ModelVersion',
    update: true,
    mutate: (o) => {
      o.spec.metrics.accuracy = 0.99;
    },
    field: 'spec',
    message: 'Invalid value: "object": spec is immutable; register a new ModelVersion instead',
  },
  {
    name: 'ModelVersion name that does not match model and version',
    kind: 'ModelVersion',
    mutate: (o) => {
      o.metadata.name = 'face-attributes-latest';
    },
    field: '<nil>',
    message:
      'Invalid value: "object": a ModelVersion must be named <spec.model>-v<spec.version>, which keeps each version of a model unique',
  },
  {
    name: 'version zero',
    kind: 'ModelVersion',
    mutate: (o) => {
      o.spec.version = 0;
      o.metadata.name = 'face-attributes-v0';
    },
    field: 'spec.version',
    message: 'Invalid value: 0: spec.version in body should be greater than or equal to 1',
  },
  {
    name: 'unsupported model format',
    kind: 'ModelVersion',
    mutate: (o) => {
      o.spec.format = 'pickle';
    },
    field: 'spec.format',
    message: 'Unsupported value: "pickle": supported values: "onnx"',
  },
  {
    name: 'digest that is not sha256',
    kind: 'ModelVersion',
    mutate: (o) => {
      o.spec.artifact.digest = 'md5:abc';
    },
    field: 'spec.artifact.digest',
    message: 'Invalid value: "md5:abc": spec.artifact.digest in body should match \'^sha256:[a-f0-9]{64}$\'',
  },
  {
    name: 'skew tolerance above 1',
    kind: 'ModelVersion',
    mutate: (o) => {
      o.spec.validation.skewTolerance = 1.5;
    },
    field: 'spec.validation.skewTolerance',
    message: 'Invalid value: 1.5: spec.validation.skewTolerance in body should be less than or equal to 1',
  },
  {
    name: 'credentials for a claim',
    kind: 'ModelVersion',
    mutate: (o) => {
      o.spec.artifact.secretRef = { name: 'models-s3' };
    },
    field: 'spec.artifact',
    message: 'Invalid value: "object": secretRef applies to s3:// locations only',
  },
  {
    name: 'missing artifact',
    kind: 'ModelVersion',
    mutate: (o) => {
      delete o.spec.artifact;
    },
    field: 'spec.artifact',
    message: 'Required value',
  },
  {
    name: 'validation pod running as root',
    kind: 'ModelVersion',
    mutate: (o) => {
      o.spec.validation.securityContext = { runAsUser: 0 };
    },
    field: 'spec.validation.securityContext',
    message: 'Invalid value: "object": securityContext.runAsUser must not be 0 (root); pods run as non-root',
  },
  {
    name: 'validation toleration Exists with a value',
    kind: 'ModelVersion',
    mutate: (o) => {
      o.spec.validation.tolerations = [{ key: 'pool', operator: 'Exists', value: 'ml' }];
    },
    field: 'spec.validation.tolerations[0]',
    message: 'Invalid value: "object": a toleration with operator Exists must not set a value',
  },
  // ---- InferenceService ----
  {
    name: 'canary weights not increasing',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.canary.steps = [10, 50, 25];
    },
    field: 'spec.canary.steps',
    message: 'Invalid value: "array": canary.steps weights must be strictly increasing',
  },
  {
    name: 'canary weight repeated',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.canary.steps = [10, 10, 50];
    },
    field: 'spec.canary.steps',
    message: 'Invalid value: "array": canary.steps weights must be strictly increasing',
  },
  {
    name: 'canary weight 0',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.canary.steps = [0, 50];
    },
    field: 'spec.canary.steps[0]',
    message: 'Invalid value: 0: spec.canary.steps[0] in body should be greater than or equal to 1',
  },
  {
    name: 'no canary steps',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.canary.steps = [];
    },
    field: 'spec.canary.steps',
    message: 'Invalid value: 0: spec.canary.steps in body should have at least 1 items',
  },
  {
    name: 'unknown traffic provider',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.traffic.provider = 'istio';
    },
    field: 'spec.traffic.provider',
    message: 'Unsupported value: "istio": supported values: "router", "gateway-api"',
  },
  {
    name: 'gateway-api provider without parentRefs',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.traffic.provider = 'gateway-api';
    },
    field: 'spec.traffic',
    message: 'Invalid value: "object": traffic.gateway.parentRefs is required when traffic.provider is gateway-api',
  },
  {
    name: 'bad duration',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.canary.interval = '5 minutes';
    },
    field: 'spec.canary.interval',
    message: `Invalid value: "5 minutes": spec.canary.interval in body should match ${DURATION}`,
  },
  {
    name: 'progress deadline too short for one analysis per step',
    kind: 'InferenceService',
    mutate: (o) => {
      // 3 steps of 10m cannot finish within 30m: the canary could never be promoted.
      o.spec.canary.interval = '10m';
      o.spec.canary.steps = [10, 25, 50];
      o.spec.canary.progressDeadline = '30m';
    },
    field: 'spec.canary',
    message:
      'Invalid value: "object": canary.progressDeadline must be longer than canary.interval times the number of canary.steps (each step needs at least one analysis), or the canary could never be promoted',
  },
  {
    name: 'a canary step of 100 %',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.canary.steps = [50, 100];
    },
    field: 'spec.canary.steps',
    message:
      'Invalid value: "array": canary.steps must stay below 100 — at 100 % the stable version serves nothing, so there is no baseline to compare the canary with; the canary is promoted after the last step passes',
  },
  {
    name: 'minFeedback of 0',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.canary.minFeedback = 0;
    },
    field: 'spec.canary.minFeedback',
    message: 'Invalid value: 0: spec.canary.minFeedback in body should be greater than or equal to 1',
  },
  {
    name: 'missing model',
    kind: 'InferenceService',
    mutate: (o) => {
      delete o.spec.model;
      delete o.spec.retrain;
    },
    field: 'spec.model',
    message: 'Required value',
  },
  {
    name: 'drift warn not below critical',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.monitoring.drift.warn = 0.3;
    },
    field: 'spec.monitoring.drift',
    message: 'Invalid value: "object": monitoring.drift.warn must be less than monitoring.drift.critical',
  },
  {
    name: 'accuracy critical not below warn',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.monitoring.accuracy.critical = 0.9;
    },
    field: 'spec.monitoring.accuracy',
    message:
      'Invalid value: "object": monitoring.accuracy.critical must be less than monitoring.accuracy.warn (lower accuracy is worse)',
  },
  {
    name: 'minimum accuracy 1.5',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.canary.checks.accuracy.min = 1.5;
    },
    field: 'spec.canary.checks.accuracy.min',
    message: 'Invalid value: 1.5: spec.canary.checks.accuracy.min in body should be less than or equal to 1',
  },
  {
    name: 'confidence level too low to mean anything',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.canary.checks.accuracy.confidence = 0.3;
    },
    field: 'spec.canary.checks.accuracy.confidence',
    message:
      'Invalid value: 0.3: spec.canary.checks.accuracy.confidence in body should be greater than or equal to 0.5',
  },
  {
    name: 'retrain trigger without a template',
    kind: 'InferenceService',
    mutate: (o) => {
      delete o.spec.retrain.template;
    },
    field: 'spec.retrain',
    message:
      'Invalid value: "object": retrain.template is required when a retrain trigger (onDrift, onAccuracyBelow or schedule) is set',
  },
  {
    name: 'shadow phase without the router',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.traffic = { provider: 'gateway-api', gateway: { parentRefs: [{ name: 'gw' }] } };
      o.spec.canary.shadow = {};
    },
    field: 'spec',
    message:
      'Invalid value: "object": canary.shadow needs traffic.provider router: only the Modelship router joins the shadow\'s answers to stable\'s and scores them with feedback (an HTTPRoute can copy requests but never sees the answers); remove canary.shadow or use the router',
  },
  {
    name: 'shadow duration not a duration',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.canary.shadow = { duration: 'ten minutes' };
    },
    field: 'spec.canary.shadow.duration',
    message: `Invalid value: "ten minutes": spec.canary.shadow.duration in body should match ${DURATION}`,
  },
  {
    name: 'retrain template for another model',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.retrain.template.model = 'other-model';
    },
    field: 'spec',
    message:
      'Invalid value: "object": retrain.template.model must equal spec.model, so that retrained versions are canaried by this service',
  },
  {
    name: 'retrain template validated like a TrainingRun',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.retrain.template.resources.gpus = -2;
    },
    field: 'spec.retrain.template.resources.gpus',
    message: 'Invalid value: -2: spec.retrain.template.resources.gpus in body should be greater than or equal to 0',
  },
  {
    name: 'retrain schedule that is not cron',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.retrain.schedule = 'every day';
    },
    field: 'spec.retrain.schedule',
    message:
      'Invalid value: "every day": spec.retrain.schedule in body should match \'^(@(yearly|annually|monthly|weekly|daily|hourly)|(\\S+\\s+){4}\\S+)$\'',
  },
  {
    name: 'autoscaling minReplicas above maxReplicas',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.autoscaling = { minReplicas: 5, maxReplicas: 2 };
    },
    field: 'spec.autoscaling',
    message: 'Invalid value: "object": autoscaling.minReplicas must be less than or equal to maxReplicas',
  },
  {
    name: 'Prometheus address without a scheme',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.prometheus = { address: 'prometheus:9090' };
    },
    field: 'spec.prometheus.address',
    message:
      'Invalid value: "prometheus:9090": spec.prometheus.address in body should match \'^https?://[^\\s/]+(/[^\\s]*)?$\'',
  },
  {
    name: 'serving pods running as root',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.securityContext = { runAsUser: 0 };
    },
    field: 'spec.securityContext',
    message: 'Invalid value: "object": securityContext.runAsUser must not be 0 (root); pods run as non-root',
  },
  {
    name: 'serving nodeSelector key that is not a label key',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.nodeSelector = { '-pool': 'serving' };
    },
    field: 'spec.nodeSelector',
    message: `Invalid value: "object": nodeSelector keys must be label keys ([prefix/]name, name at most 63 characters of alphanumerics, '-', '_' or '.')`,
  },
  {
    name: 'serving ServiceAccount that is not a DNS name',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.serviceAccountName = 'Serving Account';
    },
    field: 'spec.serviceAccountName',
    message: `Invalid value: "Serving Account": spec.serviceAccountName in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'`,
  },
  {
    name: 'too many supplemental groups',
    kind: 'InferenceService',
    mutate: (o) => {
      o.spec.securityContext = { supplementalGroups: Array.from({ length: 33 }, (_, i) => 1000 + i) };
    },
    field: 'spec.securityContext.supplementalGroups',
    message: 'Too many: 33: must have at most 32 items',
  },
];
