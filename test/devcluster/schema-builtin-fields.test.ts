// pruneBuiltin: fields a built-in Go type does not have are dropped and reported with their paths.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pruneBuiltin } from '../../hack/devcluster/schema/builtin-fields.js';

interface Case {
  name: string;
  apiVersion: string;
  kind: string;
  obj: any;
  expectUnknown: string[];
  expectAfter?: any;
}

const cases: Case[] = [
  {
    name: 'typos at every depth of a Deployment, maps and quantities untouched',
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    obj: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' }, lables: { x: 'y' } },
      spec: {
        replicass: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'c',
                imagee: 'x',
                resources: { limits: { cpu: '1', 'nvidia.com/gpu': '1' } },
                ports: [{ containerPort: 80, hostnam: 'h' }],
              },
            ],
          },
        },
      },
    },
    expectUnknown: [
      '.metadata.lables',
      '.spec.replicass',
      '.spec.template.spec.containers[0].imagee',
      '.spec.template.spec.containers[0].ports[0].hostnam',
    ],
    expectAfter: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              { name: 'c', resources: { limits: { cpu: '1', 'nvidia.com/gpu': '1' } }, ports: [{ containerPort: 80 }] },
            ],
          },
        },
      },
    },
  },
  {
    name: 'a valid Service keeps everything (targetPort is int-or-string)',
    apiVersion: 'v1',
    kind: 'Service',
    obj: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's' },
      spec: {
        clusterIP: '127.96.0.1',
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
        selector: { app: 'web' },
      },
    },
    expectUnknown: [],
  },
  {
    name: 'core and events.k8s.io Events are different types',
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    obj: { regarding: { kind: 'Pod', name: 'p' }, reason: 'Started', note: 'ok', involvedObject: { kind: 'Pod' } },
    expectUnknown: ['.involvedObject'],
  },
  {
    name: 'a CRD: JSONSchemaProps fields are known, default values are opaque',
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    obj: {
      spec: {
        versions: [
          {
            name: 'v1',
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  a: { type: 'object', default: { any: 1 }, 'x-kubernetes-preserve-unknown-fields': true, typo: 1 },
                },
              },
            },
          },
        ],
      },
    },
    expectUnknown: ['.spec.versions[0].schema.openAPIV3Schema.properties.a.typo'],
  },
  {
    name: 'kinds without a model are left alone',
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    obj: { spec: { anything: 1 } },
    expectUnknown: [],
    expectAfter: { spec: { anything: 1 } },
  },
];

for (const c of cases) {
  test(`pruneBuiltin: ${c.name}`, () => {
    const obj = structuredClone(c.obj);
    assert.equal(pruneBuiltin(c.apiVersion, c.kind, obj), c.expectUnknown);
    if (c.expectAfter) assert.equal(obj, c.expectAfter);
  });
}

test.run();
