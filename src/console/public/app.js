import { get, post, setCsrf } from './api.js';
import { Component, html, render } from './html.js';
import { JobView } from './views/job.js';
import { Login } from './views/login.js';
import { Overview, RedisView } from './views/overview.js';
import { QueueView } from './views/queue.js';
import { StreamsView, WorkersView } from './views/streams.js';

/** `#/queue/<name>/<tab>` or `#/queue/<name>/job/<id>`: routes live in the hash, so any base path works. */
function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'queue' && parts[1]) {
    if (parts[2] === 'job' && parts[3]) return { page: 'job', queue: parts[1], id: parts.slice(3).join('/') };
    return { page: 'queue', queue: parts[1], tab: parts[2] || 'waiting' };
  }
  return { page: ['streams', 'workers', 'redis'].includes(parts[0]) ? parts[0] : 'overview' };
}

class App extends Component {
  state = { session: undefined, overview: null, route: route(), notice: null, live: false };

  componentDidMount() {
    window.addEventListener('hashchange', () => this.setState({ route: route() }));
    get('session')
      .then((s) => this.loggedIn(s))
      .catch(() => this.setState({ session: null }));
  }

  loggedIn(session) {
    setCsrf(session.csrf);
    this.setState({ session });
    get('overview').then((overview) => this.setState({ overview }));
    // One shared snapshot per interval on the server, whatever the number of viewers.
    this.events = new EventSource('api/events');
    this.events.addEventListener('overview', (e) =>
      this.setState({ overview: JSON.parse(e.data), live: true }),
    );
    this.events.addEventListener('down', () => this.setState({ live: false }));
    this.events.onerror = () => {
      this.setState({ live: false });
      // A 401 (session ended) closes the stream for good: back to the login page.
      if (this.events.readyState === EventSource.CLOSED) get('session').catch(() => this.logout());
    };
  }

  logout = async () => {
    if (this.events) this.events.close();
    await post('logout').catch(() => {});
    setCsrf('');
    this.setState({ session: null, overview: null });
  };

  notify = (text, kind) => {
    clearTimeout(this.noticeTimer);
    this.setState({ notice: { text, kind } });
    this.noticeTimer = setTimeout(() => this.setState({ notice: null }), 6000);
  };

  render(_p, { session, overview, route: r, notice, live }) {
    if (session === undefined) return html`<p class="boot">Loading…</p>`;
    if (session === null) return html`<${Login} onLogin=${(s) => this.loggedIn(s)} />`;
    const admin = session.role === 'admin';
    const info = overview && r.queue ? overview.queues.find((q) => q.name === r.queue) : undefined;
    const nav = (page, label) =>
      html`<a href=${`#/${page === 'overview' ? '' : page}`} class=${r.page === page ? 'on' : ''}>${label}</a>`;
    return html`<div>
      <header>
        <a class="brand" href="#/">Hopper</a>
        <nav>${nav('overview', 'Queues')}${nav('workers', 'Workers')}${nav('streams', 'Streams')}${nav('redis', 'Redis')}</nav>
        <span class=${`live ${live ? 'on' : ''}`} title="live updates">${live ? '● live' : '○ connecting'}</span>
        <span class="who" data-role=${session.role}>${session.name} (${admin ? 'admin' : 'read-only'})</span>
        ${session.auth !== false && html`<button class="link" onClick=${this.logout}>Log out</button>`}
      </header>
      ${notice && html`<p class=${`notice ${notice.kind}`} role="status">${notice.text}</p>`}
      <main>
        ${r.page === 'overview' && html`<${Overview} overview=${overview} />`}
        ${r.page === 'redis' && html`<${RedisView} overview=${overview} />`}
        ${r.page === 'workers' && html`<${WorkersView} />`}
        ${r.page === 'streams' && html`<${StreamsView} admin=${admin} notify=${this.notify} />`}
        ${r.page === 'queue' && html`<${QueueView} name=${r.queue} tab=${r.tab} info=${info} admin=${admin} notify=${this.notify} />`}
        ${r.page === 'job' && html`<${JobView} queue=${r.queue} id=${r.id} info=${info} admin=${admin} notify=${this.notify} />`}
      </main>
    </div>`;
  }
}

render(html`<${App} />`, document.getElementById('app'));
