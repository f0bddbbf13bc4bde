// reference/labels.jsonl: one labelled sample per line, checked against the signature before
// anything runs, so a bad line fails validation with its line number instead of skewing the
// measured accuracy.
import { ServingError } from '../errors.js';
import type { Signature } from '../model/schema.js';

export interface ReferenceItem {
  line: number;
  file?: string;
  features?: unknown[];
  labels: Record<string, string>;
}

type Entry = { file?: unknown; features?: unknown; labels?: unknown };

function parseEntry(line: string, where: string): Entry {
  try {
    return JSON.parse(line);
  } catch {
    throw new ServingError('INVALID_ARTIFACT', `${where}: not JSON`);
  }
}

/** Every label names a head of the signature and one of its labels. */
function checkLabels(labels: Record<string, unknown>, sig: Signature, where: string): void {
  for (const [head, label] of Object.entries(labels)) {
    const h = sig.heads.find((x) => x.name === head);
    if (!h) throw new ServingError('INVALID_ARTIFACT', `${where}: labels.${head} is not a head of the signature`);
    if (typeof label !== 'string' || !h.labels.includes(label))
      throw new ServingError(
        'INVALID_ARTIFACT',
        `${where}: labels.${head} ${JSON.stringify(label)} is not one of ${h.labels.join(', ')}`,
      );
  }
}

function parseItem(line: string, lineNo: number, sig: Signature): ReferenceItem {
  const where = `reference/labels.jsonl line ${lineNo}`;
  const entry = parseEntry(line, where);
  if (!entry || typeof entry.labels !== 'object' || entry.labels === null)
    throw new ServingError('INVALID_ARTIFACT', `${where}: labels must be an object`);
  const labels = entry.labels as Record<string, unknown>;
  checkLabels(labels, sig, where);
  if (sig.input.kind === 'image' && typeof entry.file !== 'string')
    throw new ServingError('INVALID_ARTIFACT', `${where}: file must be a path relative to reference/`);
  if (sig.input.kind === 'tensor' && !Array.isArray(entry.features))
    throw new ServingError('INVALID_ARTIFACT', `${where}: features must be an array`);
  return {
    line: lineNo,
    file: entry.file as string | undefined,
    features: entry.features as unknown[] | undefined,
    labels: labels as Record<string, string>,
  };
}

export function parseReferenceLabels(text: string, sig: Signature): ReferenceItem[] {
  const items: ReferenceItem[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line) items.push(parseItem(line, i + 1, sig));
  });
  if (items.length === 0) throw new ServingError('INVALID_ARTIFACT', 'reference/labels.jsonl has no samples');
  return items;
}
