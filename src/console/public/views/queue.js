import { get, post, q } from '../api.js';
import { num } from '../format.js';
import { Component, html } from '../html.js';
import { act } from './actions.js';
import { JobTable } from './jobs.js';
import { QueueExtras } from './queue-extras.js';

// waiting-children: flow parents waiting for their children (docs/flows.md).
const STATES = ['waiting', 'delayed', 'active', 'waiting-children', 'completed', 'failed'];
const TABS = [...STATES, 'groups', 'schedules', 'workers', 'charts'];
const SIZE = 25;

/** One queue: counts, its jobs per state (paginated), search, actions, and its groups, schedules, workers, charts. */
export class QueueView extends Component {
  state = { list: null, page: 0, newest: false, error: '', selected: new Set(), search: null, adding: false };

  componentDidMount() {
    this.load();
  }

  componentDidUpdate(prev) {
    const tabChanged = prev.tab !== this.props.tab || prev.name !== this.props.name;
    if (tabChanged) {
      this.setState({ page: 0, selected: new Set(), search: null, list: null }, () => this.load());
      return;
    }
    // Live: a change of this queue's counts (from the shared snapshot) reloads the page shown.
    const before = JSON.stringify(prev.info?.counts);
    const now = JSON.stringify(this.props.info?.counts);
    if (before !== now && !this.state.search) this.load();
  }

  async load() {
    const { name, tab } = this.props;
    if (!STATES.includes(tab)) return;
    const { page, newest } = this.state;
    try {
      const list = await get(
        `${q(name)}/jobs?state=${tab}&page=${page}&size=${SIZE}${newest ? '&order=newest' : ''}`,
      );
      if (this.props.tab === tab && this.props.name === name) this.setState({ list, error: '' });
    } catch (err) {
      this.setState({ error: err.message });
    }
  }

  go = (page) => this.setState({ page, selected: new Set() }, () => this.load());

  toggle = (id) => {
    const selected = new Set(this.state.selected);
    selected.has(id) ? selected.delete(id) : selected.add(id);
    this.setState({ selected });
  };

  toggleAll = (on) => {
    const jobs = this.shownJobs();
    this.setState({ selected: on ? new Set(jobs.map((j) => j.id)) : new Set() });
  };

  shownJobs() {
    return this.state.search ? this.state.search.jobs : this.state.list ? this.state.list.jobs : [];
  }

  run = async (action, body, question) => {
    const r = await act(this.props.name, action, body, question, this.props.notify);
    if (r) this.setState({ selected: new Set() }, () => this.load());
    return r;
  };

  search = async (e, more) => {
    if (e) e.preventDefault();
    const form = this.searchForm;
    const by = form.elements.by.value;
    const text = form.elements.text.value;
    if (!text) return this.setState({ search: null });
    try {
      const cursor = more ? this.state.search.cursor : undefined;
      const r = await post(`${q(this.props.name)}/search`, { by, text, cursor });
      if (more) {
        r.jobs = [...this.state.search.jobs, ...r.jobs];
        r.scanned += this.state.search.scanned;
      }
      this.setState({ search: r, selected: new Set() });
    } catch (err) {
      this.setState({ error: err.message });
    }
  };

  addJob = async (e) => {
    e.preventDefault();
    const f = e.target.elements;
    let data;
    let opts;
    try {
      data = JSON.parse(f.data.value || 'null');
      opts = f.opts.value.trim() ? JSON.parse(f.opts.value) : undefined;
    } catch (err) {
      return this.props.notify(`not JSON: ${err.message}`, 'bad');
    }
    const r = await this.run(
      'add',
      { name: f.name.value, data, opts },
      `Add job "${f.name.value}" to ${this.props.name}?`,
    );
    if (r) this.setState({ adding: false });
  };

  render({ name, tab, info, admin }, { list, page, newest, error, selected, search, adding }) {
    const counts = info ? info.counts : list ? list.counts : null;
    const count = (s) =>
      counts
        ? s === 'active'
          ? counts.active + counts.reserved
          : s === 'waiting-children'
            ? counts.waitingChildren
            : counts[s]
        : undefined;
    const base = `#/queue/${encodeURIComponent(name)}`;
    const paused = info?.paused;
    const jobs = this.shownJobs();
    const ids = [...selected];
    return html`<section class="queue">
      <h2>${name} ${paused && html`<span class="badge paused">paused</span>`} ${
        // Every view of a partitioned queue covers all its partitions (docs/console.md).
        info?.partitions &&
        html`<span class="badge" title="every figure here covers all its partitions">${info.partitions} partitions</span>`
      }</h2>
      ${
        admin &&
        html`<div class="toolbar">
        ${
          paused
            ? html`<button onClick=${() => this.run('resume', {}, `Resume queue ${name}?`)}>Resume queue</button>`
            : html`<button onClick=${() => this.run('pause', {}, `Pause queue ${name}? Workers stop taking its jobs.`)}>Pause queue</button>`
        }
        <button onClick=${() => this.run('retry-all', {}, `Retry all ${num(count('failed'))} failed jobs of ${name}?`)} disabled=${!count('failed')}>Retry all failed</button>
        <button onClick=${() => this.run('promote-all', {}, `Run all ${num(count('delayed'))} delayed jobs of ${name} now?`)} disabled=${!count('delayed')}>Promote all delayed</button>
        <button class="danger" onClick=${() => this.run('drain', {}, `Delete every waiting and delayed job of ${name}?`)}>Drain</button>
        <form class="inline clean" onSubmit=${(e) => {
          e.preventDefault();
          const f = e.target.elements;
          const age = Math.round(Number(f.minutes.value) * 60_000);
          this.run(
            'clean',
            { state: f.state.value, age },
            `Delete ${f.state.value} jobs of ${name} finished over ${f.minutes.value} min ago?`,
          );
        }}>
          <label>Clean <select name="state"><option>completed</option><option>failed</option></select></label>
          <label>older than <input name="minutes" type="number" min="0" value="60" size="5" /> min</label>
          <button type="submit">Clean</button>
        </form>
        <button onClick=${() => this.setState({ adding: !adding })}>Add job…</button>
      </div>`
      }
      ${
        adding &&
        html`<form class="add" onSubmit=${this.addJob}>
        <label>Name <input name="name" required /></label>
        <label>Data (JSON) <textarea name="data" rows="4">{}</textarea></label>
        <label>Options (JSON, e.g. {"delay": 60000, "priority": 5, "attempts": 3}) <textarea name="opts" rows="2"></textarea></label>
        <button type="submit">Add</button>
      </form>`
      }
      <nav class="tabs">
        ${TABS.map(
          (t) =>
            html`<a href=${`${base}/${t}`} class=${t === tab ? 'on' : ''} data-tab=${t}>${t}${STATES.includes(t) ? html` <b>${num(count(t))}</b>` : ''}</a>`,
        )}
      </nav>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${
        STATES.includes(tab)
          ? html`<div>
            <form class="search inline" ref=${(el) => {
              this.searchForm = el;
            }} onSubmit=${(e) => this.search(e, false)}>
              <select name="by" aria-label="search by"><option value="id">id</option><option value="name">name</option>${admin && html`<option value="data">data</option>`}</select>
              <input name="text" type="search" placeholder="search this queue" aria-label="search text" maxlength="200" />
              <button type="submit">Search</button>
              ${search && html`<button type="button" onClick=${() => this.setState({ search: null })}>Clear</button>`}
            </form>
            ${
              search &&
              html`<p class="note" data-search-note>Found ${search.jobs.length} jobs, looked at ${num(search.scanned)} of ${num(search.total)} jobs.
              ${search.cursor && html`<button onClick=${() => this.search(null, true)}>Look at more</button>`}</p>`
            }
            ${!search && tab !== 'active' && html`<label class="order"><input type="checkbox" checked=${newest} onChange=${() => this.setState({ newest: !newest, page: 0 }, () => this.load())} /> newest first</label>`}
            ${
              admin &&
              ids.length > 0 &&
              html`<div class="bulk">${ids.length} selected:
              ${tab === 'failed' && html`<button onClick=${() => this.run('retry', { ids }, `Retry ${ids.length} jobs?`)}>Retry</button>`}
              ${tab === 'delayed' && html`<button onClick=${() => this.run('promote', { ids }, `Run ${ids.length} delayed jobs now?`)}>Promote</button>`}
              ${tab !== 'active' && tab !== 'waiting-children' && html`<button class="danger" onClick=${() => this.run('remove', { ids }, `Remove ${ids.length} jobs?`)}>Remove</button>`}
            </div>`
            }
            ${
              list || search
                ? html`<${JobTable} queue=${name} jobs=${jobs} selected=${admin && tab !== 'active' && tab !== 'waiting-children' ? selected : null} onToggle=${this.toggle} onToggleAll=${this.toggleAll} />`
                : html`<p>Loading…</p>`
            }
            ${
              !search &&
              list &&
              list.total > SIZE &&
              html`<div class="pager">
              <button disabled=${page === 0} onClick=${() => this.go(page - 1)}>‹ Previous</button>
              <span>page ${page + 1} of ${num(Math.ceil(list.total / SIZE))}</span>
              <button disabled=${(page + 1) * SIZE >= list.total} onClick=${() => this.go(page + 1)}>Next ›</button>
            </div>`
            }
          </div>`
          : html`<${QueueExtras} name=${name} tab=${tab} admin=${admin} run=${this.run} />`
      }
    </section>`;
  }
}
