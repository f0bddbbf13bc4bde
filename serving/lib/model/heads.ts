// Raw head outputs → class probabilities and the friendly per-head prediction. Pure.
import type { Head } from './schema.js';

export interface HeadPrediction {
  label: string;
  score: number;
  scores: Record<string, number>;
}

export type ItemPrediction = Record<string, HeadPrediction>;

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function softmax(row: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  const exps = Array.from(row, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Probabilities (one per label) for item `row` of a head output with `width` columns. */
export function headProbabilities(head: Head, data: ArrayLike<number>, width: number, row: number): number[] {
  const slice = Array.from({ length: width }, (_, i) => Number(data[row * width + i]));
  if (width === 1) {
    const p = head.activation === 'sigmoid' ? sigmoid(slice[0]) : Math.min(1, Math.max(0, slice[0]));
    return [1 - p, p];
  }
  return head.activation === 'softmax' ? softmax(slice) : slice;
}

export function predictionOf(head: Head, probabilities: number[]): HeadPrediction {
  let best = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[best]) best = i;
  const scores: Record<string, number> = {};
  head.labels.forEach((label, i) => {
    scores[label] = probabilities[i];
  });
  return { label: head.labels[best], score: probabilities[best], scores };
}
