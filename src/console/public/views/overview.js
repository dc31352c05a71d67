import { ago, num, pct } from '../format.js';
import { html } from '../html.js';
import { Spark } from './charts.js';
import { SpoolsPanel } from './spools.js';

const link = (name, state) => `#/queue/${encodeURIComponent(name)}${state ? `/${state}` : ''}`;

export function Warnings({ overview }) {
  const w = overview.redis.warnings.map((text) => ({ text, cls: 'warn' }));
  for (const q of overview.queues)
    if (q.noWorker) w.push({ text: `Queue ${q.name} has jobs but no live worker.`, cls: 'warn' });
  if (w.length === 0) return null;
  return html`<ul class="warnings">${w.map((x) => html`<li class=${x.cls}>${x.text}</li>`)}</ul>`;
}

export function Overview({ overview }) {
  if (!overview) return html`<p>Reading Redis…</p>`;
  return html`<section>
    <${Warnings} overview=${overview} />
    <${SpoolsPanel} />
    <h2>Queues <small>${overview.queues.length}${overview.hidden ? ` (+${overview.hidden} not shown)` : ''}</small></h2>
    <table class="queues">
      <thead><tr>
        <th>Queue</th><th class="n">Waiting</th><th class="n">Delayed</th><th class="n">Active</th>
        <th class="n" title="flow parents waiting for their children">Waiting children</th><th class="n">Completed</th><th class="n">Failed</th><th class="n">Oldest waiting</th>
        <th class="n">Workers</th><th>Last 30 min</th><th class="n">Failure rate</th>
      </tr></thead>
      <tbody>
        ${overview.queues.map(
          (q) => html`<tr class=${q.noWorker ? 'noworker' : ''} data-queue=${q.name}>
            <td><a href=${link(q.name)}>${q.name}</a>${q.paused && html` <span class="badge paused">paused</span>`}</td>
            <td class="n"><a href=${link(q.name, 'waiting')} data-count="waiting">${num(q.counts.waiting)}</a></td>
            <td class="n"><a href=${link(q.name, 'delayed')} data-count="delayed">${num(q.counts.delayed)}</a></td>
            <td class="n"><a href=${link(q.name, 'active')} data-count="active">${num(q.counts.active + q.counts.reserved)}</a></td>
            <td class="n"><a href=${link(q.name, 'waiting-children')} data-count="waiting-children">${num(q.counts.waitingChildren)}</a></td>
            <td class="n"><a href=${link(q.name, 'completed')} data-count="completed">${num(q.counts.completed)}</a></td>
            <td class="n"><a href=${link(q.name, 'failed')} data-count="failed" class=${q.counts.failed ? 'bad' : ''}>${num(q.counts.failed)}</a></td>
            <td class="n">${ago(q.oldestWaitMs)}</td>
            <td class="n">${q.workers}${q.noWorker ? html` <span class="badge warn" title="jobs wait but no worker holds a lease">none</span>` : ''}</td>
            <td><${Spark} series=${[
              { cls: 'ok', values: q.completed },
              { cls: 'bad', values: q.failed },
            ]} /></td>
            <td class="n">${pct(q.failureRate)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${overview.queues.length === 0 && html`<p class="empty">No queue registered yet: a queue appears once a producer or worker used it.</p>`}
  </section>`;
}

export function RedisView({ overview }) {
  if (!overview) return html`<p>Reading Redis…</p>`;
  const r = overview.redis;
  return html`<section>
    <${Warnings} overview=${overview} />
    <h2>Redis</h2>
    <dl class="facts">
      <dt>Version</dt><dd>${r.version}</dd>
      <dt>Role</dt><dd>${r.role}</dd>
      <dt>Memory used</dt><dd>${r.usedMemory}</dd>
      <dt>maxmemory</dt><dd>${r.maxmemory === '0B' ? 'no limit' : r.maxmemory}</dd>
      <dt>Eviction policy</dt><dd class=${r.maxmemoryPolicy === 'noeviction' ? '' : 'bad'}>${r.maxmemoryPolicy}</dd>
      <dt>Persistence</dt><dd class=${r.aof ? '' : 'bad'}>${r.aof ? 'AOF on' : 'AOF off'}${r.rdb ? ', RDB snapshots' : ''}</dd>
      <dt>Uptime</dt><dd>${ago(r.uptimeSeconds * 1000)}</dd>
      <dt>Clients</dt><dd>${num(r.connectedClients)}</dd>
      <dt>Commands/s</dt><dd>${num(r.opsPerSec)}</dd>
    </dl>
  </section>`;
}
