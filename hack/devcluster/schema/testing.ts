// Fixtures shared by the schema engine's tests: a CRD around a `spec` schema fragment.
import type { JSONSchemaProps } from './types.js';
import { formatFieldError, type FieldError } from './errors.js';

let counter = 0;

export function crdWith(spec: JSONSchemaProps, root: Partial<JSONSchemaProps> = {}, scope = 'Namespaced'): any {
  counter++;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com', uid: `uid-${counter}`, generation: 1 },
    spec: {
      group: 'example.com',
      scope,
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: { type: 'object', ...root, properties: { spec, ...(root.properties ?? {}) } } },
        },
      ],
    },
  };
}

export function widget(spec: unknown, extra: Record<string, unknown> = {}): any {
  return {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w1', namespace: 'default' },
    spec,
    ...extra,
  };
}

export function lines(errs: FieldError[]): string[] {
  return errs.map(formatFieldError);
}
