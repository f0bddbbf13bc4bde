// The store's label index gives exactly what a scan of every object gives, through upserts
// that change labels, removals and re-lists, for namespaced and all-namespace lookups.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../operator/runtime/kinds.js';
import { matchesLabels, Store } from '../../operator/runtime/store.js';

const pod = (ns: string, name: string, labels: Record<string, string>, rv: number): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: ns, name, labels, resourceVersion: String(rv) },
});

function scan(objs: KubeObject[], namespace: string | undefined, labels: Record<string, string>): string[] {
  return objs
    .filter((o) => (namespace === undefined || o.metadata?.namespace === namespace) && matchesLabels(o, labels))
    .map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`)
    .sort();
}

const names = (objs: KubeObject[]) => objs.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`).sort();

test('label lookups equal a full scan through upserts, label changes, removals and re-lists', () => {
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const store = new Store();
  const truth = new Map<string, KubeObject>();
  const queries: Array<[string | undefined, Record<string, string>]> = [
    ['a', { 'job-name': 'j1' }],
    [undefined, { 'job-name': 'j2' }],
    ['b', { 'job-name': 'j0', app: 'x' }],
    [undefined, { app: 'y' }],
    ['a', { 'job-name': 'none' }],
  ];
  for (let step = 0; step < 2000; step++) {
    const op = rand(10);
    const ns = rand(2) ? 'a' : 'b';
    const name = `p${rand(30)}`;
    const labels: Record<string, string> = { 'job-name': `j${rand(3)}` };
    if (rand(2)) labels.app = rand(2) ? 'x' : 'y';
    if (op < 6) {
      const obj = pod(ns, name, labels, step);
      store.upsert(obj);
      truth.set(`${ns}/${name}`, obj);
    } else if (op < 9) {
      store.remove(pod(ns, name, {}, step));
      truth.delete(`${ns}/${name}`);
    } else {
      // A re-list of namespace `ns`: some objects change, some go away.
      const fresh = [...truth.values()]
        .filter((o) => o.metadata?.namespace !== ns || rand(4) > 0)
        .map((o) =>
          o.metadata?.namespace === ns && rand(3) === 0
            ? pod(ns, o.metadata!.name!, { 'job-name': `j${rand(3)}` }, step)
            : o,
        );
      store.replace(
        fresh.filter((o) => o.metadata?.namespace === ns),
        (o) => o.metadata?.namespace === ns,
      );
      for (const k of [...truth.keys()]) if (k.startsWith(`${ns}/`)) truth.delete(k);
      for (const o of fresh) if (o.metadata?.namespace === ns) truth.set(`${ns}/${o.metadata?.name}`, o);
    }
    for (const [qns, q] of queries)
      assert.equal(
        names(store.list(qns, q)),
        scan([...truth.values()], qns, q),
        `step ${step} ${qns} ${JSON.stringify(q)}`,
      );
  }
  assert.equal(names(store.list()), names([...truth.values()]));
});

test('an object whose label value changes moves to the new value only', () => {
  const store = new Store();
  store.upsert(pod('a', 'p', { 'job-name': 'old' }, 1));
  assert.equal(names(store.list('a', { 'job-name': 'old' })), ['a/p']);
  store.upsert(pod('a', 'p', { 'job-name': 'new' }, 2));
  assert.equal(names(store.list('a', { 'job-name': 'old' })), []);
  assert.equal(names(store.list('a', { 'job-name': 'new' })), ['a/p']);
  store.upsert(pod('a', 'p', {}, 3));
  assert.equal(names(store.list('a', { 'job-name': 'new' })), []);
});

test.run();
