// The latchkey operator console: preact + htm from one vendored ESM file, no build step.
import { html, render, useEffect, useState } from '/console/vendor/preact-htm.mjs';
import { api, ApiError, setCsrf } from '/console/api.mjs';
import { PAGES } from '/console/pages.mjs';

const HISTORY = 60; // seconds of counters the overview chart shows
const AUDIT_KEEP = 500; // audit events kept from the live tail

/** The page named by the location hash (#/devices), overview by default. */
function currentRoute() {
  const name = location.hash.replace(/^#\/?/, '').split('?')[0];
  return PAGES.some((p) => p.id === name) ? name : 'overview';
}

/** Counters, live sessions and the audit tail, from the console's Server-Sent Events stream. */
function useLiveFeed(me, onEnded) {
  const [feed, setFeed] = useState({ stats: [], sessions: [], audit: [], connected: false });
  useEffect(() => {
    if (!me) return undefined;
    const source = new EventSource('/console/api/events');
    source.addEventListener('open', () => setFeed((f) => ({ ...f, connected: true })));
    source.addEventListener('error', () => setFeed((f) => ({ ...f, connected: false })));
    source.addEventListener('stats', (e) => {
      const snapshot = JSON.parse(e.data);
      setFeed((f) => ({ ...f, stats: [...f.stats, snapshot].slice(-(HISTORY + 1)) }));
    });
    source.addEventListener('sessions', (e) => {
      const sessions = JSON.parse(e.data);
      setFeed((f) => ({ ...f, sessions }));
    });
    source.addEventListener('audit', (e) => {
      const events = JSON.parse(e.data).reverse();
      setFeed((f) => ({ ...f, audit: [...events, ...f.audit].slice(0, AUDIT_KEEP) }));
    });
    source.addEventListener('ended', () => {
      source.close();
      onEnded();
    });
    return () => source.close();
  }, [me]);
  return feed;
}

function Login({ onLogin, error }) {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState(error);
  const submit = async (e) => {
    e.preventDefault();
    try {
      onLogin(await api('POST', '/console/api/login', { token: token.trim() }));
    } catch (err) {
      setProblem(err.message);
    }
  };
  return html`
    <main class="login">
      <h1><span class="logo">latchkey</span> console</h1>
      <p>Run <code>latchkey console</code> on the server and open the URL it prints, or paste a personal access token
        holding <code>admin:read</code> or <code>admin:write</code>.</p>
      <form onSubmit=${submit}>
        <label>Personal access token
          <input type="password" name="token" autocomplete="off" placeholder="lk_pat_…" value=${token} onInput=${(e) => setToken(e.target.value)} />
        </label>
        <button type="submit" class="primary">Log in</button>
      </form>
      ${problem && html`<p class="error" role="alert">${problem}</p>`}
    </main>`;
}

function Shell({ me, onLogout }) {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const onHash = () => setRoute(currentRoute());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const feed = useLiveFeed(me, onLogout);
  const page = PAGES.find((p) => p.id === route);
  const logout = async () => {
    try {
      await api('POST', '/console/api/logout');
    } finally {
      onLogout();
    }
  };
  const Page = page.component;
  return html`
    <header class="top">
      <a class="logo" href="#/overview">latchkey</a>
      <nav>
        ${PAGES.map((p) => html`<a href=${`#/${p.id}`} class=${p.id === route ? 'active' : ''} data-page=${p.id}>${p.title}</a>`)}
      </nav>
      <div class="who">
        <span class=${`dot ${feed.connected ? 'live' : ''}`} title=${feed.connected ? 'live' : 'reconnecting'}></span>
        <span data-testid="who">${me.name}</span>
        <span class=${`badge ${me.access}`} data-testid="access">${me.access === 'write' ? 'admin' : 'read-only'}</span>
        <button class="link" onClick=${logout}>Log out</button>
      </div>
    </header>
    <main class="page" data-page=${route}>
      <h1>${page.title}</h1>
      <${Page} me=${me} feed=${feed} canWrite=${me.access === 'write'} />
    </main>`;
}

function App() {
  const [me, setMe] = useState(null);
  const [state, setState] = useState('loading');
  const [error, setError] = useState(null);
  const loggedIn = (who) => {
    setCsrf(who.csrf);
    setMe(who);
    setState('in');
  };
  const loggedOut = (message = null) => {
    setCsrf(null);
    setMe(null);
    setError(message);
    setState('out');
  };
  useEffect(() => {
    (async () => {
      // A one-time link: the secret is in the fragment, which no server or log ever saw. Post it once, then drop it.
      const link = /^#login=([A-Za-z0-9_-]+)$/.exec(location.hash)?.[1];
      if (link) {
        history.replaceState(null, '', '/console/#/overview');
        try {
          return loggedIn(await api('POST', '/console/api/login', { link }));
        } catch (err) {
          return loggedOut(err.message);
        }
      }
      try {
        loggedIn(await api('GET', '/console/api/me'));
      } catch (err) {
        loggedOut(err instanceof ApiError && err.status === 401 ? null : err.message);
      }
    })();
  }, []);
  if (state === 'loading') return html`<p class="boot">Loading…</p>`;
  if (state === 'out') return html`<${Login} onLogin=${loggedIn} error=${error} />`;
  return html`<${Shell} me=${me} onLogout=${() => loggedOut('You have been logged out.')} />`;
}

render(html`<${App} />`, document.getElementById('app'));
