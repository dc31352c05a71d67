import { post } from '../api.js';
import { Component, html } from '../html.js';

/** Exchanges an API token for a session cookie; the token is sent once, in a POST body, never kept by the page. */
export class Login extends Component {
  state = { error: '', busy: false };

  submit = async (e) => {
    e.preventDefault();
    const input = e.target.elements.token;
    this.setState({ busy: true, error: '' });
    try {
      const session = await post('login', { token: input.value });
      input.value = '';
      this.props.onLogin(session);
    } catch (err) {
      this.setState({ error: err.message, busy: false });
    }
  };

  render(_p, { error, busy }) {
    return html`<main class="login">
      <h1>Hopper console</h1>
      <form onSubmit=${this.submit}>
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
        <button type="submit" disabled=${busy}>Log in</button>
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <p class="hint">A token of <code>hopper serve</code> with the <code>read</code> scope (view) or <code>admin</code> (view and act).</p>
      </form>
    </main>`;
  }
}
