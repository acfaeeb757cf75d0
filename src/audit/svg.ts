/**
 * The HTML report's pictures as inline SVG, drawn here (pure functions, no script, no external
 * resource): the topology (VIP -> holder and backups -> backends, coloured by state) and trend
 * charts over the history. Every drawn part carries data-* attributes naming what it shows, so a
 * test (and a curious operator) can read the picture's meaning from the DOM.
 */
import type { Severity } from '../checks/check.js';
import type { TopologyCluster } from './topology.js';

export const COLOUR: Record<Severity, string> = { ok: '#2e7d32', warning: '#ed6c02', critical: '#c62828' };
const GREY = '#8a8a8a';
/** Series colours, none of them a state colour, so a trend line never reads as a state. */
const PALETTE = ['#1565c0', '#6a1b9a', '#00838f', '#5d4037', '#283593', '#ad1457', '#37474f', '#0277bd'];

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n = (x: number) => String(Math.round(x * 10) / 10);

const BOX_H = 46;
const ROW = 60;
const COL = { vip: 10, node: 300, backend: 560 } as const;
const WIDTH = { vip: 210, node: 170, backend: 230 } as const;
const SVG_W = 800;

function box(kind: 'vip' | 'node' | 'backend', x: number, y: number, severity: Severity, lines: [string, string], attrs: Record<string, string>, title: string, dashed = false): string {
  const data = Object.entries({ kind, state: severity, ...attrs }).map(([k, v]) => ` data-${k}="${esc(v)}"`).join('');
  return `<g class="box"${data}><title>${esc(title)}</title>` +
    `<rect x="${x}" y="${y}" width="${WIDTH[kind]}" height="${BOX_H}" rx="6" fill="${COLOUR[severity]}"${dashed ? ` stroke="#1d1d1f" stroke-width="2" stroke-dasharray="5 3"` : ''}/>` +
    `<text x="${x + 10}" y="${y + 19}" fill="#fff" font-weight="600">${esc(clip(lines[0], WIDTH[kind]))}</text>` +
    `<text x="${x + 10}" y="${y + 36}" fill="#fff" font-size="12">${esc(clip(lines[1], WIDTH[kind]))}</text></g>`;
}

/** Text that fits a box (about 7 px a character at 13 px). */
function clip(s: string, width: number): string {
  const max = Math.floor((width - 16) / 7);
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function edge(x1: number, y1: number, x2: number, y2: number, colour: string, attrs: Record<string, string>, dashed = false): string {
  const data = Object.entries(attrs).map(([k, v]) => ` data-${k}="${esc(v)}"`).join('');
  const mx = (x1 + x2) / 2;
  return `<path class="edge"${data} d="M${n(x1)},${n(y1)} C${n(mx)},${n(y1)} ${n(mx)},${n(y2)} ${n(x2)},${n(y2)}" fill="none" stroke="${colour}" stroke-width="${dashed ? 2 : 3}"${dashed ? ' stroke-dasharray="6 4"' : ''}/>`;
}

/** One cluster's picture: VIPs on the left, its nodes (holder solid, backups dashed), the holder's backends on the right. */
function clusterSvg(c: TopologyCluster, top: number): { svg: string; height: number } {
  const rows = Math.max(c.vips.length, c.nodes.length, c.backends.length, 1);
  const y0 = top + 28;
  const rowY = (i: number) => y0 + i * ROW;
  const parts: string[] = [`<text x="${COL.vip}" y="${top + 16}" font-weight="600" data-cluster="${esc(c.name)}">${esc(`${c.kind}: ${c.name}`)}</text>`];
  c.vips.forEach((v, i) => {
    c.nodes.forEach((node, j) => {
      const holds = v.holders.includes(node.name);
      parts.push(edge(COL.vip + WIDTH.vip, rowY(i) + BOX_H / 2, COL.node, rowY(j) + BOX_H / 2, holds ? COLOUR[v.severity] : GREY,
        { from: v.address, to: node.name, role: holds ? 'holder' : 'backup' }, !holds));
    });
  });
  const viewer = c.backends[0]?.seenFrom;
  const vj = c.nodes.findIndex((x) => x.name === viewer);
  c.backends.forEach((b, k) => {
    if (vj >= 0) parts.push(edge(COL.node + WIDTH.node, rowY(vj) + BOX_H / 2, COL.backend, rowY(k) + BOX_H / 2, COLOUR[b.severity], { from: viewer!, to: `${b.service}/${b.server}`, state: b.severity }));
  });
  c.vips.forEach((v, i) => parts.push(box('vip', COL.vip, rowY(i), v.severity, [v.name, v.address], { name: v.address, holders: v.holders.join(',') }, `VIP ${v.name} ${v.address}: ${v.detail}`)));
  c.nodes.forEach((node, j) => parts.push(box('node', COL.node, rowY(j), node.severity, [node.name, node.role], { name: node.name, role: node.role }, `${node.name} (${node.role}): ${node.detail}`, node.role === 'backup')));
  c.backends.forEach((b, k) => parts.push(box('backend', COL.backend, rowY(k), b.severity, [b.server, `${b.service}: ${b.detail}`], { name: `${b.service}/${b.server}`, backend: b.state }, `${b.service}/${b.server} ${b.detail} (as ${b.seenFrom} sees it)`)));
  if (c.backends.length === 0) parts.push(`<text x="${COL.backend}" y="${y0 + 26}" fill="${GREY}">no backends to show for this kind</text>`);
  return { svg: parts.join('\n'), height: 28 + rows * ROW + 16 };
}

export function topologySvg(clusters: readonly TopologyCluster[]): string {
  if (clusters.length === 0) return '<p>No deployment of this inventory has a VIP.</p>';
  const legend = (['ok', 'warning', 'critical'] as const).map((s, i) => `<rect x="${10 + i * 110}" y="4" width="14" height="14" rx="3" fill="${COLOUR[s]}"/><text x="${30 + i * 110}" y="16">${s}</text>`).join('') +
    `<text x="350" y="16" fill="#444">solid line: holds the VIP; dashed: backup</text>`;
  let y = 28;
  const parts: string[] = [];
  for (const c of clusters) {
    const { svg, height } = clusterSvg(c, y);
    parts.push(`<g class="cluster" data-kind="${esc(c.kind)}" data-name="${esc(c.name)}">${svg}</g>`);
    y += height;
  }
  return `<svg id="topology" xmlns="http://www.w3.org/2000/svg" width="${SVG_W}" height="${y}" viewBox="0 0 ${SVG_W} ${y}" font-family="system-ui, sans-serif" font-size="13" role="img" aria-label="VIPs, their holders and backups, and backends">\n${legend}\n${parts.join('\n')}\n</svg>`;
}

export interface TrendPoint {
  /** ms since the epoch */
  t: number;
  y: number;
  /** Marks a point (a failed drill): drawn larger in the state's colour. */
  severity?: Severity;
}

export interface TrendSeries {
  name: string;
  points: TrendPoint[];
}

export interface Trend {
  id: string;
  unit: string;
  series: TrendSeries[];
  /** Horizontal lines: e.g. the certificate thresholds. */
  thresholds?: { value: number; severity: Severity; label: string }[];
}

const CH = { w: 760, h: 220, l: 56, r: 16, t: 14, b: 44 } as const;
/** Series named under a chart; the rest are named by their points' tooltips. */
const LEGEND_MAX = 12;

const stamp = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');

/** A line chart of series over time, or a sentence when there is nothing to draw yet. */
export function trendSvg(tr: Trend): string {
  const series = tr.series.filter((s) => s.points.length > 0);
  if (series.length === 0) return `<p class="empty" data-trend="${esc(tr.id)}">Nothing recorded yet: each run adds a point here.</p>`;
  const all = series.flatMap((s) => s.points);
  let [t0, t1] = [Math.min(...all.map((p) => p.t)), Math.max(...all.map((p) => p.t))];
  if (t1 - t0 < 60_000) [t0, t1] = [t0 - 1800_000, t1 + 1800_000];
  const yMax = Math.max(1, ...all.map((p) => p.y), ...(tr.thresholds ?? []).map((x) => x.value)) * 1.1;
  const yMin = Math.min(0, ...all.map((p) => p.y));
  const X = (t: number) => CH.l + ((t - t0) / (t1 - t0)) * (CH.w - CH.l - CH.r);
  const Y = (y: number) => CH.t + (1 - (y - yMin) / (yMax - yMin)) * (CH.h - CH.t - CH.b);
  const parts: string[] = [];
  for (const f of [0, 0.5, 1]) {
    const v = yMin + f * (yMax / 1.1 - yMin);
    parts.push(`<line x1="${CH.l}" x2="${CH.w - CH.r}" y1="${n(Y(v))}" y2="${n(Y(v))}" stroke="#e0e0e0"/><text x="${CH.l - 6}" y="${n(Y(v) + 4)}" text-anchor="end" fill="#555">${n(v)}</text>`);
  }
  parts.push(`<text x="${CH.l - 6}" y="${CH.t - 2}" text-anchor="end" fill="#555" font-size="11">${esc(tr.unit)}</text>`);
  for (const [i, t] of [t0, (t0 + t1) / 2, t1].entries()) {
    parts.push(`<text x="${n(X(t))}" y="${CH.h - CH.b + 16}" text-anchor="${['start', 'middle', 'end'][i]}" fill="#555" font-size="11">${stamp(t)} UTC</text>`);
  }
  for (const th of tr.thresholds ?? []) {
    parts.push(`<line class="threshold" data-state="${th.severity}" x1="${CH.l}" x2="${CH.w - CH.r}" y1="${n(Y(th.value))}" y2="${n(Y(th.value))}" stroke="${COLOUR[th.severity]}" stroke-dasharray="6 4"/>` +
      `<text x="${CH.w - CH.r}" y="${n(Y(th.value) - 4)}" text-anchor="end" fill="${COLOUR[th.severity]}" font-size="11">${esc(th.label)}</text>`);
  }
  const legend: string[] = [];
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length]!;
    const pts = [...s.points].sort((a, b) => a.t - b.t);
    parts.push(`<g class="series" data-series="${esc(s.name)}" data-points="${pts.length}" data-last="${n(pts[pts.length - 1]!.y)}">` +
      (pts.length > 1 ? `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts.map((p) => `${n(X(p.t))},${n(Y(p.y))}`).join(' ')}"/>` : '') +
      pts.map((p) => `<circle cx="${n(X(p.t))}" cy="${n(Y(p.y))}" r="${p.severity && p.severity !== 'ok' ? 6 : 3}" fill="${p.severity && p.severity !== 'ok' ? COLOUR[p.severity] : colour}"${p.severity ? ` data-state="${p.severity}"` : ''}><title>${esc(`${s.name}: ${n(p.y)} ${tr.unit} at ${stamp(p.t)} UTC`)}</title></circle>`).join('') +
      '</g>');
    if (i < LEGEND_MAX) legend.push(`<rect x="${CH.l + (i % 4) * 175}" y="${CH.h - 14 + Math.floor(i / 4) * 16}" width="12" height="4" fill="${colour}"/><text x="${CH.l + (i % 4) * 175 + 16}" y="${CH.h - 9 + Math.floor(i / 4) * 16}" font-size="11">${esc(clip(s.name, 165))}</text>`);
  });
  const legendRows = Math.ceil(Math.min(series.length, LEGEND_MAX) / 4);
  if (series.length > LEGEND_MAX) legend.push(`<text x="${CH.l}" y="${CH.h - 9 + legendRows * 16}" font-size="11">and ${series.length - LEGEND_MAX} more (hover the points)</text>`);
  const h = CH.h + (legendRows - 1) * 16 + (series.length > LEGEND_MAX ? 16 : 0);
  return `<svg class="trend" data-trend="${esc(tr.id)}" xmlns="http://www.w3.org/2000/svg" width="${CH.w}" height="${h}" viewBox="0 0 ${CH.w} ${h}" font-family="system-ui, sans-serif" font-size="12" role="img">\n${parts.join('\n')}\n${legend.join('\n')}\n</svg>`;
}

/** Each audit's result as a strip of coloured marks, oldest on the left. */
export function statusStrip(audits: readonly { t: number; status: Severity }[]): string {
  if (audits.length === 0) return '<p class="empty" data-trend="status">Nothing recorded yet: each run adds a point here.</p>';
  const w = Math.max(3, Math.min(14, Math.floor((CH.w - CH.l - CH.r) / audits.length)));
  const marks = audits.map((a, i) => `<rect x="${CH.l + i * w}" y="4" width="${Math.max(1, w - 1)}" height="22" fill="${COLOUR[a.status]}" data-state="${a.status}"><title>${stamp(a.t)} UTC: ${a.status}</title></rect>`);
  return `<svg class="trend" data-trend="status" xmlns="http://www.w3.org/2000/svg" width="${CH.w}" height="44" font-family="system-ui, sans-serif" font-size="11">` +
    `<text x="${CH.l - 6}" y="20" text-anchor="end" fill="#555">audits</text>${marks.join('')}` +
    `<text x="${CH.l}" y="40" fill="#555">${stamp(audits[0]!.t)} UTC</text><text x="${CH.w - CH.r}" y="40" text-anchor="end" fill="#555">${stamp(audits[audits.length - 1]!.t)} UTC</text></svg>`;
}
