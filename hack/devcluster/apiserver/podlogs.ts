// The pods/log subresource (`kubectl logs [-c] [--previous] [--tail] [-f]`). The API server
// does not run containers: a reader registered by whoever does (the node agent's log files)
// supplies the text; follow mode polls it until the container stops or the client leaves.
import type { ServerResponse } from 'node:http';
import { errors } from './errors.js';
import type { KObject } from './registry.js';

export interface PodLogOptions {
  previous?: boolean;
  tailLines?: number;
  limitBytes?: number;
}
/** Returns a container's log, or undefined when there is none (not started yet). */
export type PodLogReader = (
  namespace: string,
  pod: string,
  uid: string,
  container: string,
  opts: PodLogOptions,
) => string | undefined;

export interface PodLogRequest {
  container?: string;
  follow: boolean;
  opts: PodLogOptions;
}

export function parseLogQuery(q: URLSearchParams): PodLogRequest {
  const num = (k: string) => (q.has(k) ? Number(q.get(k)) : undefined);
  return {
    container: q.get('container') ?? undefined,
    follow: q.get('follow') === 'true',
    opts: { previous: q.get('previous') === 'true', tailLines: num('tailLines'), limitBytes: num('limitBytes') },
  };
}

/** The container a log request is for, with the errors a real API server answers. */
export function chooseContainer(pod: KObject, requested: string | undefined): string {
  const names: string[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map(
    (c: KObject) => c.name,
  );
  const main: string[] = (pod.spec?.containers ?? []).map((c: KObject) => c.name);
  if (requested) {
    if (!names.includes(requested))
      throw errors.badRequest(`container ${requested} is not valid for pod ${pod.metadata.name}`);
    return requested;
  }
  if (main.length === 1) return main[0];
  throw errors.badRequest(
    `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${main.join(' ')}]`,
  );
}

function containerState(pod: KObject, container: string): KObject | undefined {
  const all: KObject[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return all.find((s) => s.name === container)?.state;
}

export function serveLog(
  reader: PodLogReader | undefined,
  getPod: () => KObject | undefined,
  req: PodLogRequest,
  res: ServerResponse,
): void {
  const pod = getPod();
  if (!pod) throw errors.notFound({ group: '', resource: 'pods' }, '');
  const container = chooseContainer(pod, req.container);
  const { namespace, name, uid } = pod.metadata;
  const read = () => reader?.(namespace, name, uid, container, req.opts);
  const first = read();
  if (first === undefined) {
    const waiting = containerState(pod, container)?.waiting?.reason ?? 'ContainerCreating';
    throw errors.badRequest(`container "${container}" in pod "${name}" is waiting to start: ${waiting}`);
  }
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
  if (!req.follow) {
    res.end(first);
    return;
  }
  res.write(first);
  // Follow: tail the growing log (tailLines applies only to the first read).
  let sent = reader?.(namespace, name, uid, container, { previous: req.opts.previous })?.length ?? first.length;
  const timer = setInterval(() => {
    const current = getPod();
    const text = reader?.(namespace, name, uid, container, { previous: req.opts.previous });
    if (text !== undefined && text.length > sent) {
      res.write(text.slice(sent));
      sent = text.length;
    }
    const stopped = !current || current.metadata.uid !== uid || containerState(current, container)?.terminated;
    if (stopped) {
      clearInterval(timer);
      res.end();
    }
  }, 200);
  res.on('close', () => clearInterval(timer));
}
