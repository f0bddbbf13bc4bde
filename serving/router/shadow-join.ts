// Joins a shadow's answers to stable's, request by request, so that a candidate can be judged
// before any user sees it. The router sends each /predict request to stable (whose answer the
// client gets) and a copy to the shadow; both answers pass through here, so the router knows,
// per item and head, what each version predicted for the same input: agreement and the
// stable-vs-shadow confusion matrix at once, and — kept by stable's predictionId until the
// token expires — what the feedback users send for stable's prediction says of the shadow's.
// Memory is bounded: a full store joins no more pairs (counted) and never forgets one early.

/** One answer's predicted label per head, item by item, with stable's predictionIds. */
export interface PredictAnswer {
  ids: string[];
  labels: Array<Record<string, string>>;
}

/** The largest answer body read for the join; a bigger one is left unjoined. */
export const MAX_ANSWER_BYTES = 1024 * 1024;

/** The items of a /predict answer ({predictions: [{predictionId, heads: {h: {label}}}]}), else undefined. */
export function parsePredictAnswer(body: Buffer): PredictAnswer | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const items = (parsed as { predictions?: unknown }).predictions;
  if (!Array.isArray(items)) return undefined;
  const answer: PredictAnswer = { ids: [], labels: [] };
  for (const item of items as Array<{ predictionId?: unknown; heads?: unknown }>) {
    if (typeof item?.predictionId !== 'string' || !item.heads || typeof item.heads !== 'object') return undefined;
    const labels: Record<string, string> = {};
    for (const [head, p] of Object.entries(item.heads as Record<string, { label?: unknown }>))
      if (typeof p?.label === 'string') labels[head] = p.label;
    answer.ids.push(item.predictionId);
    answer.labels.push(labels);
  }
  return answer;
}

/** What became of one request's pair. */
export type JoinResult = 'joined' | 'stable_failed' | 'shadow_failed' | 'unparsable' | 'mismatched' | 'full';

/** One head's labels for one item: what stable and the shadow predicted. */
export interface HeadPair {
  head: string;
  stable: string;
  shadow: string;
}

/** One head of a labelled, joined prediction: was each version right? */
export interface ScoredHead {
  head: string;
  stableCorrect: boolean;
  shadowCorrect: boolean;
}

export interface ShadowJoinOptions {
  /** Joined predictions kept for feedback (default 100,000: about 30 MB). */
  capacity?: number;
  /** How long one waits for its feedback: the token lifetime (default 1 h). */
  ttlMs?: number;
  now?: () => number;
}

/** The versions a pair was joined for: the labels of its series. */
export interface JoinedVersions {
  stable: string;
  shadow: string;
}

interface Kept {
  expiresAt: number;
  versions: JoinedVersions;
  heads: Map<string, { stable: string; shadow: string }>;
}

export class ShadowJoin {
  private readonly kept = new Map<string, Kept>();
  private readonly capacity: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: ShadowJoinOptions = {}) {
    this.capacity = options.capacity ?? 100_000;
    this.ttlMs = options.ttlMs ?? 3_600_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.kept.size;
  }

  /**
   * Joins the two answers to one request: the pairs per item and head (for agreement), and
   * each item kept under stable's predictionId for its feedback.
   */
  join(
    versions: JoinedVersions,
    stable: PredictAnswer | undefined,
    shadow: PredictAnswer | undefined,
  ): { result: JoinResult; pairs: HeadPair[] } {
    if (!stable || !shadow) return { result: 'unparsable', pairs: [] };
    if (stable.ids.length !== shadow.ids.length) return { result: 'mismatched', pairs: [] };
    const pairs: HeadPair[] = [];
    this.expire();
    let stored = true;
    stable.ids.forEach((id, i) => {
      const heads = new Map<string, { stable: string; shadow: string }>();
      for (const [head, label] of Object.entries(stable.labels[i])) {
        const other = shadow.labels[i][head];
        if (other === undefined) continue;
        heads.set(head, { stable: label, shadow: other });
        pairs.push({ head, stable: label, shadow: other });
      }
      if (this.kept.size >= this.capacity) stored = false;
      else this.kept.set(id, { expiresAt: this.now() + this.ttlMs, versions, heads });
    });
    return { result: stored ? 'joined' : 'full', pairs };
  }

  /**
   * Scores the shadow with feedback stable accepted for `predictionId`: each labelled head is
   * scored once. Undefined when the prediction was not joined (or expired).
   */
  score(
    predictionId: string,
    labels: Record<string, unknown>,
  ): { versions: JoinedVersions; heads: ScoredHead[] } | undefined {
    const kept = this.kept.get(predictionId);
    if (!kept || kept.expiresAt <= this.now()) return undefined;
    const scored: ScoredHead[] = [];
    for (const [head, label] of Object.entries(labels)) {
      const pair = kept.heads.get(head);
      if (typeof label !== 'string' || !pair) continue;
      scored.push({ head, stableCorrect: pair.stable === label, shadowCorrect: pair.shadow === label });
      kept.heads.delete(head);
    }
    if (kept.heads.size === 0) this.kept.delete(predictionId);
    return { versions: kept.versions, heads: scored };
  }

  /** Entries are kept in insertion order with one lifetime, so the expired ones are in front. */
  private expire(): void {
    const now = this.now();
    for (const [id, kept] of this.kept) {
      if (kept.expiresAt > now) break;
      this.kept.delete(id);
    }
  }
}

/** One upstream's answer to a request: its status (0 when none came) and body when whole. */
export interface Answer {
  status: number;
  body: Buffer | undefined;
}

/**
 * Two listeners, one per side, and `onBoth` called once when both answered (each side's first
 * call counts; later ones are ignored).
 */
export function pairAnswers(onBoth: (stable: Answer, shadow: Answer) => void): {
  stable: (status: number, body: Buffer | undefined) => void;
  shadow: (status: number, body: Buffer | undefined) => void;
} {
  let stable: Answer | undefined;
  let shadow: Answer | undefined;
  const check = () => {
    if (stable && shadow) onBoth(stable, shadow);
  };
  return {
    stable: (status, body) => {
      if (stable) return;
      stable = { status, body };
      check();
    },
    shadow: (status, body) => {
      if (shadow) return;
      shadow = { status, body };
      check();
    },
  };
}

/** Joins a pair of answers: failures are named for the side that failed. */
export function joinAnswers(
  join: ShadowJoin,
  versions: JoinedVersions,
  stable: Answer,
  shadow: Answer,
): { result: JoinResult; pairs: HeadPair[] } {
  if (stable.status !== 200) return { result: 'stable_failed', pairs: [] };
  if (shadow.status !== 200 || !shadow.body) return { result: 'shadow_failed', pairs: [] };
  if (!stable.body) return { result: 'unparsable', pairs: [] };
  return join.join(versions, parsePredictAnswer(stable.body), parsePredictAnswer(shadow.body));
}
