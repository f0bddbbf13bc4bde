// `fetch` from https://host/path/: a web server cannot list a folder, so the artifact
// contract's files are fetched by name (modelship.json and model.onnx required, metrics.json
// and profile.json optional: a 404 means absent). A URI ending in .tar or .tar.gz is one
// archive (a data set), unpacked into the target folder as it downloads.
import { get as getHttp, type IncomingMessage } from 'node:http';
import { get as getHttps } from 'node:https';
import { HttpStatusError, StorageError } from './errors.js';
import type { FetchContext } from './fetch.js';
import { withRetry } from './retry.js';
import { progressLine, safeJoin, streamToFile } from './transfer.js';
import { extractTar } from './untar.js';
import { redactUri, type HttpLocation } from './uri.js';

export const MODEL_FILES = [
  { name: 'modelship.json', required: true },
  { name: 'model.onnx', required: true },
  { name: 'metrics.json', required: false },
  { name: 'profile.json', required: false },
];

const MAX_REDIRECTS = 5;
/** A connection that stays silent this long is dead (a slow but moving download is not). */
const IDLE_TIMEOUT_MS = 60_000;

function requestOnce(url: URL): Promise<IncomingMessage> {
  const get = url.protocol === 'https:' ? getHttps : getHttp;
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: IDLE_TIMEOUT_MS, headers: { 'user-agent': 'modelship-serving' } }, resolve);
    req.on('timeout', () => req.destroy(Object.assign(new Error('no data for 60 s'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

/** GET following redirects (never down to plain http unless allowed); a 2xx response or a typed error. */
export async function httpGet(start: URL, allowHttp: boolean): Promise<IncomingMessage> {
  let url = start;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await requestOnce(url);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    res.resume();
    const location = res.headers.location;
    if (status < 300 || status >= 400 || !location) throw new HttpStatusError(status, redactUri(url));
    const next = new URL(location, url);
    if (next.protocol !== 'https:' && !(next.protocol === 'http:' && allowHttp))
      throw new StorageError('UnsupportedScheme', `${redactUri(url)} redirects to ${redactUri(next)}; refused`);
    url = next;
  }
  throw new StorageError('StorageRequestFailed', `${redactUri(start)}: more than ${MAX_REDIRECTS} redirects`);
}

/** Streams one 2xx response to `path` after checking its announced length against the budget. */
async function saveResponse(res: IncomingMessage, path: string, fc: FetchContext): Promise<number> {
  const announced = Number(res.headers['content-length'] ?? 0);
  try {
    fc.budget.precheck(announced);
  } catch (err) {
    res.destroy();
    throw err;
  }
  return streamToFile(res, path, fc.budget);
}

async function fetchFile(loc: HttpLocation, file: (typeof MODEL_FILES)[number], fc: FetchContext) {
  const url = new URL(file.name, loc.url);
  const path = safeJoin(fc.dir, file.name, redactUri(url));
  const started = performance.now();
  try {
    const bytes = await withRetry(
      async () => saveResponse(await httpGet(url, fc.allowHttp), path, fc),
      { target: redactUri(url) },
      fc.retry,
    );
    fc.out(progressLine('fetched', file.name, bytes, started));
    return bytes;
  } catch (err) {
    if (!(err instanceof StorageError) || err.reason !== 'ArtifactNotFound') throw err;
    if (file.required) {
      err.message = `${err.message}: ${file.name} is required by the artifact contract`;
      throw err;
    }
    fc.out(`absent ${file.name} (optional)\n`);
    return undefined;
  }
}

/** The contract's files of a model published on a web server. */
export async function fetchHttpModel(loc: HttpLocation, fc: FetchContext): Promise<{ files: string[]; bytes: number }> {
  const files: string[] = [];
  let bytes = 0;
  for (const file of MODEL_FILES) {
    const got = await fetchFile(loc, file, fc);
    if (got === undefined) continue;
    files.push(file.name);
    bytes += got;
  }
  return { files, bytes };
}

/** A .tar or .tar.gz, unpacked into the folder while it downloads; retried from the start. */
export async function fetchArchive(loc: HttpLocation, fc: FetchContext): Promise<{ files: string[]; bytes: number }> {
  const source = redactUri(loc.url);
  const started = performance.now();
  const result = await withRetry(
    async () =>
      extractTar(await httpGet(loc.url, fc.allowHttp), loc.archive === 'tar.gz', {
        dir: fc.dir,
        budget: fc.budget,
        source,
      }),
    { target: source },
    fc.retry,
  );
  const name = loc.url.pathname.split('/').pop() ?? source;
  fc.out(progressLine('unpacked', `${name} (${result.files} files)`, result.bytes, started));
  return { files: [name], bytes: result.bytes };
}
