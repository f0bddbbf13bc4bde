// Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) for
// the kinds whose clients send protobuf: helm's release storage (Secrets, ConfigMaps) and the
// DeleteOptions of typed client-go clients. Responses stay JSON: those clients also accept it.
import { errors } from './errors.js';
import type { KObject } from './registry.js';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

type Field = { n: number; wire: number; v: bigint | Buffer };

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [result, pos];
    shift += 7n;
  }
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = readVarint(buf, pos);
    pos = p1;
    const n = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [v, p2] = readVarint(buf, pos);
      pos = p2;
      out.push({ n, wire, v });
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      const end = p2 + Number(len);
      out.push({ n, wire, v: buf.subarray(p2, end) });
      pos = end;
    } else if (wire === 1) {
      out.push({ n, wire, v: buf.readBigUInt64LE(pos) });
      pos += 8;
    } else if (wire === 5) {
      out.push({ n, wire, v: BigInt(buf.readUInt32LE(pos)) });
      pos += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const str = (f: Field) => (f.v as Buffer).toString('utf8');
const int = (f: Field) => Number(BigInt.asIntN(64, f.v as bigint));

function mapOf(fs: Field[], n: number, value: (f: Field) => string): Record<string, string> | undefined {
  const entries = fs.filter((f) => f.n === n);
  if (!entries.length) return undefined;
  const out: Record<string, string> = {};
  for (const e of entries) {
    const kv = fields(e.v as Buffer);
    const k = kv.find((f) => f.n === 1);
    const v = kv.find((f) => f.n === 2);
    out[k ? str(k) : ''] = v ? value(v) : '';
  }
  return out;
}

function time(buf: Buffer): string {
  const fs = fields(buf);
  const seconds = fs.find((f) => f.n === 1);
  return new Date((seconds ? int(seconds) : 0) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

function ownerReference(buf: Buffer): KObject {
  const o: KObject = {};
  for (const f of fields(buf)) {
    if (f.n === 1) o.kind = str(f);
    else if (f.n === 3) o.name = str(f);
    else if (f.n === 4) o.uid = str(f);
    else if (f.n === 5) o.apiVersion = str(f);
    else if (f.n === 6) o.controller = f.v !== 0n;
    else if (f.n === 7) o.blockOwnerDeletion = f.v !== 0n;
  }
  return o;
}

const META_STRINGS: Record<number, string> = {
  1: 'name',
  2: 'generateName',
  3: 'namespace',
  5: 'uid',
  6: 'resourceVersion',
};

function objectMeta(buf: Buffer): KObject {
  const fs = fields(buf);
  const m: KObject = {};
  for (const f of fs) {
    const key = META_STRINGS[f.n];
    if (key) {
      const s = str(f);
      if (s) m[key] = s;
    } else if (f.n === 7 && int(f)) m.generation = int(f);
    else if (f.n === 8) {
      const t = time(f.v as Buffer);
      if (!t.startsWith('1970')) m.creationTimestamp = t;
    } else if (f.n === 13) (m.ownerReferences ??= []).push(ownerReference(f.v as Buffer));
    else if (f.n === 14) (m.finalizers ??= []).push(str(f));
  }
  const labels = mapOf(fs, 11, str);
  const annotations = mapOf(fs, 12, str);
  if (labels) m.labels = labels;
  if (annotations) m.annotations = annotations;
  return m;
}

const b64 = (f: Field) => (f.v as Buffer).toString('base64');

const DECODERS: Record<string, (fs: Field[]) => KObject> = {
  'v1/Secret': (fs) => {
    const o: KObject = { apiVersion: 'v1', kind: 'Secret' };
    for (const f of fs) {
      if (f.n === 1) o.metadata = objectMeta(f.v as Buffer);
      else if (f.n === 3) o.type = str(f);
      else if (f.n === 5) o.immutable = f.v !== 0n;
    }
    const data = mapOf(fs, 2, b64);
    const stringData = mapOf(fs, 4, str);
    if (data) o.data = data;
    if (stringData) o.stringData = stringData;
    return o;
  },
  'v1/ConfigMap': (fs) => {
    const o: KObject = { apiVersion: 'v1', kind: 'ConfigMap' };
    for (const f of fs) {
      if (f.n === 1) o.metadata = objectMeta(f.v as Buffer);
      else if (f.n === 4) o.immutable = f.v !== 0n;
    }
    const data = mapOf(fs, 2, str);
    const binaryData = mapOf(fs, 3, b64);
    if (data) o.data = data;
    if (binaryData) o.binaryData = binaryData;
    return o;
  },
  'v1/DeleteOptions': (fs) => {
    const o: KObject = { apiVersion: 'v1', kind: 'DeleteOptions' };
    for (const f of fs) {
      if (f.n === 1) o.gracePeriodSeconds = int(f);
      else if (f.n === 2) {
        const pre: KObject = {};
        for (const p of fields(f.v as Buffer)) {
          if (p.n === 1) pre.uid = str(p);
          if (p.n === 2) pre.resourceVersion = str(p);
        }
        o.preconditions = pre;
      } else if (f.n === 3) o.orphanDependents = f.v !== 0n;
      else if (f.n === 4) o.propagationPolicy = str(f);
      else if (f.n === 5) (o.dryRun ??= []).push(str(f));
    }
    return o;
  },
};
DECODERS['meta.k8s.io/v1/DeleteOptions'] = DECODERS['v1/DeleteOptions'];

/** Decodes a protobuf body to the JSON form of the object; 415 for kinds not supported here. */
export function decodeProtobuf(body: Buffer): KObject {
  if (!body.subarray(0, 4).equals(MAGIC)) throw errors.badRequest('protobuf body without the k8s envelope');
  try {
    const unknown = fields(body.subarray(4));
    const typeMeta = unknown.find((f) => f.n === 1);
    const raw = unknown.find((f) => f.n === 2);
    let apiVersion = '';
    let kind = '';
    for (const f of typeMeta ? fields(typeMeta.v as Buffer) : []) {
      if (f.n === 1) apiVersion = str(f);
      if (f.n === 2) kind = str(f);
    }
    const decode = DECODERS[`${apiVersion}/${kind}`];
    if (!decode) throw errors.unsupportedMediaType(['application/json', 'application/yaml']);
    return decode(raw ? fields(raw.v as Buffer) : []);
  } catch (err) {
    if (err instanceof Error && err.name === 'ApiError') throw err;
    throw errors.badRequest(`unable to decode protobuf body: ${(err as Error).message}`);
  }
}
