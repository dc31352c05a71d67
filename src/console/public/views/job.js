import { get, q } from '../api.js';
import { ms, num, time } from '../format.js';
import { Component, html } from '../html.js';
import { act } from './actions.js';

/**
 * A value as the server cut it (pretty JSON, at most 20,000 characters). "Show all" puts
 * the whole text in a read-only text box: the browser never parses or lays out a big value
 * as markup, so a payload of megabytes cannot freeze the page.
 */
class Value extends Component {
  state = { full: null, error: '' };

  more = async () => {
    try {
      const { queue, id, field } = this.props;
      this.setState({ full: await get(`${q(queue)}/jobs/${encodeURIComponent(id)}/full?field=${field}`) });
    } catch (err) {
      this.setState({ error: err.message });
    }
  };

  render({ value, label }, { full, error }) {
    if (!value) return null;
    return html`<div class="value"><h3>${label} <small>${num(value.size)} characters</small></h3>
      ${
        full !== null
          ? html`<textarea readonly class="full" rows="20" value=${full}></textarea>`
          : html`<pre class="json">${value.text}${value.truncated ? '\n…' : ''}</pre>
          ${value.truncated && html`<button onClick=${this.more}>Show all ${num(value.size)} characters</button>`}`
      }
      ${error && html`<p class="error">${error}</p>`}
    </div>`;
  }
}

const jobLink = (queue, id) => `#/queue/${encodeURIComponent(queue)}/job/${encodeURIComponent(id)}`;
const badge = (state) => html`<span class="badge state-${state}" data-state=${state}>${state}</span>`;

/** Every failed attempt kept (the last 10), newest first: a retry often fails differently. */
function Attempts({ attempts, hidden }) {
  return html`<div class="failure attempts"><h3>Failed attempts <small>${attempts.length} kept, newest first</small></h3>
    ${[...attempts].reverse().map(
      (a) => html`<details open=${a === attempts[attempts.length - 1]} data-attempt=${a.attempt}>
        <summary>Attempt ${a.attempt}, ${time(a.failedAt)} (ran ${ms(a.failedAt - a.startedAt)}): ${a.name}: ${a.message}</summary>
        ${a.stack ? html`<pre class="stack">${a.stack}</pre>` : hidden && html`<p class="note">The stack needs the admin scope.</p>`}
      </details>`,
    )}
  </div>`;
}

/** The job's place in a flow: its parent and its children, with their states (docs/flows.md). */
function Flow({ flow }) {
  const p = flow.parent;
  return html`<div class="flow"><h3>Flow</h3>
    ${p && html`<p data-flow="parent">Parent: <a href=${jobLink(p.queue, p.id)}>${p.queue} / ${p.id}</a> ${badge(p.state)} <small>(its child's failure: ${p.onFailure})</small></p>`}
    ${
      flow.childrenTotal > 0 &&
      html`<p>Children: ${num(flow.childrenTotal)}${flow.childrenTotal > flow.children.length ? ` (first ${flow.children.length} shown)` : ''}</p>
      <table class="children"><thead><tr><th>Queue</th><th>Job</th><th>Outcome</th></tr></thead><tbody>
        ${flow.children.map(
          (c) =>
            html`<tr data-child=${c.id}><td>${c.queue}</td><td><a href=${jobLink(c.queue, c.id)}>${c.id}</a></td><td>${badge(c.state)}</td></tr>`,
        )}
      </tbody></table>`
    }
  </div>`;
}

export class JobView extends Component {
  state = { job: null, error: '' };

  componentDidMount() {
    this.load();
  }

  componentDidUpdate(prev) {
    if (prev.id !== this.props.id) this.load();
    // Live: reload with every snapshot (one per interval). Not only when the counts move: the
    // server shares a job's read for an interval, so the read that followed a move may predate it.
    else if (prev.info !== this.props.info) this.load();
  }

  async load() {
    try {
      this.setState({
        job: await get(`${q(this.props.queue)}/jobs/${encodeURIComponent(this.props.id)}`),
        error: '',
      });
    } catch (err) {
      this.setState({ error: err.message, job: null });
    }
  }

  run = async (action, question) => {
    const r = await act(this.props.queue, action, { ids: [this.props.id] }, question, this.props.notify);
    if (r && action === 'remove' && !r.failed)
      location.hash = `#/queue/${encodeURIComponent(this.props.queue)}`;
    else this.load();
  };

  render({ queue, admin }, { job, error }) {
    if (error) return html`<p class="error" role="alert">${error}</p>`;
    if (!job) return html`<p>Loading…</p>`;
    const e = job.errorDetail;
    return html`<section class="job">
      <p><a href=${`#/queue/${encodeURIComponent(queue)}/${job.state}`}>‹ ${queue}</a></p>
      <h2>Job ${job.id} <span class="badge state-${job.state}" data-state=${job.state}>${job.state}</span></h2>
      ${
        admin &&
        html`<div class="toolbar">
        ${job.state === 'failed' && html`<button onClick=${() => this.run('retry', `Retry job ${job.id}?`)}>Retry</button>`}
        ${job.state === 'delayed' && html`<button onClick=${() => this.run('promote', `Run job ${job.id} now?`)}>Promote</button>`}
        ${job.state !== 'active' && html`<button class="danger" onClick=${() => this.run('remove', `Remove job ${job.id}?`)}>Remove</button>`}
      </div>`
      }
      <dl class="facts">
        <dt>Name</dt><dd>${job.name}</dd>
        <dt>Added</dt><dd>${time(job.timestamp)}</dd>
        <dt>Started</dt><dd>${time(job.processedOn)}</dd>
        <dt>Finished</dt><dd>${time(job.finishedOn)}</dd>
        ${job.processedOn && job.finishedOn && html`<dt>Ran</dt><dd>${ms(job.finishedOn - job.processedOn)}</dd>`}
        ${job.processedOn && html`<dt>Waited</dt><dd>${ms(job.processedOn - job.timestamp)}</dd>`}
        ${job.delayUntil && html`<dt>Due</dt><dd>${time(job.delayUntil)}</dd>`}
        <dt>Attempts failed</dt><dd>${job.attemptsMade} of ${job.opts.attempts || 1}</dd>
        <dt>Stalls</dt><dd>${job.stalls}</dd>
        ${job.group && html`<dt>Group</dt><dd>${job.group}</dd>`}
        ${job.schedule && html`<dt>Schedule</dt><dd>${job.schedule.id}, tick ${time(job.schedule.tick)}</dd>`}
        <dt>Options</dt><dd><code>${JSON.stringify(job.opts)}</code></dd>
      </dl>
      ${job.progress && html`<div class="value"><h3>Progress</h3><pre>${job.progress.text}</pre></div>`}
      ${job.flow && html`<${Flow} flow=${job.flow} />`}
      ${
        e &&
        (job.attempts && job.attempts.length > 1
          ? html`<${Attempts} attempts=${job.attempts} hidden=${job.hidden} />`
          : html`<div class="failure"><h3>Last failed attempt: ${e.name}: ${e.message}</h3>
        ${e.stack ? html`<pre class="stack">${e.stack}</pre>` : job.hidden && html`<p class="note">The stack needs the admin scope.</p>`}</div>`)
      }
      ${job.hidden && html`<p class="note">Data, result and logs are shown to admin logins only.</p>`}
      <${Value} queue=${queue} id=${job.id} field="data" label="Data" value=${job.data} />
      <${Value} queue=${queue} id=${job.id} field="returnValue" label="Result" value=${job.returnValue} />
      ${job.logs && job.logs.length > 0 && html`<div class="value"><h3>Logs</h3><pre>${job.logs.join('\n')}</pre></div>`}
    </section>`;
  }
}
