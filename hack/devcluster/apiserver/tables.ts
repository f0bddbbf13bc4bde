// meta.k8s.io/v1 Table rendering (what `kubectl get` asks for): per-kind columns for common
// built-ins, additionalPrinterColumns for custom resources, NAME/AGE otherwise.
import type { KObject, ResourceType } from './registry.js';

export interface Column {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority: number;
}
type Cell = string | number | boolean | null;
interface KindColumns {
  columns: Column[];
  cells(o: KObject): Cell[];
}

/** kubectl's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 0) return '<invalid>';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 === 0 ? '' : `${s % 60}s`}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return `${h}h${m % 60 === 0 ? '' : `${m % 60}m`}`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return `${d}d${h % 24 === 0 ? '' : `${h % 24}h`}`;
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (y < 8) return `${y}y${d % 365 === 0 ? '' : `${d % 365}d`}`;
  return `${y}y`;
}

const age = (o: KObject): string =>
  o.metadata?.creationTimestamp ? humanDuration(Date.now() - Date.parse(o.metadata.creationTimestamp)) : '<unknown>';
const col = (name: string, type = 'string', priority = 0, format?: string): Column => ({
  name,
  type,
  priority,
  description: name,
  ...(format ? { format } : {}),
});
const nameCol = col('Name', 'string', 0, 'name');
const ageCol = col('Age');
const selectorString = (sel: KObject | undefined): string => {
  if (!sel) return '<none>';
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? [])
    parts.push(`${e.key} ${String(e.operator).toLowerCase()} (${(e.values ?? []).join(',')})`);
  return parts.join(',') || '<none>';
};
const containersOf = (o: KObject) => (o.spec?.template?.spec?.containers ?? []) as KObject[];

function podStatus(o: KObject): string {
  if (o.metadata?.deletionTimestamp) return 'Terminating';
  let reason: string = o.status?.reason ?? o.status?.phase ?? 'Pending';
  for (const c of o.status?.containerStatuses ?? []) {
    const r = c.state?.waiting?.reason ?? c.state?.terminated?.reason;
    if (r && !(c.state?.terminated && r === 'Completed' && reason === 'Running')) reason = r;
  }
  return reason;
}

const BUILTIN: Record<string, KindColumns> = {
  Pod: {
    columns: [
      nameCol,
      col('Ready'),
      col('Status'),
      col('Restarts', 'string'),
      ageCol,
      col('IP', 'string', 1),
      col('Node', 'string', 1),
      col('Nominated Node', 'string', 1),
      col('Readiness Gates', 'string', 1),
    ],
    cells: (o) => {
      const cs: KObject[] = o.status?.containerStatuses ?? [];
      const total = (o.spec?.containers ?? []).length;
      const ready = cs.filter((c) => c.ready).length;
      const restarts = cs.reduce((n, c) => n + (c.restartCount ?? 0), 0);
      return [
        o.metadata.name,
        `${ready}/${total}`,
        podStatus(o),
        String(restarts),
        age(o),
        o.status?.podIP ?? '<none>',
        o.spec?.nodeName ?? '<none>',
        '<none>',
        '<none>',
      ];
    },
  },
  Deployment: {
    columns: [
      nameCol,
      col('Ready'),
      col('Up-to-date', 'integer'),
      col('Available', 'integer'),
      ageCol,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    cells: (o) => [
      o.metadata.name,
      `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`,
      o.status?.updatedReplicas ?? 0,
      o.status?.availableReplicas ?? 0,
      age(o),
      containersOf(o)
        .map((c) => c.name)
        .join(','),
      containersOf(o)
        .map((c) => c.image)
        .join(','),
      selectorString(o.spec?.selector),
    ],
  },
  ReplicaSet: {
    columns: [
      nameCol,
      col('Desired', 'integer'),
      col('Current', 'integer'),
      col('Ready', 'integer'),
      ageCol,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    cells: (o) => [
      o.metadata.name,
      o.spec?.replicas ?? 0,
      o.status?.replicas ?? 0,
      o.status?.readyReplicas ?? 0,
      age(o),
      containersOf(o)
        .map((c) => c.name)
        .join(','),
      containersOf(o)
        .map((c) => c.image)
        .join(','),
      selectorString(o.spec?.selector),
    ],
  },
  Job: {
    columns: [
      nameCol,
      col('Status'),
      col('Completions'),
      col('Duration'),
      ageCol,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    cells: (o) => {
      const conds: KObject[] = o.status?.conditions ?? [];
      const has = (t: string) => conds.some((c) => c.type === t && c.status === 'True');
      const status = has('Complete')
        ? 'Complete'
        : has('Failed')
          ? 'Failed'
          : has('Suspended')
            ? 'Suspended'
            : 'Running';
      const start = o.status?.startTime ? Date.parse(o.status.startTime) : undefined;
      const end = o.status?.completionTime ? Date.parse(o.status.completionTime) : Date.now();
      return [
        o.metadata.name,
        status,
        `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}`,
        start ? humanDuration(end - start) : '',
        age(o),
        containersOf(o)
          .map((c) => c.name)
          .join(','),
        containersOf(o)
          .map((c) => c.image)
          .join(','),
        selectorString(o.spec?.selector),
      ];
    },
  },
  Service: {
    columns: [
      nameCol,
      col('Type'),
      col('Cluster-IP'),
      col('External-IP'),
      col('Port(s)'),
      ageCol,
      col('Selector', 'string', 1),
    ],
    cells: (o) => [
      o.metadata.name,
      o.spec?.type ?? 'ClusterIP',
      o.spec?.clusterIP ?? '<none>',
      '<none>',
      (o.spec?.ports ?? [])
        .map((p: KObject) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`)
        .join(',') || '<none>',
      age(o),
      Object.entries(o.spec?.selector ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',') || '<none>',
    ],
  },
  Namespace: {
    columns: [nameCol, col('Status'), ageCol],
    cells: (o) => [o.metadata.name, o.status?.phase ?? 'Active', age(o)],
  },
  ConfigMap: {
    columns: [nameCol, col('Data', 'integer'), ageCol],
    cells: (o) => [o.metadata.name, Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length, age(o)],
  },
  Secret: {
    columns: [nameCol, col('Type'), col('Data', 'integer'), ageCol],
    cells: (o) => [o.metadata.name, o.type ?? 'Opaque', Object.keys(o.data ?? {}).length, age(o)],
  },
  CustomResourceDefinition: {
    columns: [nameCol, col('Created At', 'date')],
    cells: (o) => [o.metadata.name, o.metadata.creationTimestamp],
  },
  Event: {
    columns: [
      col('Last Seen'),
      col('Type'),
      col('Reason'),
      col('Object'),
      col('Message'),
      col('Name', 'string', 1, 'name'),
    ],
    cells: (o) => {
      const last = o.lastTimestamp ?? o.eventTime ?? o.firstTimestamp ?? o.metadata?.creationTimestamp;
      const io = o.involvedObject ?? o.regarding ?? {};
      return [
        last ? humanDuration(Date.now() - Date.parse(last)) : '<unknown>',
        o.type ?? '',
        o.reason ?? '',
        `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`,
        o.message ?? o.note ?? '',
        o.metadata.name,
      ];
    },
  },
  Lease: {
    columns: [nameCol, col('Holder'), ageCol],
    cells: (o) => [o.metadata.name, o.spec?.holderIdentity ?? '', age(o)],
  },
  PersistentVolumeClaim: {
    columns: [nameCol, col('Status'), col('Volume'), col('Capacity'), col('Access Modes'), col('StorageClass'), ageCol],
    cells: (o) => [
      o.metadata.name,
      o.status?.phase ?? 'Pending',
      o.spec?.volumeName ?? '',
      o.status?.capacity?.storage ?? '',
      (o.status?.accessModes ?? []).join(','),
      o.spec?.storageClassName ?? '',
      age(o),
    ],
  },
};

const DEFAULT: KindColumns = { columns: [nameCol, ageCol], cells: (o) => [o.metadata.name, age(o)] };

/** Minimal JSONPath for printer columns: `.a.b`, `.a[0].b`, `.a[?(@.type=="Ready")].status`. */
export function evalJsonPath(obj: unknown, path: string): unknown {
  const expr = path.replace(/^\{|\}$/g, '').replace(/^\$/, '');
  const tokens = expr.match(/\.[^.[\]]+|\[\?\(@\.[^)]+\)\]|\[\d+\]|\[\*\]/g) ?? [];
  let cur: unknown[] = [obj];
  for (const tok of tokens) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === undefined || v === null) continue;
      if (tok.startsWith('.')) next.push((v as any)[tok.slice(1)]);
      else if (tok === '[*]') {
        if (Array.isArray(v)) next.push(...v);
      } else if (/^\[\d+\]$/.test(tok)) {
        if (Array.isArray(v)) next.push(v[Number(tok.slice(1, -1))]);
      } else {
        const m = /^\[\?\(@\.([\w.]+)\s*==\s*["']?([^"')]*)["']?\)\]$/.exec(tok);
        if (m && Array.isArray(v)) next.push(...v.filter((x) => String(evalJsonPath(x, `.${m[1]}`)) === m[2]));
      }
    }
    cur = next.filter((x) => x !== undefined);
  }
  return cur.length === 0 ? undefined : cur.length === 1 ? cur[0] : cur;
}

function crdColumns(t: ResourceType): KindColumns {
  const defs: KObject[] = t.crd?.version.additionalPrinterColumns ?? [];
  if (!defs.length) return DEFAULT;
  return {
    columns: [
      nameCol,
      ...defs.map((d) => ({
        name: d.name,
        type: d.type ?? 'string',
        format: d.format ?? '',
        description: d.description ?? '',
        priority: d.priority ?? 0,
      })),
    ],
    cells: (o) => [
      o.metadata.name,
      ...defs.map((d) => {
        const v = evalJsonPath(o, d.jsonPath);
        if (v === undefined || v === null) return null;
        if (d.type === 'date' && typeof v === 'string') return humanDuration(Date.now() - Date.parse(v));
        if (typeof v === 'object') return JSON.stringify(v);
        return v as Cell;
      }),
    ],
  };
}

export function columnsFor(t: ResourceType): KindColumns {
  if (t.crd) return crdColumns(t);
  return BUILTIN[t.kind] ?? DEFAULT;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function rowObject(o: KObject, include: IncludeObject): KObject | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

export function toTable(
  t: ResourceType,
  objects: KObject[],
  listMeta: KObject,
  include: IncludeObject,
  withColumns = true,
): KObject {
  const cols = columnsFor(t);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: withColumns ? cols.columns : [],
    rows: objects.map((o) => {
      const row: KObject = { cells: cols.cells(o) };
      const obj = rowObject(o, include);
      if (obj) row.object = obj;
      return row;
    }),
  };
}
