// The three prometheus-operator kinds the dev cluster serves (monitoring.coreos.com/v1), so
// that charts with monitors and rules install as they would on a cluster running
// kube-prometheus-stack. The schemas type the fields the dev cluster's generator reads
// (monitors.ts) and keep the rest, like the upstream CRDs' many other fields, unvalidated.
const selector = {
  type: 'object',
  properties: {
    matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'operator'],
        properties: {
          key: { type: 'string' },
          operator: { type: 'string', enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
          values: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
  'x-kubernetes-map-type': 'atomic',
};

const namespaceSelector = {
  type: 'object',
  properties: { any: { type: 'boolean' }, matchNames: { type: 'array', items: { type: 'string' } } },
};

const duration = {
  type: 'string',
  pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$',
};

const relabelings = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      action: {
        type: 'string',
        enum: [
          'replace',
          'Replace',
          'keep',
          'Keep',
          'drop',
          'Drop',
          'hashmod',
          'HashMod',
          'labelmap',
          'LabelMap',
          'labeldrop',
          'LabelDrop',
          'labelkeep',
          'LabelKeep',
          'lowercase',
          'Lowercase',
          'uppercase',
          'Uppercase',
          'keepequal',
          'KeepEqual',
          'dropequal',
          'DropEqual',
        ],
      },
      sourceLabels: { type: 'array', items: { type: 'string' } },
      separator: { type: 'string' },
      targetLabel: { type: 'string' },
      regex: { type: 'string' },
      modulus: { type: 'integer' },
      replacement: { type: 'string' },
    },
  },
};

const endpointCommon = {
  path: { type: 'string' },
  scheme: { type: 'string', enum: ['http', 'https', 'HTTP', 'HTTPS'] },
  interval: duration,
  scrapeTimeout: duration,
  honorLabels: { type: 'boolean' },
  honorTimestamps: { type: 'boolean' },
  filterRunning: { type: 'boolean' },
  params: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
  relabelings,
  metricRelabelings: relabelings,
  targetPort: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
};

function crd(kind: string, plural: string, shortNames: string[], spec: object): object {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.monitoring.coreos.com`, labels: { 'app.kubernetes.io/part-of': 'devcluster' } },
    spec: {
      group: 'monitoring.coreos.com',
      scope: 'Namespaced',
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular: kind.toLowerCase(),
        shortNames,
        categories: ['prometheus-operator'],
      },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec,
              },
            },
          },
        },
      ],
    },
  };
}

export const MONITORING_CRDS: object[] = [
  crd('PodMonitor', 'podmonitors', ['pmon'], {
    type: 'object',
    required: ['selector'],
    'x-kubernetes-preserve-unknown-fields': true,
    properties: {
      selector,
      namespaceSelector,
      jobLabel: { type: 'string' },
      podTargetLabels: { type: 'array', items: { type: 'string' } },
      sampleLimit: { type: 'integer', minimum: 0 },
      podMetricsEndpoints: {
        type: 'array',
        items: {
          type: 'object',
          'x-kubernetes-preserve-unknown-fields': true,
          properties: {
            ...endpointCommon,
            port: { type: 'string', minLength: 1 },
            portNumber: { type: 'integer', minimum: 1, maximum: 65535 },
          },
        },
      },
    },
  }),
  crd('ServiceMonitor', 'servicemonitors', ['smon'], {
    type: 'object',
    required: ['selector'],
    'x-kubernetes-preserve-unknown-fields': true,
    properties: {
      selector,
      namespaceSelector,
      jobLabel: { type: 'string' },
      targetLabels: { type: 'array', items: { type: 'string' } },
      podTargetLabels: { type: 'array', items: { type: 'string' } },
      sampleLimit: { type: 'integer', minimum: 0 },
      endpoints: {
        type: 'array',
        items: {
          type: 'object',
          'x-kubernetes-preserve-unknown-fields': true,
          properties: { ...endpointCommon, port: { type: 'string' } },
        },
      },
    },
  }),
  crd('PrometheusRule', 'prometheusrules', ['promrule'], {
    type: 'object',
    properties: {
      groups: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name'],
          'x-kubernetes-preserve-unknown-fields': true,
          properties: {
            name: { type: 'string', minLength: 1 },
            interval: duration,
            rules: {
              type: 'array',
              items: {
                type: 'object',
                required: ['expr'],
                properties: {
                  alert: { type: 'string' },
                  record: { type: 'string' },
                  expr: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
                  for: duration,
                  keep_firing_for: duration,
                  labels: { type: 'object', additionalProperties: { type: 'string' } },
                  annotations: { type: 'object', additionalProperties: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
  }),
];
