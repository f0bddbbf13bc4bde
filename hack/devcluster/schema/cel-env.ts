// The CEL environment CRD validation rules run in: @bufbuild/cel's standard library and string
// extensions, plus the pieces of the Kubernetes CEL libraries (lists, regex) our CRDs use.
import { celEnv, celMethod, listType, CelScalar, type CelEnv, type CelValue, type CelList } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

const DYN = CelScalar.DYN;
const LIST = listType(DYN);

function items(list: CelList): CelValue[] {
  return [...list];
}

/** Orders the comparable CEL scalars (int, uint, double, string, bool) as Kubernetes' isSorted/min/max do. */
function compare(a: CelValue, b: CelValue): number {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) return na < nb ? -1 : na > nb ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  throw new Error(`no such overload: list elements are not comparable`);
}

function numeric(v: CelValue): number | bigint | undefined {
  if (typeof v === 'bigint' || typeof v === 'number') return v;
  if (
    v !== null &&
    typeof v === 'object' &&
    'value' in (v as object) &&
    typeof (v as { value: unknown }).value === 'bigint'
  ) {
    return (v as { value: bigint }).value; // CelUint
  }
  return undefined;
}

function minMax(list: CelList, pick: (c: number) => boolean): CelValue {
  const xs = items(list);
  if (xs.length === 0) throw new Error('min called on empty list');
  return xs.reduce((best, x) => (pick(compare(x, best)) ? x : best));
}

/** Kubernetes lists library: https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-list-library */
const kubernetesLists = [
  celMethod('isSorted', LIST, [], CelScalar.BOOL, function () {
    const xs = items(this);
    for (let i = 1; i < xs.length; i++) if (compare(xs[i - 1], xs[i]) > 0) return false;
    return true;
  }),
  celMethod('sum', LIST, [], DYN, function () {
    const xs = items(this);
    if (xs.length === 0) return 0n;
    if (xs.every((x) => typeof x === 'bigint')) return (xs as bigint[]).reduce((a, b) => a + b, 0n);
    return xs.reduce<number>((a, b) => a + Number(numeric(b) ?? NaN), 0);
  }),
  celMethod('min', LIST, [], DYN, function () {
    return minMax(this, (c) => c < 0) as never;
  }),
  celMethod('max', LIST, [], DYN, function () {
    return minMax(this, (c) => c > 0) as never;
  }),
  celMethod('indexOf', LIST, [DYN], CelScalar.INT, function (x) {
    const i = items(this).findIndex((y) => celEquals(y, x));
    return BigInt(i);
  }),
  celMethod('lastIndexOf', LIST, [DYN], CelScalar.INT, function (x) {
    const xs = items(this);
    for (let i = xs.length - 1; i >= 0; i--) if (celEquals(xs[i], x)) return BigInt(i);
    return -1n;
  }),
];

function celEquals(a: CelValue, b: CelValue): boolean {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) return na == nb; // int/uint/double compare by value
  return a === b;
}

/** Kubernetes regex library: find/findAll. */
const kubernetesRegex = [
  celMethod('find', CelScalar.STRING, [CelScalar.STRING], CelScalar.STRING, function (pattern) {
    return new RegExp(pattern, 'u').exec(this)?.[0] ?? '';
  }),
  celMethod('findAll', CelScalar.STRING, [CelScalar.STRING], listType(CelScalar.STRING), function (pattern) {
    return [...this.matchAll(new RegExp(pattern, 'gu'))].map((m) => m[0]);
  }),
  celMethod(
    'findAll',
    CelScalar.STRING,
    [CelScalar.STRING, CelScalar.INT],
    listType(CelScalar.STRING),
    function (pattern, n) {
      const all = [...this.matchAll(new RegExp(pattern, 'gu'))].map((m) => m[0]);
      return n < 0n ? all : all.slice(0, Number(n));
    },
  ),
];

/** `self`/`oldSelf` are declared dyn: their concrete CEL types come from the schema-driven conversion. */
export const celEnvironment: CelEnv = celEnv({
  variables: { self: DYN, oldSelf: DYN },
  funcs: [...strings, ...kubernetesLists, ...kubernetesRegex],
});

export function isKnownFunction(name: string): boolean {
  if (name.startsWith('_') || name.startsWith('@') || name === '!_' || name === '-_') return true;
  return celEnvironment.funcs.find(name) !== undefined;
}
