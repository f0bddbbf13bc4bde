// The canary timeline picture: traffic share and live accuracy per model version over the
// demo, from the demo cluster's Prometheus (the router's modelship_router_upstream_weight and
// the serving pods' modelship_feedback_total), with the rollout events the demo observed as
// markers. Fetching is separate from drawing; the SVG builder is pure.
import { versionNumber } from './loadgen.js';

export interface Point {
  t: number;
  v: number;
}
export interface Series {
  version: number;
  points: Point[];
}
export interface Marker {
  t: number;
  label: string;
}

export interface Timeline {
  start: number;
  end: number;
  traffic: Series[];
  accuracy: Series[];
  markers: Marker[];
}

export class PrometheusQueryError extends Error {
  override name = 'PrometheusQueryError';
}

export const TRAFFIC_QUERY = (model: string) =>
  `sum by (version) (max by (version, role) (modelship_router_upstream_weight{model="${model}"}))`;
export const ACCURACY_QUERY = (window: string) =>
  `sum by (version) (increase(modelship_feedback_total{outcome="correct"}[${window}])) / sum by (version) (increase(modelship_feedback_total[${window}]))`;

interface RangeResponse {
  status: string;
  error?: string;
  data?: { result?: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
}

/** Prometheus range-query result → one series per version label, NaN values dropped (pure). */
export function toSeries(body: RangeResponse): Series[] {
  const byVersion = new Map<number, Point[]>();
  for (const r of body.data?.result ?? []) {
    const version = versionNumber(r.metric.version);
    if (version === undefined) continue;
    const points = byVersion.get(version) ?? [];
    for (const [t, v] of r.values) if (Number.isFinite(Number(v))) points.push({ t: t * 1000, v: Number(v) });
    byVersion.set(
      version,
      points.sort((a, b) => a.t - b.t),
    );
  }
  return [...byVersion.entries()].sort((a, b) => a[0] - b[0]).map(([version, points]) => ({ version, points }));
}

export async function queryRange(
  prometheusUrl: string,
  query: string,
  startMs: number,
  endMs: number,
  stepS: number,
): Promise<Series[]> {
  const url = new URL('/api/v1/query_range', prometheusUrl);
  url.search = new URLSearchParams({
    query,
    start: String(startMs / 1000),
    end: String(endMs / 1000),
    step: String(stepS),
  }).toString();
  let body: RangeResponse;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    body = (await res.json()) as RangeResponse;
  } catch (err) {
    throw new PrometheusQueryError(`querying ${prometheusUrl} failed`, { cause: err });
  }
  if (body.status !== 'success')
    throw new PrometheusQueryError(`Prometheus refused "${query}": ${body.error ?? body.status}`);
  return toSeries(body);
}

export async function fetchTimeline(
  prometheusUrl: string,
  model: string,
  startMs: number,
  endMs: number,
  markers: Marker[],
): Promise<Timeline> {
  const step = Math.max(2, Math.ceil((endMs - startMs) / 1000 / 400));
  const [traffic, accuracy] = await Promise.all([
    queryRange(prometheusUrl, TRAFFIC_QUERY(model), startMs, endMs, step),
    queryRange(prometheusUrl, ACCURACY_QUERY('30s'), startMs, endMs, step),
  ]);
  return { start: startMs, end: endMs, traffic, accuracy, markers };
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const colorOf = (version: number): string => COLORS[(version - 1 + COLORS.length) % COLORS.length];
const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f = (n: number): string => n.toFixed(1);

interface Panel {
  top: number;
  height: number;
  min: number;
  max: number;
  title: string;
  ticks: number[];
  format(v: number): string;
}

/** Markers closer than `withinMs` become one, labels joined, so that their texts do not overlap (pure). */
export function mergeMarkers(markers: Marker[], withinMs: number): Marker[] {
  const out: Marker[] = [];
  for (const m of [...markers].sort((a, b) => a.t - b.t)) {
    const last = out[out.length - 1];
    if (last && m.t - last.t < withinMs) last.label = `${last.label}, ${m.label}`;
    else out.push({ ...m });
  }
  return out;
}

/** The timeline as a standalone SVG document (pure, deterministic for the same input). */
export function renderTimelineSvg(tl: Timeline, title = 'Modelship demo: canary timeline'): string {
  const W = 960,
    left = 64,
    right = 150,
    width = W - left - right;
  const panels: Panel[] = [
    {
      top: 56,
      height: 180,
      min: 0,
      max: 100,
      title: 'traffic share (%)',
      ticks: [0, 25, 50, 75, 100],
      format: (v) => String(v),
    },
    {
      top: 290,
      height: 180,
      min: 0.2,
      max: 1,
      title: 'live accuracy (feedback, 30 s window)',
      ticks: [0.2, 0.4, 0.6, 0.8, 1],
      format: (v) => v.toFixed(1),
    },
  ];
  const H = 540;
  const span = Math.max(1, tl.end - tl.start);
  const x = (t: number) => left + ((t - tl.start) / span) * width;
  const y = (p: Panel, v: number) =>
    p.top + p.height - ((Math.min(p.max, Math.max(p.min, v)) - p.min) / (p.max - p.min)) * p.height;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${left}" y="28" font-size="16" font-weight="bold">${esc(title)}</text>`,
  ];
  const minutes = Math.ceil(span / 60_000);
  const tickEvery = minutes > 12 ? 2 : 1;
  for (const p of panels) {
    out.push(`<text x="${left}" y="${p.top - 8}" fill="#333">${esc(p.title)}</text>`);
    out.push(`<rect x="${left}" y="${p.top}" width="${width}" height="${p.height}" fill="none" stroke="#999"/>`);
    for (const v of p.ticks) {
      out.push(`<line x1="${left}" x2="${left + width}" y1="${f(y(p, v))}" y2="${f(y(p, v))}" stroke="#eee"/>`);
      out.push(`<text x="${left - 6}" y="${f(y(p, v) + 4)}" text-anchor="end" fill="#555">${p.format(v)}</text>`);
    }
    for (let m = 0; m <= minutes; m += tickEvery) {
      const tx = x(tl.start + m * 60_000);
      if (tx > left + width + 0.5) break;
      out.push(`<text x="${f(tx)}" y="${p.top + p.height + 16}" text-anchor="middle" fill="#555">${m}:00</text>`);
    }
  }
  for (const m of mergeMarkers(tl.markers, span / 60)) {
    const mx = f(x(m.t));
    out.push(
      `<line x1="${mx}" x2="${mx}" y1="${panels[0].top}" y2="${panels[1].top + panels[1].height}" stroke="#888" stroke-dasharray="3,3"/>`,
    );
    out.push(
      `<text transform="translate(${f(x(m.t) + 3)},${panels[0].top + 4}) rotate(90)" fill="#444" font-size="10">${esc(m.label)}</text>`,
    );
  }
  const versions = new Set<number>();
  const draw = (p: Panel, series: Series[]) => {
    for (const s of series) {
      if (!s.points.length) continue;
      versions.add(s.version);
      // A gap longer than a few samples (a version not scraped) breaks the line.
      const parts: string[] = [];
      let prev: Point | undefined;
      for (const pt of s.points) {
        parts.push(`${!prev || pt.t - prev.t > 20_000 ? 'M' : 'L'}${f(x(pt.t))},${f(y(p, pt.v))}`);
        prev = pt;
      }
      out.push(`<path d="${parts.join(' ')}" fill="none" stroke="${colorOf(s.version)}" stroke-width="2"/>`);
    }
  };
  draw(panels[0], tl.traffic);
  draw(panels[1], tl.accuracy);
  [...versions]
    .sort((a, b) => a - b)
    .forEach((v, i) => {
      const ly = panels[0].top + 10 + i * 20;
      out.push(
        `<line x1="${left + width + 16}" x2="${left + width + 40}" y1="${ly}" y2="${ly}" stroke="${colorOf(v)}" stroke-width="3"/>`,
      );
      out.push(`<text x="${left + width + 46}" y="${ly + 4}">v${v}</text>`);
    });
  out.push(
    `<text x="${left + width / 2}" y="${H - 12}" text-anchor="middle" fill="#555">minutes since the demo started</text>`,
  );
  out.push('</svg>');
  return out.join('\n') + '\n';
}
