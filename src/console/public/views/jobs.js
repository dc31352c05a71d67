import { ago, num, since, time } from '../format.js';
import { html } from '../html.js';

const jobLink = (queue, id) => `#/queue/${encodeURIComponent(queue)}/job/${encodeURIComponent(id)}`;

/** A page of jobs; with `selected` (admins), a checkbox per row for bulk actions. */
export function JobTable({ queue, jobs, selected, onToggle, onToggleAll }) {
  if (jobs.length === 0) return html`<p class="empty">No jobs here.</p>`;
  const all = selected && jobs.every((j) => selected.has(j.id));
  return html`<table class="jobs">
    <thead><tr>
      ${selected && html`<th><input type="checkbox" aria-label="select all" checked=${all} onChange=${() => onToggleAll(!all)} /></th>`}
      <th>Id</th><th>Name</th><th>Added</th><th class="n">Attempts</th><th>State / error</th><th>Data</th>
    </tr></thead>
    <tbody>
      ${jobs.map(
        (j) => html`<tr data-id=${j.id}>
          ${selected && html`<td><input type="checkbox" aria-label=${`select ${j.id}`} checked=${selected.has(j.id)} onChange=${() => onToggle(j.id)} /></td>`}
          <td><a href=${jobLink(queue, j.id)}>${j.id}</a></td>
          <td>${j.name}${j.group && html` <span class="badge">${j.group}</span>`}</td>
          <td title=${time(j.timestamp)}>${since(j.timestamp)}</td>
          <td class="n">${num(j.attemptsMade)}</td>
          <td class="err">${j.error || (j.delayUntil ? `due in ${ago(j.delayUntil - Date.now())}` : j.state)}</td>
          <td class="data"><code>${j.data === undefined ? '' : j.data}</code></td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}
