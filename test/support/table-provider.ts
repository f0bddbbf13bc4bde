// A MetricProvider for analysis tests: answers each query from a table keyed by a piece of
// the query (the longest key found wins), and records the queries it was asked.
import type { MetricProvider, Sample } from '../../operator/metrics-providers/index.js';

/** A provider answering from a table keyed by metric name found in the query. */
export function tableProvider(answers: Record<string, Sample[] | Error>): MetricProvider & { queries: string[] } {
  const queries: string[] = [];
  return {
    type: 'table',
    queries,
    async query(q: string) {
      queries.push(q);
      const key = Object.keys(answers)
        .sort((a, b) => b.length - a.length)
        .find((k) => q.includes(k));
      const a = key === undefined ? [] : answers[key];
      if (a instanceof Error) throw a;
      return a;
    },
  };
}
