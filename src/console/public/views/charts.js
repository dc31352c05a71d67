import { html } from '../html.js';

/** A sparkline as SVG: one polyline per series, scaled to the largest value. */
export function Spark({ series, width = 120, height = 24 }) {
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const n = Math.max(2, series[0].values.length);
  const pts = (values) =>
    values
      .map(
        (v, i) =>
          `${((i / (n - 1)) * width).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`,
      )
      .join(' ');
  return html`<svg class="spark" width=${width} height=${height} viewBox="0 0 ${width} ${height}" aria-hidden="true">
    ${series.map((s) => html`<polyline class=${s.cls} points=${pts(s.values)} />`)}
  </svg>`;
}

/** A line chart with axes: points [{t, ...}] and series [{label, cls, get}]. */
export function Chart({ points, series, title, unit = '' }) {
  const W = 560;
  const H = 160;
  const L = 48;
  const B = 20;
  const values = points.flatMap((p) => series.map((s) => s.get(p)));
  const max = Math.max(1, ...values);
  const x = (i) => L + (i / Math.max(1, points.length - 1)) * (W - L - 8);
  const y = (v) => H - B - (v / max) * (H - B - 8);
  const label = (t) =>
    new Date(t).toISOString().slice(points.length === 7 ? 5 : 11, points.length === 7 ? 10 : 16);
  return html`<figure class="chart">
    <figcaption>${title} ${series.map((s) => html`<span class="key ${s.cls}">${s.label}</span>`)}</figcaption>
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-label=${title}>
      <line class="axis" x1=${L} y1=${H - B} x2=${W} y2=${H - B} />
      <text class="tick" x=${L - 4} y="12" text-anchor="end">${Math.round(max)}${unit}</text>
      <text class="tick" x=${L - 4} y=${H - B} text-anchor="end">0</text>
      ${
        points.length > 0 &&
        html`<text class="tick" x=${L} y=${H - 4}>${label(points[0].t)}</text>
      <text class="tick" x=${W - 8} y=${H - 4} text-anchor="end">${label(points[points.length - 1].t)}</text>`
      }
      ${series.map(
        (s) =>
          html`<polyline class="line ${s.cls}" points=${points.map((p, i) => `${x(i).toFixed(1)},${y(s.get(p)).toFixed(1)}`).join(' ')} />`,
      )}
    </svg>
  </figure>`;
}
