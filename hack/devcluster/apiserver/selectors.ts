// Label and field selectors, parsed as kube-apiserver parses them (labels.Parse / fields.ParseSelector).
import { errors } from './errors.js';
import type { KObject } from './registry.js';

export type LabelOp = 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';
export interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}
export type Labels = Record<string, string> | undefined;

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((p) => p.trim()).filter((p) => p !== '');
}

const SET_RE = /^([^\s!=<>()]+)\s+(in|notin)\s*\(([^)]*)\)$/;
const CMP_RE = /^([^\s!=<>()]+)\s*(==|=|!=|>|<)\s*([^\s!=<>(),]*)$/;
const KEY_RE = /^(!?)\s*([^\s!=<>(),]+)$/;

export function parseLabelSelector(selector: string | null | undefined): LabelRequirement[] {
  if (!selector) return [];
  return splitTopLevel(selector).map((part) => {
    let m = SET_RE.exec(part);
    if (m) {
      const values = m[3]
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      return { key: m[1], op: m[2] as LabelOp, values };
    }
    m = CMP_RE.exec(part);
    if (m) {
      const op: LabelOp = m[2] === '!=' ? '!=' : m[2] === '>' ? 'gt' : m[2] === '<' ? 'lt' : '=';
      if ((op === 'gt' || op === 'lt') && !/^-?\d+$/.test(m[3])) {
        throw errors.badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
      }
      return { key: m[1], op, values: [m[3]] };
    }
    m = KEY_RE.exec(part);
    if (m) return { key: m[2], op: m[1] ? '!exists' : 'exists', values: [] };
    throw errors.badRequest(`unable to parse requirement: found '${part}', expected: identifier`);
  });
}

export function labelsMatch(reqs: LabelRequirement[], labels: Labels): boolean {
  for (const r of reqs) {
    const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = has ? labels![r.key] : undefined;
    switch (r.op) {
      case 'exists':
        if (!has) return false;
        break;
      case '!exists':
        if (has) return false;
        break;
      case '=':
        if (v !== r.values[0]) return false;
        break;
      case '!=':
        if (v === r.values[0]) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(v!)) return false;
        break;
      case 'notin':
        if (has && r.values.includes(v!)) return false;
        break;
      case 'gt':
        if (!has || !(Number(v) > Number(r.values[0]))) return false;
        break;
      case 'lt':
        if (!has || !(Number(v) < Number(r.values[0]))) return false;
        break;
    }
  }
  return true;
}

/** A LabelSelector object (matchLabels / matchExpressions), e.g. a Deployment's spec.selector. */
export function labelSelectorObjectMatches(sel: KObject | undefined, labels: Labels): boolean {
  if (!sel) return false;
  const reqs: LabelRequirement[] = Object.entries(sel.matchLabels ?? {}).map(([key, v]) => ({
    key,
    op: '=' as LabelOp,
    values: [String(v)],
  }));
  for (const e of sel.matchExpressions ?? []) {
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' } as Record<string, LabelOp>)[
      e.operator
    ];
    if (op) reqs.push({ key: e.key, op, values: e.values ?? [] });
  }
  return labelsMatch(reqs, labels);
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export function parseFieldSelector(selector: string | null | undefined): FieldRequirement[] {
  if (!selector) return [];
  return splitTopLevel(selector).map((part) => {
    const m = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw errors.badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    return { field: m[1], op: m[2] === '!=' ? '!=' : '=', value: m[3] };
  });
}

/** Field values a selector can match, per kind (as the real registries' GetAttrs expose them). */
export function fieldValue(kind: string, obj: KObject, field: string): string | undefined {
  switch (field) {
    case 'metadata.name':
      return obj.metadata?.name ?? '';
    case 'metadata.namespace':
      return obj.metadata?.namespace ?? '';
  }
  const path = SUPPORTED_FIELDS[kind];
  if (!path?.includes(field)) return undefined;
  let v: any = obj;
  for (const seg of field.split('.')) v = v?.[seg];
  if (typeof v === 'boolean') return String(v);
  return v === undefined || v === null ? '' : String(v);
}

const SUPPORTED_FIELDS: Record<string, string[]> = {
  Pod: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  // core/v1 and events.k8s.io/v1 Events share the kind name; each selects on its own fields.
  Event: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
    'regarding.kind',
    'regarding.namespace',
    'regarding.name',
    'regarding.uid',
    'regarding.apiVersion',
    'regarding.resourceVersion',
    'regarding.fieldPath',
    'reportingController',
  ],
  Secret: ['type'],
  Namespace: ['status.phase'],
  Node: ['spec.unschedulable'],
  ReplicaSet: ['status.replicas'],
  Job: ['status.successful'],
};

/** Throws 400 for a field the kind does not support, as the real server does. */
export function checkFieldSelector(kind: string, reqs: FieldRequirement[], labelsForCrd?: string[]): void {
  // kind '' = a custom resource: only metadata fields and the CRD's selectableFields.
  for (const r of reqs) {
    if (r.field === 'metadata.name' || r.field === 'metadata.namespace') continue;
    if (SUPPORTED_FIELDS[kind]?.includes(r.field) || labelsForCrd?.includes(r.field)) continue;
    throw errors.badRequest(`field label not supported: ${r.field}`);
  }
}

export function fieldsMatch(kind: string, reqs: FieldRequirement[], obj: KObject, extraFields?: string[]): boolean {
  for (const r of reqs) {
    let v = fieldValue(kind, obj, r.field);
    if (v === undefined && extraFields?.includes(r.field)) {
      let x: any = obj;
      for (const seg of r.field.split('.')) x = x?.[seg];
      v = x === undefined || x === null ? '' : String(x);
    }
    if (v === undefined) return false;
    if (r.op === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}
