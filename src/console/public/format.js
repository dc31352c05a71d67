export const num = (n) => (n === undefined || n === null ? '–' : Number(n).toLocaleString('en-US'));

export function ago(ms) {
  if (ms === null || ms === undefined) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export const time = (t) => (t ? new Date(t).toISOString().replace('T', ' ').slice(0, 19) : '–');
export const since = (t) => (t ? `${ago(Date.now() - t)} ago` : '–');
export const pct = (r) => (r === null || r === undefined ? '–' : `${(r * 100).toFixed(r < 0.1 ? 1 : 0)}%`);
export const ms = (v) => (v ? (v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`) : '–');
