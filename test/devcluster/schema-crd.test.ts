// validateCrd: the CustomResourceDefinition object itself, with apiextensions-apiserver's wording.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateCrd } from '../../hack/devcluster/schema/index.js';
import { crdWith, lines } from '../../hack/devcluster/schema/testing.js';
import type { JSONSchemaProps } from '../../hack/devcluster/schema/types.js';

const S = 'spec.versions[0].schema.openAPIV3Schema';

interface Case {
  name: string;
  crd: () => any;
  expect: string[];
}

/** A valid CRD whose `spec` schema is replaced, or mutated by `edit`. */
function crd(
  spec: JSONSchemaProps = { type: 'object', properties: { replicas: { type: 'integer' } } },
  edit?: (c: any) => void,
): () => any {
  return () => {
    const c = crdWith(spec);
    edit?.(c);
    return c;
  };
}

const cases: Case[] = [
  { name: 'a valid CRD', crd: crd(), expect: [] },
  {
    name: 'metadata.name must be <plural>.<group>',
    crd: crd(undefined, (c) => (c.metadata.name = 'gadgets.example.com')),
    expect: ['metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group'],
  },
  {
    name: 'group needs a dot',
    crd: crd(undefined, (c) => {
      c.spec.group = 'example';
      c.metadata.name = 'widgets.example';
    }),
    expect: ['spec.group: Invalid value: "example": should be a domain with at least one dot'],
  },
  {
    name: 'scope',
    crd: crd(undefined, (c) => (c.spec.scope = 'Global')),
    expect: ['spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"'],
  },
  {
    name: 'names: kind required, plural a DNS-1035 label, short names and categories too',
    crd: crd(undefined, (c) => {
      c.spec.names = { plural: 'widgets', shortNames: ['W1'], categories: ['modelship'] };
    }),
    expect: [
      'spec.names.singular: Required value',
      'spec.names.kind: Required value',
      'spec.names.listKind: Required value',
      "spec.names.shortNames[0]: Invalid value: \"W1\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ],
  },
  {
    name: 'kind and listKind may not be the same',
    crd: crd(undefined, (c) => (c.spec.names.listKind = 'Widget')),
    expect: ['spec.names.listKind: Invalid value: "Widget": kind and listKind may not be the same'],
  },
  {
    name: 'printer columns: type, format and JSONPath',
    crd: crd(undefined, (c) => {
      c.spec.versions[0].additionalPrinterColumns = [
        { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
        { name: 'Accuracy', type: 'float', jsonPath: '.status.accuracy' },
        { name: 'Age', type: 'date', format: 'timestamp', jsonPath: '.metadata.creationTimestamp' },
        { name: 'Model', type: 'string' },
      ];
    }),
    expect: [
      'spec.versions[0].additionalPrinterColumns[1].type: Invalid value: "float": must be one of boolean,date,integer,number,string',
      'spec.versions[0].additionalPrinterColumns[2].format: Invalid value: "timestamp": must be one of byte,date,date-time,double,float,int32,int64,password',
      'spec.versions[0].additionalPrinterColumns[3].JSONPath: Required value',
    ],
  },
  {
    name: 'exactly one storage version',
    crd: crd(undefined, (c) => c.spec.versions.push({ ...structuredClone(c.spec.versions[0]), name: 'v2' })),
    expect: [
      'spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion{apiextensions.CustomResourceDefinitionVersion{Name:"v1", Served:true, Storage:true, ...}, apiextensions.CustomResourceDefinitionVersion{Name:"v2", Served:true, Storage:true, ...}}: must have exactly one version marked as storage version',
    ],
  },
  {
    name: 'a schema is required in v1',
    crd: crd(undefined, (c) => delete c.spec.versions[0].schema),
    expect: [`${S}: Required value: schemas are required`],
  },
  {
    name: 'every field typed',
    crd: crd({ type: 'object', properties: { foo: {}, list: { type: 'array', items: {} }, arr: { type: 'array' } } }),
    expect: [
      `${S}.properties[spec].properties[foo].type: Required value: must not be empty for specified object fields`,
      `${S}.properties[spec].properties[list].items.type: Required value: must not be empty for specified array items`,
      `${S}.properties[spec].properties[arr].items: Required value: must be specified`,
    ],
  },
  {
    name: 'properties and additionalProperties together',
    crd: crd({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } }),
    expect: [
      `${S}.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`,
    ],
  },
  {
    name: 'the root must be an object',
    crd: crd(undefined, (c) => (c.spec.versions[0].schema.openAPIV3Schema = { type: 'string' })),
    expect: [`${S}.type: Invalid value: "string": must be object at the root`],
  },
  {
    name: 'int-or-string with preserve-unknown-fields',
    crd: crd({
      type: 'object',
      properties: { port: { 'x-kubernetes-int-or-string': true, 'x-kubernetes-preserve-unknown-fields': true } },
    }),
    expect: [
      `${S}.properties[spec].properties[port].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if x-kubernetes-int-or-string is true`,
    ],
  },
  {
    name: 'int-or-string accepts its anyOf pattern',
    crd: crd({
      type: 'object',
      properties: { port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] } },
    }),
    expect: [],
  },
  {
    name: 'type inside anyOf is not structural',
    crd: crd({
      type: 'object',
      properties: { port: { type: 'string', anyOf: [{ type: 'string', pattern: '^a' }, { maxLength: 3 }] } },
    }),
    expect: [`${S}.properties[spec].properties[port].anyOf[0].type: Forbidden: must be empty to be structural`],
  },
  {
    name: 'embedded resource needs properties or preserve-unknown-fields',
    crd: crd({ type: 'object', properties: { template: { type: 'object', 'x-kubernetes-embedded-resource': true } } }),
    expect: [
      `${S}.properties[spec].properties[template].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields`,
    ],
  },
  {
    name: 'embedded resource must be an object',
    crd: crd({
      type: 'object',
      properties: {
        template: {
          type: 'array',
          items: { type: 'string' },
          'x-kubernetes-embedded-resource': true,
          'x-kubernetes-preserve-unknown-fields': true,
        },
      },
    }),
    expect: [
      `${S}.properties[spec].properties[template].type: Invalid value: "array": must be object if x-kubernetes-embedded-resource is true`,
    ],
  },
  {
    name: 'uniqueItems is forbidden',
    crd: crd({ type: 'object', properties: { tags: { type: 'array', items: { type: 'string' }, uniqueItems: true } } }),
    expect: [
      `${S}.properties[spec].properties[tags].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`,
    ],
  },
  {
    name: 'list-type map keys must be required or defaulted',
    crd: crd({
      type: 'object',
      properties: {
        env: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', properties: { name: { type: 'string' } } },
        },
      },
    }),
    expect: [
      `${S}.properties[spec].properties[env].items.required: Required value: must contain "name" or ${S}.properties[spec].properties[env].items.properties[name].default must be specified`,
    ],
  },
  {
    name: 'defaults must validate against their schema',
    crd: crd({
      type: 'object',
      properties: { replicas: { type: 'integer', minimum: 0, default: -1 }, mode: { type: 'string', default: true } },
    }),
    expect: [
      `${S}.properties[spec].properties[replicas].default: Invalid value: -1:  in body should be greater than or equal to 0`,
      `${S}.properties[spec].properties[mode].default: Invalid value: "boolean":  in body must be of type string: "boolean"`,
    ],
  },
  {
    name: 'defaults must be pruned',
    crd: crd({
      type: 'object',
      properties: {
        traffic: {
          type: 'object',
          properties: { provider: { type: 'string' } },
          default: { provider: 'router', bogus: 1 },
        },
      },
    }),
    expect: [
      `${S}.properties[spec].properties[traffic].default: Invalid value: map[string]interface {}{"bogus":1, "provider":"router"}: must not have unknown fields`,
    ],
  },
  {
    name: 'CEL rules run on defaults, without completing them with nested defaults',
    crd: crd({
      type: 'object',
      properties: {
        worker: {
          type: 'object',
          default: {},
          properties: { min: { type: 'integer', default: 0 }, max: { type: 'integer', default: 5 } },
          'x-kubernetes-validations': [{ rule: 'self.min <= self.max' }],
        },
      },
    }),
    expect: [
      `${S}.properties[spec].properties[worker].default: Invalid value: "object": no such key: min evaluating rule: self.min <= self.max`,
    ],
  },
  {
    name: 'a rule that does not parse',
    crd: crd({
      type: 'object',
      'x-kubernetes-validations': [{ rule: 'self.replicas >' }],
      properties: { replicas: { type: 'integer' } },
    }),
    expect: [
      `${S}.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:"self.replicas >", Message:"", MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:15: Syntax error: found > but expecting end of input\n | self.replicas >\n | ..............^`,
    ],
  },
  {
    name: 'a rule that reads an undefined field',
    crd: crd({
      type: 'object',
      'x-kubernetes-validations': [{ rule: 'self.replicsa > 0' }],
      properties: { replicas: { type: 'integer' } },
    }),
    expect: [
      `${S}.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:"self.replicsa > 0", Message:"", MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:5: undefined field 'replicsa'\n | self.replicsa > 0\n | ....^`,
    ],
  },
  {
    name: 'a rule that calls an unknown function',
    crd: crd({
      type: 'object',
      properties: { size: { type: 'string', 'x-kubernetes-validations': [{ rule: 'ip(self).family() == 6' }] } },
    }),
    expect: [
      `${S}.properties[spec].properties[size].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:"ip(self).family() == 6", Message:"", MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:3: undeclared reference to 'ip' (in container '')\n | ip(self).family() == 6\n | ..^\nERROR: <input>:1:16: undeclared reference to 'family' (in container '')\n | ip(self).family() == 6\n | ...............^`,
    ],
  },
  {
    name: 'a messageExpression that does not compile',
    crd: crd({
      type: 'object',
      properties: {
        n: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self >= 1', messageExpression: 'oops + 1' }] },
      },
    }),
    expect: [
      `${S}.properties[spec].properties[n].x-kubernetes-validations[0].messageExpression: Invalid value: apiextensions.ValidationRule{Rule:"self >= 1", Message:"", MessageExpression:"oops + 1", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}: messageExpression compilation failed: ERROR: <input>:1:1: undeclared reference to 'oops' (in container '')\n | oops + 1\n | ^`,
    ],
  },
  {
    name: 'rules may read metadata.name at the root, but nothing else of metadata',
    crd: crd(undefined, (c) => {
      c.spec.versions[0].schema.openAPIV3Schema['x-kubernetes-validations'] = [
        { rule: "self.metadata.name.startsWith('w')" },
        { rule: 'self.metadata.labels.size() > 0' },
      ];
    }),
    expect: [
      `${S}.x-kubernetes-validations[1].rule: Invalid value: apiextensions.ValidationRule{Rule:"self.metadata.labels.size() > 0", Message:"", MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:14: undefined field 'labels'\n | self.metadata.labels.size() > 0\n | .............^`,
    ],
  },
];

for (const c of cases) {
  test(`validateCrd: ${c.name}`, () => {
    assert.equal(lines(validateCrd(c.crd())), c.expect);
  });
}

test.run();
