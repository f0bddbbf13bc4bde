// Request counters by verb / resource / subresource, so tests and benchmarks can assert
// "no writes at steady state"; exposed as JSON (/debug/counters) and Prometheus text (/metrics).
export interface RequestCounters {
  total: number;
  /** create + update + patch + delete + deletecollection */
  writes: number;
  byVerb: Record<string, number>;
  /** "<verb> <resource>[.<group>][/<subresource>]" → count, e.g. "patch deployments.apps/status". */
  byKey: Record<string, number>;
}

export const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export class Counters {
  private readonly byKey = new Map<string, number>();
  private readonly labels = new Map<
    string,
    { verb: string; resource: string; subresource: string; code: Map<number, number> }
  >();

  record(verb: string, resource: string, subresource: string, code: number): void {
    const key = `${verb} ${resource}${subresource ? `/${subresource}` : ''}`;
    this.byKey.set(key, (this.byKey.get(key) ?? 0) + 1);
    let l = this.labels.get(key);
    if (!l) this.labels.set(key, (l = { verb, resource, subresource, code: new Map() }));
    l.code.set(code, (l.code.get(code) ?? 0) + 1);
  }

  snapshot(): RequestCounters {
    const byVerb: Record<string, number> = {};
    let total = 0;
    let writes = 0;
    for (const [key, n] of this.byKey) {
      const verb = key.slice(0, key.indexOf(' '));
      byVerb[verb] = (byVerb[verb] ?? 0) + n;
      total += n;
      if (WRITE_VERBS.has(verb)) writes += n;
    }
    return { total, writes, byVerb, byKey: Object.fromEntries(this.byKey) };
  }

  reset(): void {
    this.byKey.clear();
    this.labels.clear();
  }

  /** Prometheus text exposition, named like kube-apiserver's apiserver_request_total. */
  prometheus(extra: Record<string, number> = {}): string {
    const lines = [
      '# HELP apiserver_request_total Counter of apiserver requests broken out by verb, resource, subresource and code.',
      '# TYPE apiserver_request_total counter',
    ];
    const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    for (const l of this.labels.values()) {
      for (const [code, n] of l.code) {
        lines.push(
          `apiserver_request_total{verb="${esc(l.verb.toUpperCase())}",resource="${esc(l.resource)}",subresource="${esc(l.subresource)}",code="${code}"} ${n}`,
        );
      }
    }
    for (const [name, v] of Object.entries(extra)) lines.push(`# TYPE ${name} gauge`, `${name} ${v}`);
    return `${lines.join('\n')}\n`;
  }
}
