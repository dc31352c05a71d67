import { get, q } from '../api.js';
import { ms, num, since, time } from '../format.js';
import { Component, html } from '../html.js';
import { Chart } from './charts.js';

const jobLink = (queue, id) => `#/queue/${encodeURIComponent(queue)}/job/${encodeURIComponent(id)}`;

/** The groups, schedules, workers and charts tabs of a queue: each one read on opening (and every 5 s while open). */
export class QueueExtras extends Component {
  state = { data: null, error: '', range: 'hour' };

  componentDidMount() {
    this.load();
    this.timer = setInterval(() => this.load(), 5000);
  }

  componentWillUnmount() {
    clearInterval(this.timer);
  }

  componentDidUpdate(prev) {
    if (prev.tab !== this.props.tab || prev.name !== this.props.name)
      this.setState({ data: null }, () => this.load());
  }

  async load() {
    const { name, tab } = this.props;
    const path = tab === 'charts' ? `chart?range=${this.state.range}` : tab;
    try {
      const data = await get(`${q(name)}/${path}`);
      // Kept with what it was read for: a reply for a tab left meanwhile is never drawn as another.
      this.setState({ data, key: `${name}/${path}`, error: '' });
    } catch (err) {
      this.setState({ error: err.message });
    }
  }

  render({ name, tab, admin, run }, { data, key, error, range }) {
    if (error) return html`<p class="error">${error}</p>`;
    const path = tab === 'charts' ? `chart?range=${range}` : tab;
    if (!data || key !== `${name}/${path}`) return html`<p>Loading…</p>`;
    if (tab === 'groups')
      return html`<table class="groups"><thead><tr><th>Group</th><th class="n">Waiting</th><th class="n">Active</th><th>Limits</th><th></th></tr></thead>
        <tbody>${data.groups.map(
          (
            g,
          ) => html`<tr data-group=${g.name}><td>${g.name} ${g.paused && html`<span class="badge paused">paused</span>`}</td>
            <td class="n">${num(g.waiting)}</td><td class="n">${num(g.active)}</td><td>${g.limits || 'queue defaults'}</td>
            <td>${
              admin &&
              (g.paused
                ? html`<button onClick=${() => run('resume-group', { group: g.name }, `Resume group ${g.name}?`).then(() => this.load())}>Resume</button>`
                : html`<button onClick=${() => run('pause-group', { group: g.name }, `Pause group ${g.name}?`).then(() => this.load())}>Pause</button>`)
            }</td></tr>`,
        )}</tbody></table>
        ${data.groups.length === 0 && html`<p class="empty">No groups.</p>`}
        ${data.cursor && html`<p class="note">More groups exist (one page of the group index is shown).</p>`}`;
    if (tab === 'schedules')
      return html`<table><thead><tr><th>Schedule</th><th>Job name</th><th>Repeat</th><th>Next tick</th><th class="n">Made</th><th>Last job</th></tr></thead>
        <tbody>${data.schedules.map(
          (
            s,
          ) => html`<tr><td>${s.id}</td><td>${s.name}</td><td><code>${JSON.stringify(s.repeat)}</code></td><td>${time(s.next)}</td>
            <td class="n">${num(s.made)}</td><td>${s.lastJob ? html`<a href=${jobLink(name, s.lastJob)}>${s.lastJob}</a>` : '–'}</td></tr>`,
        )}</tbody></table>
        ${data.schedules.length === 0 && html`<p class="empty">No schedules.</p>`}
        ${data.total > data.schedules.length && html`<p class="note">Showing the ${data.schedules.length} soonest of ${num(data.total)}.</p>`}`;
    if (tab === 'workers') return html`<${WorkerTable} workers=${data.workers} />`;
    const pts = data.points;
    return html`<div class="charts">
      <div class="inline">${['hour', 'day', 'week'].map(
        (r) =>
          html`<button class=${r === range ? 'on' : ''} onClick=${() => this.setState({ range: r, data: null }, () => this.load())}>${r}</button>`,
      )}</div>
      <${Chart} title="Jobs finished" points=${pts} series=${[
        { label: 'completed', cls: 'ok', get: (p) => p.completed },
        { label: 'failed', cls: 'bad', get: (p) => p.failed },
      ]} />
      <${Chart} title="Wait time" unit=" ms" points=${pts} series=${[
        { label: 'p50', cls: 's1', get: (p) => p.wait.p50 },
        { label: 'p95', cls: 's2', get: (p) => p.wait.p95 },
        { label: 'p99', cls: 's3', get: (p) => p.wait.p99 },
      ]} />
      <${Chart} title="Run time" unit=" ms" points=${pts} series=${[
        { label: 'p50', cls: 's1', get: (p) => p.run.p50 },
        { label: 'p95', cls: 's2', get: (p) => p.run.p95 },
        { label: 'p99', cls: 's3', get: (p) => p.run.p99 },
      ]} />
    </div>`;
  }
}

export function WorkerTable({ workers }) {
  if (workers.length === 0) return html`<p class="empty">No worker holds a lease.</p>`;
  return html`<table class="workers"><thead><tr><th>Queue</th><th>Host</th><th class="n">PID</th><th>Id</th><th class="n">Holding</th><th class="n">Reserved</th><th>Lease</th></tr></thead>
    <tbody>${workers.map(
      (w) => html`<tr class=${w.alive ? '' : 'dead'}><td>${w.queue}${
        // A partitioned queue's worker: one row for all the partitions it leases, totals summed.
        w.partitions &&
        html` <span class="note" title="partitions this worker holds a lease on">${w.partitions.leased}/${w.partitions.of} partitions</span>`
      }</td><td>${w.host}</td><td class="n">${w.pid}</td><td><code>…${w.id}</code></td>
        <td class="n">${w.holding === null ? '–' : num(w.holding)}</td><td class="n">${num(w.reserved)}</td>
        <td>${w.alive ? `alive, renews within ${ms(w.leaseUntil - Date.now())}` : `lapsed ${since(w.leaseUntil)}`}</td></tr>`,
    )}</tbody></table>`;
}
