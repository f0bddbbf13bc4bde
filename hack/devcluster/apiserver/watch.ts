// Watch streams: newline-delimited JSON events, replay from a resourceVersion out of the
// bounded history, synthetic ADDED events for RV unset/"0", ERROR 410 Expired for RVs the
// history no longer reaches, BOOKMARKs, timeoutSeconds, and selector transitions (an object
// that starts or stops matching is seen as ADDED / DELETED, as kube-apiserver's cacher does).
import type { ServerResponse } from 'node:http';
import { errors } from './errors.js';
import type { FaultInjector, RequestInfo } from './faults.js';
import { apiVersionOf, type KObject, type ResourceType } from './registry.js';
import type { Rest } from './rest.js';
import { checkFieldSelector, fieldsMatch, labelsMatch, parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { Store, StoreEvent } from './store.js';

export interface WatchParams {
  namespace?: string;
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  sendInitialEvents?: boolean;
  /** Renders each object (Table / PartialObjectMetadata); identity by default. */
  render?: (obj: KObject) => KObject;
}

export interface WatchDeps {
  store: Store;
  rest: Rest;
  faults: FaultInjector;
  bookmarkIntervalMs: number;
}

// Stored objects are immutable, so one serialisation serves every watcher (fan-out stays cheap).
const jsonCache = new WeakMap<KObject, string>();
function serialised(obj: KObject): string {
  let json = jsonCache.get(obj);
  if (json === undefined) jsonCache.set(obj, (json = JSON.stringify(obj)));
  return json;
}

export function serveWatch(
  deps: WatchDeps,
  t: ResourceType,
  params: WatchParams,
  info: RequestInfo,
  res: ServerResponse,
): void {
  const { store, rest, faults } = deps;
  const labels = parseLabelSelector(params.labelSelector);
  const fields = parseFieldSelector(params.fieldSelector);
  const selectable = rest.selectableFields(t);
  checkFieldSelector(t.builtin ? t.kind : '', fields, selectable);
  const ns = t.namespaced ? params.namespace : undefined;
  const matchesObj = (o: KObject | undefined): boolean => {
    if (!o) return false;
    if (ns !== undefined && ns !== '' && (o.metadata.namespace ?? '') !== ns) return false;
    if (labels.length && !labelsMatch(labels, o.metadata.labels)) return false;
    if (fields.length && !fieldsMatch(t.kind, fields, o, selectable)) return false;
    return true;
  };
  const render = params.render;
  const apiVersion = apiVersionOf(t);
  const line = (type: string, obj: KObject) => {
    const presented = rest.present(t, obj);
    if (render) return `${JSON.stringify({ type, object: render(presented) })}\n`;
    return `{"type":"${type}","object":${serialised(presented)}}\n`;
  };

  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();

  let closed = false;
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe: () => void = () => undefined;
  const handle = {
    info,
    close: (abrupt?: boolean) => {
      if (abrupt) {
        res.destroy();
        finish();
      } else finish();
    },
  };
  const finish = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    faults.watches.delete(handle);
    res.end();
  };
  res.on('close', finish);

  const rvParam = params.resourceVersion;
  const fromRv = rvParam && rvParam !== '0' ? Number(rvParam) : undefined;
  if (fromRv !== undefined && !Number.isFinite(fromRv)) {
    res.end(line('ERROR', errors.badRequest(`invalid resource version: ${rvParam}`).toStatus()));
    return;
  }
  let replay: StoreEvent[] = [];
  if (fromRv !== undefined) {
    const since = store.eventsSince(fromRv, t.storageKey);
    if (!since) {
      const status = errors.gone(`too old resource version: ${fromRv} (${store.oldestRv + 1})`).toStatus();
      res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      return;
    }
    replay = since;
  }

  // Events of one tick (a replay, a burst of writes) go out in one socket write.
  let corked = false;
  const send = (type: string, obj: KObject) => {
    if (closed) return;
    if (!corked) {
      corked = true;
      res.cork();
      process.nextTick(() => {
        corked = false;
        res.uncork();
      });
    }
    res.write(line(type, obj));
  };
  const deliver = (e: StoreEvent) => {
    const now = e.type !== 'DELETED' && matchesObj(e.object);
    const before = e.type !== 'ADDED' && matchesObj(e.prev);
    if (e.type === 'ADDED') {
      if (now) send('ADDED', e.object);
      return;
    }
    if (e.type === 'DELETED') {
      if (before || matchesObj(e.object)) send('DELETED', e.object);
      return;
    }
    if (now && before) send('MODIFIED', e.object);
    else if (now) send('ADDED', e.object);
    else if (before) send('DELETED', e.object);
  };

  if (fromRv === undefined) {
    if (params.sendInitialEvents !== false) {
      for (const o of store.list(t.storageKey, ns || undefined)) if (matchesObj(o)) send('ADDED', o);
    }
    if (params.sendInitialEvents && params.allowWatchBookmarks) sendBookmark(true);
  } else {
    for (const e of replay) deliver(e);
  }
  unsubscribe = store.subscribe(t.storageKey, deliver);
  faults.watches.add(handle);

  function sendBookmark(initialEventsEnd = false): void {
    const metadata: KObject = { resourceVersion: String(store.rv) };
    if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
    if (!closed) res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: t.kind, apiVersion, metadata } })}\n`);
  }
  if (params.allowWatchBookmarks) {
    const tick = () => {
      sendBookmark();
      timers[0] = setTimeout(tick, deps.bookmarkIntervalMs);
    };
    timers[0] = setTimeout(tick, deps.bookmarkIntervalMs);
  }
  if (params.timeoutSeconds && params.timeoutSeconds > 0) {
    timers.push(
      setTimeout(() => {
        if (params.allowWatchBookmarks) sendBookmark();
        finish();
      }, params.timeoutSeconds * 1000),
    );
  }
}
