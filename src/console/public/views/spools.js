import { get } from '../api.js';
import { ms, num } from '../format.js';
import { Component, html } from '../html.js';

/**
 * Producers' spools holding calls (Redis was away or slow), read every 5 s; draws
 * nothing while no producer reports one, which is the normal case.
 */
export class SpoolsPanel extends Component {
  state = { spools: [] };

  componentDidMount() {
    this.load();
    this.timer = setInterval(() => this.load(), 5000);
  }

  componentWillUnmount() {
    clearInterval(this.timer);
  }

  async load() {
    try {
      const { spools } = await get('spools');
      this.setState({ spools });
    } catch {
      // The overview shows Redis errors; this panel just keeps its last figures.
    }
  }

  render(_props, { spools }) {
    if (spools.length === 0) return null;
    return html`<section class="spools"><h2>Producer spools</h2>
      <p class="note">Calls held on producers' disks while Redis did not answer, not yet replayed.</p>
      <table><thead><tr><th>Queue</th><th>Producer</th><th>State</th><th class="n">Depth</th><th class="n">KiB</th><th class="n">Oldest</th></tr></thead>
      <tbody>${spools.map(
        (
          s,
        ) => html`<tr><td>${s.queue}</td><td>${s.producer}</td><td>${s.state}</td><td class="n">${num(s.depth)}</td>
          <td class="n">${num(Math.ceil(s.bytes / 1024))}</td><td class="n">${ms(s.ageMs)}</td></tr>`,
      )}</tbody></table></section>`;
  }
}
