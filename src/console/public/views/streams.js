import { get, post } from '../api.js';
import { num } from '../format.js';
import { Component, html } from '../html.js';
import { WorkerTable } from './queue-extras.js';

/** Event streams: length, groups with pending and lag, dead letters with redrive. */
export class StreamsView extends Component {
  state = { streams: null, dead: {}, error: '' };

  componentDidMount() {
    this.load();
    this.timer = setInterval(() => this.load(), 5000);
  }

  componentWillUnmount() {
    clearInterval(this.timer);
  }

  async load() {
    try {
      this.setState({ streams: (await get('streams')).streams, error: '' });
    } catch (err) {
      this.setState({ error: err.message });
    }
  }

  showDead = async (name) => {
    const r = await get(`streams/${encodeURIComponent(name)}/dead`);
    this.setState({ dead: { ...this.state.dead, [name]: r.dead } });
  };

  redrive = async (name, count) => {
    if (!window.confirm(`Move ${count} dead letters of ${name} back into the stream?`)) return;
    try {
      const r = await post(`streams/${encodeURIComponent(name)}/redrive`, {});
      this.props.notify(`redrive: ${r.done} events moved back`, 'ok');
      this.setState({ dead: { ...this.state.dead, [name]: undefined } });
      this.load();
    } catch (err) {
      this.props.notify(`redrive refused: ${err.message}`, 'bad');
    }
  };

  render({ admin }, { streams, dead, error }) {
    if (error) return html`<p class="error">${error}</p>`;
    if (!streams) return html`<p>Loading…</p>`;
    const names = Object.keys(streams);
    if (names.length === 0) return html`<p class="empty">No event streams.</p>`;
    return html`<section>${names.map((n) => {
      const s = streams[n];
      return html`<div class="stream" data-stream=${n}>
        <h2>${n} <small>${num(s.length)} entries, ${num(s.dead)} dead letters</small></h2>
        <table><thead><tr><th>Group</th><th class="n">Consumers</th><th class="n">Pending</th><th class="n">Lag</th></tr></thead>
          <tbody>${s.groups.map(
            (g) =>
              html`<tr><td>${g.name}</td><td class="n">${g.consumers}</td><td class="n">${num(g.pending)}</td><td class="n">${g.lag === null ? '?' : num(g.lag)}</td></tr>`,
          )}</tbody></table>
        ${
          s.dead > 0 &&
          html`<div class="toolbar"><button onClick=${() => this.showDead(n)}>Show dead letters</button>
          ${admin && html`<button onClick=${() => this.redrive(n, s.dead)}>Redrive ${num(s.dead)} dead letters</button>`}</div>`
        }
        ${
          dead[n] &&
          html`<table class="dead"><thead><tr><th>Id</th><th>Group</th><th>Error</th><th>Event</th></tr></thead><tbody>
          ${dead[n].map((x) => html`<tr><td>${x.id}</td><td>${x.group}</td><td class="err">${x.error}</td><td class="data"><code>${x.data || ''}</code></td></tr>`)}
        </tbody></table>`
        }
      </div>`;
    })}</section>`;
  }
}

export class WorkersView extends Component {
  state = { workers: null };

  componentDidMount() {
    this.load();
    this.timer = setInterval(() => this.load(), 5000);
  }

  componentWillUnmount() {
    clearInterval(this.timer);
  }

  async load() {
    this.setState({ workers: (await get('workers')).workers });
  }

  render(_p, { workers }) {
    return workers
      ? html`<section><h2>Workers</h2><${WorkerTable} workers=${workers} /></section>`
      : html`<p>Loading…</p>`;
  }
}
