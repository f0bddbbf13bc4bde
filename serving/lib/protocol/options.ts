// What a ServingApp is built from: the artifact, the identity it serves under, the request
// limits and the feedback settings. The serve CLI fills these from its flags.
import type { Logger } from '../log.js';
import type { Artifact } from '../model/artifact.js';
import type { KeyRing } from './keys.js';
import type { AdmissionLimits } from './admission.js';

/**
 * How long a terminating pod keeps answering after SIGTERM: kube-proxy's lag, with room. The
 * router's upstream pool lets go of idle sockets sooner (serving/router/upstreams.ts).
 */
export const DEFAULT_SHUTDOWN_DELAY_MS = 5000;

export interface Limits {
  /** request body bytes */
  maxBodyBytes: number;
  /** decoded pixels per image (width × height), checked from the header before decoding */
  maxPixels: number;
  /** images or rows per request */
  maxImages: number;
  /** whole request: receiving the body and answering */
  requestTimeoutMs: number;
  /**
   * JSON request bodies (feedback, OIP infer, tabular predict): far below maxBodyBytes, which
   * is sized for images; parsing megabytes of JSON holds the event loop (health probes too).
   */
  maxJsonBytes: number;
  /** nesting of arrays and objects in a JSON body, checked before parsing */
  maxJsonDepth: number;
}

/**
 * How long a predictionId can be given feedback: long enough for labels that follow within
 * the hour, short enough that the replay memory below covers it.
 */
export const DEFAULT_FEEDBACK_TTL_S = 3600;
/** About 37 MiB of heap (128 bytes an entry, measured): 83 judged heads a second for an hour. */
export const DEFAULT_SEEN_CAPACITY = 300_000;

export const DEFAULT_LIMITS: Limits = {
  maxBodyBytes: 10 * 1024 * 1024,
  maxPixels: 25_000_000,
  maxImages: 32,
  requestTimeoutMs: 10_000,
  // 32 rows of a 64×64×3 FP32 OIP tensor written as JSON numbers take about 4 MB.
  maxJsonBytes: 4 * 1024 * 1024,
  maxJsonDepth: 32,
};

export interface IndexInfo {
  model: string;
  version: string;
  heads: { name: string; labels: string[] }[];
}

export interface AppOptions {
  artifact: Artifact;
  /** served model name (default: modelship.json name) */
  name?: string;
  version: string;
  limits?: Partial<Limits>;
  /** token-signing keys (a single key gets the id "default") */
  feedbackKey: Buffer | KeyRing;
  feedbackTtlSeconds?: number;
  seenCapacity?: number;
  /** a file the replay memory is kept in too, so that a restarted server still refuses replays */
  replayJournal?: string;
  /** requests in flight and body bytes held at once; sized for 1 GiB when unset */
  admission?: AdmissionLimits;
  /** when set, POST /feedback must carry one of these as a bearer token */
  feedbackCredentials?: { all(): Buffer[] };
  /** `GET /`: the web page and the headers it must be sent with (serving/web). */
  webPage?: WebPage;
  logger?: Logger;
  processMetrics?: boolean;
}

/** The web page plug-in: its HTML, and the headers that keep it safe (CSP, framing). */
export interface WebPage {
  render(info: IndexInfo): string;
  headers: Readonly<Record<string, string>>;
}
