// A tiny demo controller used by the runtime's tests (and as a worked example for controller
// authors): a Widget (test.modelship.dev/v1, with a status subresource) owns a ConfigMap
// `<widget>-data` holding spec.data; status records observedGeneration, the key count and a
// Ready condition. It exercises the whole path: cache reads, server-side apply of a child,
// owner-triggered reconciles, status writes only on change, Events.
import type { Controller } from '../controller.js';
import type { KindRef, KubeObject } from '../kinds.js';
import { Kinds } from '../kinds.js';
import { semanticEqual, setCondition, type Condition } from '../status.js';

export const WidgetKind: KindRef = { group: 'test.modelship.dev', version: 'v1', plural: 'widgets', kind: 'Widget' };

export interface Widget extends KubeObject {
  spec?: { data?: Record<string, string> };
  status?: { observedGeneration?: number; keys?: number; conditions?: Condition[] };
}

export const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.test.modelship.dev' },
  spec: {
    group: 'test.modelship.dev',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: { data: { type: 'object', additionalProperties: { type: 'string' } } },
              },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      },
    ],
  },
};

/** The ConfigMap a Widget wants (pure). */
export function desiredConfigMap(w: Widget): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `${w.metadata?.name}-data`,
      namespace: w.metadata?.namespace,
      labels: { 'test.modelship.dev/widget': w.metadata?.name ?? '' },
      ownerReferences: [
        {
          apiVersion: 'test.modelship.dev/v1',
          kind: 'Widget',
          name: w.metadata?.name ?? '',
          uid: w.metadata?.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    data: { ...(w.spec?.data ?? {}) },
  };
}

/** The status a Widget should have given its ConfigMap (pure). */
export function desiredStatus(w: Widget, cm: KubeObject | undefined): Widget['status'] {
  const want = w.spec?.data ?? {};
  const have = (cm?.data ?? {}) as Record<string, string>;
  const inSync =
    Object.keys(want).length === Object.keys(have).length && Object.entries(want).every(([k, v]) => have[k] === v);
  return {
    observedGeneration: w.metadata?.generation,
    keys: Object.keys(want).length,
    conditions: setCondition(
      w.status?.conditions,
      inSync
        ? {
            type: 'Ready',
            status: 'True',
            reason: 'DataCopied',
            message: 'ConfigMap holds the widget data',
            observedGeneration: w.metadata?.generation,
          }
        : {
            type: 'Ready',
            status: 'False',
            reason: 'Copying',
            message: 'ConfigMap is being updated',
            observedGeneration: w.metadata?.generation,
          },
    ),
  };
}

export interface WidgetControllerOptions {
  name?: string;
  /** Called at the start of every reconcile (tests count who reconciles what). */
  onReconcile?: (key: { namespace: string; name: string }) => void;
  /** Extra time spent in each reconcile (tests of shutdown and concurrency). */
  delayMs?: number;
}

export function widgetController(opts: WidgetControllerOptions = {}): Controller {
  return {
    name: opts.name ?? 'widget',
    forKind: WidgetKind,
    owns: [Kinds.ConfigMap],
    async reconcile(key, ctx) {
      opts.onReconcile?.(key);
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      const w = ctx.cache.get<Widget>(WidgetKind, key.namespace, key.name);
      if (!w || w.metadata?.deletionTimestamp) return; // children go with it (ownerReference GC)
      const cmName = `${key.name}-data`;
      let cm = ctx.cache.get(Kinds.ConfigMap, key.namespace, cmName);
      const want = desiredConfigMap(w);
      if (!cm || !semanticEqual(cm.data ?? {}, want.data)) {
        cm = await ctx.client.apply(want);
        void ctx.recorder.event(
          w,
          'Normal',
          'Copied',
          `Wrote ConfigMap ${cmName} with ${Object.keys(want.data as object).length} keys`,
        );
      }
      const status = desiredStatus(w, cm);
      await ctx.client.setStatus(w, status, { recompute: (fresh: Widget) => desiredStatus(fresh, cm) });
    },
  };
}
