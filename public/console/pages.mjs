// The console's pages. Each is a function of the logged-in operator (`me`), the live feed and
// whether it may change things; read-only operators get no buttons (and the API refuses them anyway).
import { html, useEffect, useMemo, useState } from '/console/vendor/preact-htm.mjs';
import { api, query } from '/console/api.mjs';

// ---------- small shared pieces ----------

/** GET a path; reload() fetches again. */
function useData(path) {
  const [state, setState] = useState({ data: null, error: null });
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    api('GET', path).then(
      (data) => live && setState({ data, error: null }),
      (err) => live && setState({ data: null, error: err.message }),
    );
    return () => {
      live = false;
    };
  }, [path, version]);
  return { ...state, reload: () => setVersion((v) => v + 1) };
}

function time(iso) {
  return iso ? new Date(iso).toLocaleString() : '—';
}

/** "in 4m 10s" / "3m ago" from an ISO time. */
function relative(iso) {
  if (!iso) return 'never';
  const seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  const text = abs >= 86400 ? `${Math.floor(abs / 86400)}d ${Math.floor((abs % 86400) / 3600)}h` : abs >= 3600 ? `${Math.floor(abs / 3600)}h ${Math.floor((abs % 3600) / 60)}m` : abs >= 60 ? `${Math.floor(abs / 60)}m ${abs % 60}s` : `${abs}s`;
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}

function Message({ message }) {
  if (!message) return null;
  return html`<p class=${message.error ? 'error' : 'note'} role=${message.error ? 'alert' : 'status'}>${message.text}</p>`;
}

/** A secret shown once, with a copy button. */
function Secret({ label, value, testid }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return html`
    <div class="secret" data-testid=${testid}>
      <p><strong>${label}</strong> — shown once: copy it now, latchkey keeps only its hash.</p>
      <div class="secret-row"><code class="secret-value">${value}</code><button type="button" onClick=${copy}>${copied ? 'Copied' : 'Copy'}</button></div>
    </div>`;
}

/** A destructive button that asks once more, inline. */
function Confirm({ label, confirmLabel, onConfirm, action }) {
  const [armed, setArmed] = useState(false);
  if (!armed) return html`<button type="button" class="danger" data-action=${action} onClick=${() => setArmed(true)}>${label}</button>`;
  return html`<span class="confirm"><button type="button" class="danger solid" data-action=${`${action}-confirm`} onClick=${() => {
    setArmed(false);
    onConfirm();
  }}>${confirmLabel ?? `Yes, ${label.toLowerCase()}`}</button><button type="button" onClick=${() => setArmed(false)}>Cancel</button></span>`;
}

function Table({ head, children, empty }) {
  return html`<div class="table-wrap"><table><thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${children}</tbody></table>${empty ? html`<p class="empty">${empty}</p>` : null}</div>`;
}

/** Runs a change and turns its outcome into a message. */
async function attempt(setMessage, work, success) {
  try {
    const result = await work();
    setMessage(success ? { text: typeof success === 'function' ? success(result) : success } : null);
    return result;
  } catch (err) {
    setMessage({ error: true, text: err.message });
    return undefined;
  }
}

// ---------- overview ----------

/** Per-second rates between successive counter snapshots. */
function rates(stats) {
  const out = [];
  for (let i = 1; i < stats.length; i++) {
    const a = stats[i - 1];
    const b = stats[i];
    const dt = Math.max(0.001, (b.at - a.at) / 1000);
    const refusedByReason = {};
    let refused = 0;
    for (const [reason, n] of Object.entries(b.connects_refused)) {
      const d = n - (a.connects_refused[reason] ?? 0);
      if (d > 0) refusedByReason[reason] = d / dt;
      refused += d;
    }
    out.push({
      at: b.at,
      connects: (b.connects_accepted - a.connects_accepted) / dt,
      refused: refused / dt,
      refusedByReason,
      tokens: (b.tokens_issued - a.tokens_issued) / dt,
      denials: (b.denials - a.denials) / dt,
    });
  }
  return out;
}

const SERIES = [
  { key: 'connects', label: 'connects/s', cls: 's-connects' },
  { key: 'refused', label: 'refusals/s', cls: 's-refused' },
  { key: 'tokens', label: 'tokens/s', cls: 's-tokens' },
  { key: 'denials', label: 'denials/s', cls: 's-denials' },
];

function Chart({ points }) {
  const width = 600;
  const height = 160;
  const max = Math.max(1, ...points.flatMap((p) => SERIES.map((s) => p[s.key])));
  const x = (i) => (points.length <= 1 ? width : (i / (60 - 1)) * width + (60 - points.length) * (width / (60 - 1)));
  const y = (v) => height - 4 - (v / max) * (height - 12);
  return html`
    <figure class="chart">
      <svg viewBox=${`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label="rates over the last minute">
        <line x1="0" y1=${height - 4} x2=${width} y2=${height - 4} class="axis" />
        ${SERIES.map((s) => html`<polyline class=${s.cls} points=${points.map((p, i) => `${x(i).toFixed(1)},${y(p[s.key]).toFixed(1)}`).join(' ')} />`)}
      </svg>
      <figcaption>${SERIES.map((s) => html`<span class=${`legend ${s.cls}`}>${s.label}</span>`)}<span class="legend-max">peak ${max.toFixed(1)}/s, last 60 s</span></figcaption>
    </figure>`;
}

function Overview({ feed }) {
  const series = useMemo(() => rates(feed.stats), [feed.stats]);
  const latest = feed.stats[feed.stats.length - 1];
  const now = series[series.length - 1] ?? { connects: 0, refused: 0, tokens: 0, denials: 0, refusedByReason: {} };
  const reasons = Object.entries(now.refusedByReason);
  const card = (label, value, testid, extra) => html`<div class="card" data-testid=${testid}><div class="value">${value}</div><div class="label">${label}</div>${extra}</div>`;
  return html`
    <section class="cards">
      ${card('sessions open', latest ? latest.sessions_open : '…', 'sessions-open')}
      ${card('connects/s', now.connects.toFixed(1), 'connects-rate')}
      ${card('refusals/s', now.refused.toFixed(1), 'refusals-rate', reasons.length ? html`<ul class="reasons">${reasons.map(([r, v]) => html`<li>${r}: ${v.toFixed(1)}</li>`)}</ul>` : null)}
      ${card('tokens/s', now.tokens.toFixed(1), 'tokens-rate')}
      ${card('denials/s', now.denials.toFixed(1), 'denials-rate')}
    </section>
    <${Chart} points=${series.slice(-60)} />
    ${latest && html`<p class="muted">${`Since start: ${latest.connects_accepted} connects, ${Object.values(latest.connects_refused).reduce((a, b) => a + b, 0)} refused, ${latest.tokens_issued} tokens issued, ${latest.denials} denials, ${latest.broker_disconnects} sessions ended by the broker.`}</p>`}`;
}

// ---------- devices ----------

/** Scope editor with a live "what this allows" preview through the admin explain route (the broker's decide()). */
function ScopeEditor({ client, onSaved, canWrite }) {
  const [draft, setDraft] = useState(client.scope);
  const [action, setAction] = useState('publish');
  const [topic, setTopic] = useState(`devices/${client.client_id}/telemetry`);
  const [preview, setPreview] = useState(null);
  const [message, setMessage] = useState(null);
  useEffect(() => {
    if (!topic) return undefined;
    const timer = setTimeout(() => {
      api('GET', `/admin/explain${query({ principal: client.client_id, action, topic, scope: draft.trim() || undefined })}`).then(
        (answer) => setPreview(answer),
        (err) => setPreview({ error: err.message }),
      );
    }, 200);
    return () => clearTimeout(timer);
  }, [draft, action, topic]);
  const save = () => attempt(setMessage, () => api('POST', `/admin/clients/${encodeURIComponent(client.client_id)}/scope`, { scope: draft.trim() }), 'Scope saved: live sessions follow it now.').then((r) => r && onSaved());
  return html`
    <div class="scope-editor">
      <label>Scope
        <textarea rows="2" name="scope" disabled=${!canWrite} value=${draft} onInput=${(e) => setDraft(e.target.value)}></textarea>
      </label>
      <div class="preview">
        <span>What this allows:</span>
        <select name="preview-action" value=${action} onChange=${(e) => setAction(e.target.value)}><option value="publish">publish</option><option value="subscribe">subscribe</option></select>
        <input name="preview-topic" value=${topic} onInput=${(e) => setTopic(e.target.value)} />
        ${preview && (preview.error ? html`<span class="error">${preview.error}</span>` : html`<span class=${`decision ${preview.allow ? 'allow' : 'deny'}`} data-testid="scope-preview">${preview.allow ? 'ALLOW' : 'DENY'}</span> <span class="muted">${preview.reason}</span>`)}
      </div>
      ${canWrite && html`<button type="button" class="primary" data-action="save-scope" onClick=${save} disabled=${draft.trim() === client.scope}>Save scope</button>`}
      <${Message} message=${message} />
    </div>`;
}

function DeviceDetail({ client, reload, canWrite }) {
  const [message, setMessage] = useState(null);
  const [secret, setSecret] = useState(null);
  const id = encodeURIComponent(client.client_id);
  return html`
    <tr class="detail"><td colspan="6">
      <${ScopeEditor} client=${client} onSaved=${reload} canWrite=${canWrite} />
      ${canWrite && html`<div class="actions">
        <button type="button" data-action="rotate" onClick=${() => attempt(setMessage, () => api('POST', `/admin/clients/${id}/rotate-secret`, { grace: 0 })).then((r) => r && setSecret(r.client_secret))}>Rotate secret</button>
        ${client.status === 'enabled'
          ? html`<button type="button" data-action="disable" onClick=${() => attempt(setMessage, () => api('POST', `/admin/clients/${id}/disable`), 'Disabled: its sessions ended.').then(reload)}>Disable</button>`
          : html`<button type="button" data-action="enable" onClick=${() => attempt(setMessage, () => api('POST', `/admin/clients/${id}/enable`), 'Enabled.').then(reload)}>Enable</button>`}
        <${Confirm} label="Delete" action="delete" onConfirm=${() => attempt(setMessage, () => api('DELETE', `/admin/clients/${id}`), 'Deleted.').then(reload)} />
      </div>`}
      ${secret && html`<${Secret} label="New client secret" value=${secret} testid="rotated-secret" />`}
      <${Message} message=${message} />
    </td></tr>`;
}

function Devices({ feed, canWrite }) {
  const { data, error, reload } = useData('/admin/clients');
  const [search, setSearch] = useState('');
  const [open, setOpen] = useState(null);
  const [created, setCreated] = useState(null);
  const [form, setForm] = useState({ client_id: '', scope: 'mqtt:publish:devices/{client_id}/# mqtt:subscribe:devices/{client_id}/#' });
  const [message, setMessage] = useState(null);
  const online = new Set(feed.sessions.map((s) => s.principal));
  const lastSeen = {};
  for (const e of feed.audit) if (e.event === 'mqtt.connect' && e.outcome === 'success' && e.principal && !lastSeen[e.principal]) lastSeen[e.principal] = e.at;
  const create = async (e) => {
    e.preventDefault();
    const answer = await attempt(setMessage, () => api('POST', '/admin/clients', { client_id: form.client_id.trim(), scope: form.scope.trim() }));
    if (answer) {
      setCreated(answer);
      setForm({ ...form, client_id: '' });
      reload();
    }
  };
  const clients = (data?.clients ?? []).filter((c) => !search || c.client_id.includes(search) || c.scope.includes(search));
  return html`
    ${canWrite && html`<form class="inline-form" onSubmit=${create} data-testid="create-device">
      <label>Client id <input name="client_id" required pattern="[A-Za-z0-9._\\-]{1,64}" value=${form.client_id} onInput=${(e) => setForm({ ...form, client_id: e.target.value })} /></label>
      <label class="grow">Scope <input name="scope" required value=${form.scope} onInput=${(e) => setForm({ ...form, scope: e.target.value })} /></label>
      <button type="submit" class="primary" data-action="create-device">Create device</button>
    </form>`}
    <${Message} message=${message} />
    ${created && html`<${Secret} label=${`Client secret of ${created.client_id}`} value=${created.client_secret} testid="new-secret" />`}
    <div class="toolbar"><input type="search" name="search" placeholder="Search devices and scopes" value=${search} onInput=${(e) => setSearch(e.target.value)} /><span class="muted">${clients.length} of ${data?.clients.length ?? 0}</span></div>
    ${error && html`<p class="error">${error}</p>`}
    <${Table} head=${['Device', 'Status', 'Auth method', 'Scopes', 'Last seen', '']} empty=${data && clients.length === 0 ? 'No devices match.' : null}>
      ${clients.map((c) => html`
        <tr key=${c.client_id} data-client=${c.client_id}>
          <td><strong>${c.client_id}</strong></td>
          <td><span class=${`badge ${c.status}`}>${c.status}</span></td>
          <td>${c.auth_method}</td>
          <td class="scopes">${c.scope.split(' ').map((s) => html`<code>${s}</code> `)}</td>
          <td>${online.has(c.client_id) ? html`<span class="badge online">online</span>` : lastSeen[c.client_id] ? relative(lastSeen[c.client_id]) : '—'}</td>
          <td><button type="button" class="link" data-action="manage" onClick=${() => setOpen(open === c.client_id ? null : c.client_id)}>${open === c.client_id ? 'Close' : canWrite ? 'Manage' : 'Details'}</button></td>
        </tr>
        ${open === c.client_id && html`<${DeviceDetail} client=${c} reload=${reload} canWrite=${canWrite} />`}`)}
    <//>`;
}

// ---------- live sessions ----------

function Sessions({ feed, canWrite }) {
  const [message, setMessage] = useState(null);
  // The admin API's session route, shared with `latchkey sessions kick [--revoke]`: one code path, every node.
  const act = (clientId, revoke) =>
    attempt(setMessage, () => api('DELETE', `/admin/sessions/${encodeURIComponent(clientId)}${revoke ? '?revoke=true' : ''}`), revoke ? `${clientId}: credential revoked and session ended.` : `${clientId}: session ended.`);
  return html`
    <p class="muted">${`Live: refreshed every second. ${feed.sessions.length} session${feed.sessions.length === 1 ? '' : 's'}${feed.sessions.length >= 500 ? ' shown (the first 500; GET /admin/sessions lists all)' : ''}.`}</p>
    <${Message} message=${message} />
    <${Table} head=${['Client id', 'Who', 'Address', 'Credential', 'Expires', 'Subscriptions', '']} empty=${feed.sessions.length === 0 ? 'No live sessions.' : null}>
      ${feed.sessions.map((s) => html`
        <tr key=${s.client_id} data-session=${s.client_id}>
          <td><strong>${s.client_id}</strong></td>
          <td>${s.principal} <span class="muted">${s.kind}</span></td>
          <td>${s.remote ?? '—'}</td>
          <td>${s.method}</td>
          <td>${s.credential_expires_at ? relative(s.credential_expires_at) : 'never'}</td>
          <td class="scopes">${s.subscriptions.length ? s.subscriptions.map((f) => html`<code>${f}</code> `) : '—'}</td>
          <td class="row-actions">${canWrite && html`
            <button type="button" data-action="disconnect" onClick=${() => act(s.client_id, false)}>Disconnect</button>
            ${s.method !== 'apikey' && html`<button type="button" class="danger" data-action="revoke" onClick=${() => act(s.client_id, true)}>Revoke & disconnect</button>`}`}</td>
        </tr>`)}
    <//>`;
}

// ---------- certificates ----------

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/x-pem-file' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function Certificates({ canWrite }) {
  const { data, error, reload } = useData('/admin/certificates');
  const [form, setForm] = useState({ client_id: '', days: 365, csr: '' });
  const [issued, setIssued] = useState(null);
  const [message, setMessage] = useState(null);
  const issue = async (e) => {
    e.preventDefault();
    const body = { client_id: form.client_id.trim(), days: Number(form.days) };
    if (form.csr.trim()) body.csr = form.csr.trim();
    const answer = await attempt(setMessage, () => api('POST', '/admin/certificates', body));
    if (answer) {
      setIssued(answer);
      reload();
    }
  };
  const readCsr = async (e) => {
    const file = e.target.files[0];
    if (file) setForm({ ...form, csr: await file.text() });
  };
  const soon = Date.now() + 30 * 86400_000;
  return html`
    ${canWrite && html`<form class="inline-form" onSubmit=${issue}>
      <label>Client id <input name="cert_client_id" required value=${form.client_id} onInput=${(e) => setForm({ ...form, client_id: e.target.value })} /></label>
      <label>Days <input name="days" type="number" min="1" max="3650" value=${form.days} onInput=${(e) => setForm({ ...form, days: e.target.value })} /></label>
      <label class="grow">CSR (PEM, optional: without one latchkey makes the key) <input type="file" name="csr" accept=".csr,.pem,.req" onChange=${readCsr} /></label>
      <button type="submit" class="primary" data-action="issue">Issue certificate</button>
    </form>`}
    <${Message} message=${message} />
    ${issued && html`<div class="secret">
      <p><strong>Certificate ${issued.serial}</strong> for ${issued.client_id}, valid until ${time(issued.not_after)}.${issued.key ? ' Its private key is shown once: download it now.' : ''}</p>
      <div class="actions">
        <button type="button" onClick=${() => download(`${issued.client_id}.crt`, issued.cert)}>Download certificate</button>
        ${issued.key && html`<button type="button" class="primary" onClick=${() => download(`${issued.client_id}.key`, issued.key)}>Download private key</button>`}
        <button type="button" onClick=${() => download('ca.crt', issued.ca)}>Download CA</button>
      </div></div>`}
    ${error && html`<p class="error">${error}</p>`}
    <${Table} head=${['Serial', 'Client', 'Status', 'Expires', '']} empty=${data && data.certificates.length === 0 ? 'No certificates issued yet.' : null}>
      ${(data?.certificates ?? []).map((c) => html`
        <tr key=${c.serial}>
          <td><code>${c.serial.slice(0, 16)}…</code></td>
          <td>${c.client_id}</td>
          <td><span class=${`badge ${c.status}`}>${c.status}</span></td>
          <td class=${c.status === 'valid' && Date.parse(c.not_after) < soon ? 'warn' : ''}>${time(c.not_after)} <span class="muted">(${relative(c.not_after)})</span></td>
          <td>${canWrite && c.status === 'valid' && html`<${Confirm} label="Revoke" action="revoke-cert" onConfirm=${() => attempt(setMessage, () => api('POST', `/admin/certificates/${encodeURIComponent(c.serial)}/revoke`), 'Revoked: its sessions ended.').then(reload)} />`}</td>
        </tr>`)}
    <//>`;
}

// ---------- explain ----------

function Explain() {
  const [form, setForm] = useState({ principal: '', action: 'publish', topic: '' });
  const [answer, setAnswer] = useState(null);
  const ask = async (e) => {
    e.preventDefault();
    try {
      setAnswer(await api('GET', `/admin/explain${query(form)}`));
    } catch (err) {
      setAnswer({ error: err.message });
    }
  };
  return html`
    <p class="muted">The broker's own decision, from the same function as <code>latchkey explain</code>.</p>
    <form class="inline-form" onSubmit=${ask}>
      <label>Who <input name="principal" required placeholder="client id, user or API key" value=${form.principal} onInput=${(e) => setForm({ ...form, principal: e.target.value })} /></label>
      <label>Action <select name="action" value=${form.action} onChange=${(e) => setForm({ ...form, action: e.target.value })}><option value="publish">publish</option><option value="subscribe">subscribe</option></select></label>
      <label class="grow">Topic <input name="topic" required value=${form.topic} onInput=${(e) => setForm({ ...form, topic: e.target.value })} /></label>
      <button type="submit" class="primary" data-action="explain">Explain</button>
    </form>
    ${answer && (answer.error
      ? html`<p class="error" role="alert">${answer.error}</p>`
      : html`<div class=${`verdict ${answer.allow ? 'allow' : 'deny'}`} data-testid="decision">
          <div class="decision">${answer.allow ? 'ALLOW' : 'DENY'}</div>
          <div><strong>Reason:</strong> ${answer.reason}</div>
          <div><strong>${answer.allow ? 'Matching scope' : 'Scope that would allow it'}:</strong> <code>${answer.scope ?? 'none would'}</code></div>
        </div>`)}`;
}

// ---------- audit ----------

function matches(e, f) {
  if (f.principal && e.principal !== f.principal) return false;
  if (f.event && !e.event.startsWith(f.event)) return false;
  if (f.outcome && e.outcome !== f.outcome) return false;
  if (f.since && Date.parse(e.at) < Date.now() - Number(f.since) * 1000) return false;
  return true;
}

function Audit({ feed }) {
  const [filters, setFilters] = useState({ principal: '', event: '', outcome: '', since: '' });
  const [live, setLive] = useState(true);
  const [history, setHistory] = useState({ events: [], error: null });
  useEffect(() => {
    if (live) return;
    const since = filters.since ? `${filters.since}s` : undefined;
    api('GET', `/admin/audit${query({ principal: filters.principal, since, limit: 500 })}`).then(
      (r) => setHistory({ events: r.events, error: null }),
      (err) => setHistory({ events: [], error: err.message }),
    );
  }, [live, filters.principal, filters.since]);
  const events = (live ? feed.audit : history.events).filter((e) => matches(e, filters));
  const set = (key) => (e) => setFilters({ ...filters, [key]: e.target.value });
  return html`
    <form class="inline-form" onSubmit=${(e) => e.preventDefault()}>
      <label>Principal <input name="principal" value=${filters.principal} onInput=${set('principal')} /></label>
      <label>Event <input name="event" placeholder="mqtt.connect" value=${filters.event} onInput=${set('event')} /></label>
      <label>Outcome <select name="outcome" value=${filters.outcome} onChange=${set('outcome')}><option value="">any</option><option value="success">success</option><option value="failure">failure</option><option value="denied">denied</option></select></label>
      <label>Time <select name="since" value=${filters.since} onChange=${set('since')}><option value="">any</option><option value="300">last 5 min</option><option value="3600">last hour</option><option value="86400">last day</option></select></label>
      <label class="check"><input type="checkbox" name="live" checked=${live} onChange=${(e) => setLive(e.target.checked)} /> Live tail</label>
    </form>
    ${history.error && html`<p class="error">${history.error}</p>`}
    <${Table} head=${['Time', 'Event', 'Principal', 'Outcome', 'Reason', 'Address']} empty=${events.length === 0 ? 'No events match.' : null}>
      ${events.slice(0, 300).map((e, i) => html`
        <tr key=${`${e.at}-${i}`} data-event=${e.event}>
          <td>${time(e.at)}</td><td><code>${e.event}</code></td><td>${e.principal ?? '—'}</td>
          <td><span class=${`badge ${e.outcome}`}>${e.outcome}</span></td><td>${e.reason ?? ''}</td><td>${e.remote ?? ''}</td>
        </tr>`)}
    <//>`;
}

// ---------- people ----------

function People({ canWrite }) {
  const users = useData('/admin/users');
  const pats = useData('/admin/pats');
  const keys = useData('/admin/apikeys');
  const [message, setMessage] = useState(null);
  const [shown, setShown] = useState(null);
  const [patForm, setPatForm] = useState({ user: '', name: '', scope: 'admin:read', expires: '2592000' });
  const [keyForm, setKeyForm] = useState({ name: '', scope: '' });
  const [grace, setGrace] = useState('604800');
  const createPat = async (e) => {
    e.preventDefault();
    const body = { user: patForm.user, name: patForm.name, scope: patForm.scope, expires_in: patForm.expires === 'never' ? 'never' : Number(patForm.expires) };
    const r = await attempt(setMessage, () => api('POST', '/admin/pats', body));
    if (r) {
      setShown({ label: `Personal access token ${patForm.name} of ${patForm.user}`, value: r.token });
      pats.reload();
    }
  };
  const createKey = async (e) => {
    e.preventDefault();
    const r = await attempt(setMessage, () => api('POST', '/admin/apikeys', keyForm));
    if (r) {
      setShown({ label: `API key ${keyForm.name}`, value: r.key });
      keys.reload();
    }
  };
  const roll = async (name) => {
    const r = await attempt(setMessage, () => api('POST', `/admin/apikeys/${encodeURIComponent(name)}/roll`, { grace: Number(grace) }), (x) => `Rolled: the old key works until ${time(x.previous_expires_at)}.`);
    if (r) {
      setShown({ label: `New API key ${name}`, value: r.key });
      keys.reload();
    }
  };
  return html`
    <${Message} message=${message} />
    ${shown && html`<${Secret} label=${shown.label} value=${shown.value} testid="people-secret" />`}
    <h2>Users</h2>
    <${Table} head=${['User', 'Status', 'May hold', 'Created']} empty=${users.data && users.data.users.length === 0 ? 'No users: latchkey user create <name> --scope "…"' : null}>
      ${(users.data?.users ?? []).map((u) => html`<tr key=${u.name}><td><strong>${u.name}</strong></td><td><span class=${`badge ${u.status}`}>${u.status}</span></td><td class="scopes">${u.scope.split(' ').map((s) => html`<code>${s}</code> `)}</td><td>${time(u.created_at)}</td></tr>`)}
    <//>
    <h2>Personal access tokens</h2>
    ${canWrite && html`<form class="inline-form" onSubmit=${createPat}>
      <label>User <select name="pat_user" required value=${patForm.user} onChange=${(e) => setPatForm({ ...patForm, user: e.target.value })}><option value="">choose</option>${(users.data?.users ?? []).map((u) => html`<option key=${u.name} value=${u.name}>${u.name}</option>`)}</select></label>
      <label>Name <input name="pat_name" required value=${patForm.name} onInput=${(e) => setPatForm({ ...patForm, name: e.target.value })} /></label>
      <label class="grow">Scope <input name="pat_scope" required value=${patForm.scope} onInput=${(e) => setPatForm({ ...patForm, scope: e.target.value })} /></label>
      <label>Expires <select name="pat_expires" value=${patForm.expires} onChange=${(e) => setPatForm({ ...patForm, expires: e.target.value })}><option value="86400">1 day</option><option value="2592000">30 days</option><option value="31536000">1 year</option><option value="never">never</option></select></label>
      <button type="submit" class="primary" data-action="create-pat">Create token</button>
    </form>`}
    <${Table} head=${['Token', 'User', 'Scopes', 'Status', 'Expires', 'Last used', '']} empty=${pats.data && pats.data.tokens.length === 0 ? 'No personal access tokens.' : null}>
      ${(pats.data?.tokens ?? []).map((t) => html`<tr key=${t.id}>
        <td><strong>${t.name}</strong> <code>${t.prefix}…${t.last4}</code></td><td>${t.user}</td><td class="scopes">${t.scope.split(' ').map((s) => html`<code>${s}</code> `)}</td>
        <td><span class=${`badge ${t.status}`}>${t.status}</span></td><td>${t.expires_at ? relative(t.expires_at) : 'never'}</td><td>${t.last_used_at ? `${relative(t.last_used_at)} from ${t.last_used_addr ?? '?'}` : 'never'}</td>
        <td>${canWrite && t.status === 'active' && html`<${Confirm} label="Revoke" action="revoke-pat" onConfirm=${() => attempt(setMessage, () => api('POST', `/admin/pats/${t.id}/revoke`), 'Revoked.').then(pats.reload)} />`}</td></tr>`)}
    <//>
    <h2>API keys</h2>
    ${canWrite && html`<form class="inline-form" onSubmit=${createKey}>
      <label>Name <input name="key_name" required value=${keyForm.name} onInput=${(e) => setKeyForm({ ...keyForm, name: e.target.value })} /></label>
      <label class="grow">Scope <input name="key_scope" required value=${keyForm.scope} onInput=${(e) => setKeyForm({ ...keyForm, scope: e.target.value })} /></label>
      <button type="submit" class="primary" data-action="create-key">Create API key</button>
      <label>Roll grace <select name="grace" value=${grace} onChange=${(e) => setGrace(e.target.value)}><option value="0">none</option><option value="3600">1 hour</option><option value="86400">1 day</option><option value="604800">7 days</option></select></label>
    </form>`}
    <${Table} head=${['Key', 'Scopes', 'Status', 'Valid secrets', 'Last used', '']} empty=${keys.data && keys.data.api_keys.length === 0 ? 'No API keys.' : null}>
      ${(keys.data?.api_keys ?? []).map((k) => html`<tr key=${k.id}>
        <td><strong>${k.id}</strong> <code>${k.prefix}…${k.last4 ?? ''}</code></td><td class="scopes">${k.scope.split(' ').map((s) => html`<code>${s}</code> `)}</td>
        <td><span class=${`badge ${k.status}`}>${k.status}</span></td><td>${k.secrets.length}</td><td>${k.last_used_at ? relative(k.last_used_at) : 'never'}</td>
        <td class="row-actions">${canWrite && html`<button type="button" data-action="roll" onClick=${() => roll(k.id)}>Roll</button>
          ${k.status === 'enabled'
            ? html`<button type="button" data-action="disable-key" onClick=${() => attempt(setMessage, () => api('POST', `/admin/apikeys/${encodeURIComponent(k.id)}/disable`), 'Disabled: its sessions ended.').then(keys.reload)}>Disable</button>`
            : html`<button type="button" data-action="enable-key" onClick=${() => attempt(setMessage, () => api('POST', `/admin/apikeys/${encodeURIComponent(k.id)}/enable`), 'Enabled.').then(keys.reload)}>Enable</button>`}
          <${Confirm} label="Delete" action="delete-key" onConfirm=${() => attempt(setMessage, () => api('DELETE', `/admin/apikeys/${encodeURIComponent(k.id)}`), 'Deleted: its sessions ended.').then(keys.reload)} />`}</td></tr>`)}
    <//>`;
}

// ---------- onboarding ----------

const CLAIM_LIFETIMES = [['900', '15 minutes'], ['3600', '1 hour'], ['86400', '1 day'], ['604800', '7 days'], ['2592000', '30 days']];

/**
 * A claim just minted: its QR code, secret and onboarding string, shown once. The QR code is the SVG the
 * create answer carried (rendered on the server), shown as an image: an <img> never runs what an SVG holds,
 * and the CSP allows data: images only.
 */
function MintedClaim({ claim, onDone }) {
  const src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(claim.qr_svg)}`;
  return html`
    <div class="minted" data-testid="minted-claim">
      <img class="qr" src=${src} width="260" height="260" alt="QR code of the onboarding string" data-testid="claim-qr" />
      <div class="grow">
        <p><strong>Claim ${claim.id}</strong> for template ${claim.template}, until ${time(claim.expires_at)}. Scan the code with the installer app or hand the string to the device now: it will not be shown again.</p>
        <${Secret} label="Onboarding string" value=${claim.onboarding} testid="claim-onboarding" />
        <${Secret} label="Claim" value=${claim.claim} testid="claim-secret" />
        <button type="button" data-action="claim-done" onClick=${onDone}>Done, hide it</button>
      </div>
    </div>`;
}

function Onboarding({ canWrite }) {
  const templates = useData('/admin/templates');
  const claims = useData('/admin/claims');
  const [message, setMessage] = useState(null);
  const [minted, setMinted] = useState(null);
  const [templateForm, setTemplateForm] = useState({ name: '', scope: 'mqtt:publish:devices/{client_id}/# mqtt:subscribe:devices/{client_id}/#', id_prefix: '', cert_days: '365', auth: 'cert' });
  const [claimForm, setClaimForm] = useState({ template: '', uses: '1', expires_in: '900' });
  const createTemplate = async (e) => {
    e.preventDefault();
    const body = { ...templateForm, name: templateForm.name.trim(), scope: templateForm.scope.trim(), id_prefix: templateForm.id_prefix.trim(), cert_days: Number(templateForm.cert_days) };
    const r = await attempt(setMessage, () => api('POST', '/admin/templates', body), (x) => `Template ${x.name} created.`);
    if (r) {
      setTemplateForm({ ...templateForm, name: '' });
      if (!claimForm.template) setClaimForm({ ...claimForm, template: r.name });
      templates.reload();
    }
  };
  const createClaim = async (e) => {
    e.preventDefault();
    const body = { template: claimForm.template, uses: Number(claimForm.uses), expires_in: Number(claimForm.expires_in) };
    const r = await attempt(setMessage, () => api('POST', '/admin/claims', body));
    if (r) {
      setMinted({ ...r, template: body.template });
      claims.reload();
    }
  };
  const list = templates.data?.templates ?? [];
  return html`
    <p class="muted">A template says what a device becomes; a claim is the one-time secret a device provisions itself with (<code>latchkey provision</code>, MQTTS or <code>POST /provision</code>).</p>
    <${Message} message=${message} />
    <h2>Templates</h2>
    ${canWrite && html`<form class="inline-form" onSubmit=${createTemplate} data-testid="create-template">
      <label>Name <input name="template_name" required pattern="[A-Za-z0-9._\\-]{1,64}" value=${templateForm.name} onInput=${(e) => setTemplateForm({ ...templateForm, name: e.target.value })} /></label>
      <label class="grow"><span>Scope (<code>{client_id}</code> is the device's id)</span> <input name="template_scope" required value=${templateForm.scope} onInput=${(e) => setTemplateForm({ ...templateForm, scope: e.target.value })} /></label>
      <label>Id prefix <input name="template_prefix" placeholder="th-" value=${templateForm.id_prefix} onInput=${(e) => setTemplateForm({ ...templateForm, id_prefix: e.target.value })} /></label>
      <label>Auth <select name="template_auth" value=${templateForm.auth} onChange=${(e) => setTemplateForm({ ...templateForm, auth: e.target.value })}><option value="cert">certificate</option><option value="secret">client secret</option></select></label>
      <label>Cert days <input name="template_days" type="number" min="1" max="3650" value=${templateForm.cert_days} onInput=${(e) => setTemplateForm({ ...templateForm, cert_days: e.target.value })} /></label>
      <button type="submit" class="primary" data-action="create-template">Create template</button>
    </form>`}
    ${templates.error && html`<p class="error">${templates.error}</p>`}
    <${Table} head=${['Template', 'Auth', 'Id prefix', 'Cert days', 'Scopes', 'Created', '']} empty=${templates.data && list.length === 0 ? 'No templates yet.' : null}>
      ${list.map((x) => html`<tr key=${x.name} data-template=${x.name}>
        <td><strong>${x.name}</strong></td><td>${x.auth}</td><td>${x.id_prefix ? html`<code>${x.id_prefix}</code>` : html`<span class="muted">any</span>`}</td><td>${x.cert_days}</td>
        <td class="scopes">${x.scope.split(' ').map((sc) => html`<code>${sc}</code> `)}</td><td>${time(x.created_at)}</td>
        <td>${canWrite && html`<${Confirm} label="Delete" action="delete-template" confirmLabel="Yes, delete it and its claims" onConfirm=${() => attempt(setMessage, () => api('DELETE', `/admin/templates/${encodeURIComponent(x.name)}`), `Template ${x.name} deleted with its claims; devices it provisioned stay.`).then(() => {
          templates.reload();
          claims.reload();
        })} />`}</td></tr>`)}
    <//>
    <h2>Claims</h2>
    ${canWrite && html`<form class="inline-form" onSubmit=${createClaim} data-testid="create-claim">
      <label>Template <select name="claim_template" required value=${claimForm.template} onChange=${(e) => setClaimForm({ ...claimForm, template: e.target.value })}><option value="">choose</option>${list.map((x) => html`<option key=${x.name} value=${x.name}>${x.name}</option>`)}</select></label>
      <label>Devices <input name="claim_uses" type="number" min="1" max="10000" value=${claimForm.uses} onInput=${(e) => setClaimForm({ ...claimForm, uses: e.target.value })} /></label>
      <label>Valid for <select name="claim_expires" value=${claimForm.expires_in} onChange=${(e) => setClaimForm({ ...claimForm, expires_in: e.target.value })}>${CLAIM_LIFETIMES.map(([v, label]) => html`<option value=${v}>${label}</option>`)}</select></label>
      <button type="submit" class="primary" data-action="create-claim">Create claim</button>
    </form>`}
    ${minted && html`<${MintedClaim} claim=${minted} onDone=${() => setMinted(null)} />`}
    ${claims.error && html`<p class="error">${claims.error}</p>`}
    <${Table} head=${['Claim', 'Template', 'Used', 'Status', 'Created by', 'Expires', '']} empty=${claims.data && claims.data.claims.length === 0 ? 'No claims.' : null}>
      ${(claims.data?.claims ?? []).map((c) => html`<tr key=${c.id} data-claim=${c.id}>
        <td><strong>${c.id}</strong> <code>${c.prefix}…${c.last4}</code></td><td>${c.template}</td><td>${c.used}/${c.uses}</td>
        <td><span class=${`badge ${c.status}`}>${c.status}</span></td><td>${c.created_by}</td>
        <td>${c.status === 'active' ? relative(c.expires_at) : time(c.expires_at)}</td>
        <td>${canWrite && c.status === 'active' && html`<${Confirm} label="Revoke" action="revoke-claim" onConfirm=${() => attempt(setMessage, () => api('DELETE', `/admin/claims/${encodeURIComponent(c.id)}`), `Claim ${c.id} revoked: its unused uses died with it.`).then(claims.reload)} />`}</td></tr>`)}
    <//>`;
}

/** The console's pages, in navigation order. */
export const PAGES = [
  { id: 'overview', title: 'Overview', component: Overview },
  { id: 'devices', title: 'Devices', component: Devices },
  { id: 'sessions', title: 'Live sessions', component: Sessions },
  { id: 'certificates', title: 'Certificates', component: Certificates },
  { id: 'explain', title: 'Explain', component: Explain },
  { id: 'audit', title: 'Audit', component: Audit },
  { id: 'people', title: 'People', component: People },
  { id: 'onboarding', title: 'Onboarding', component: Onboarding },
];
