// A browser device: mqtt.js (its browser ESM bundle, served by latchkey) over WebSocket with a
// personal access token as the password. The token stays in this page's memory only.
import mqtt from '/console/vendor/mqtt.mjs';

const form = document.getElementById('connect');
const status = document.getElementById('status');
const readings = document.getElementById('readings');
const cards = new Map();
let client = null;

function say(text, error = false) {
  status.textContent = text;
  status.className = error ? 'error' : 'muted';
}

/** One card per topic with its latest reading (textContent only: payloads are never parsed as HTML). */
function show(topic, payload) {
  let card = cards.get(topic);
  if (!card) {
    card = document.createElement('div');
    card.className = 'card';
    card.dataset.topic = topic;
    card.append(document.createElement('div'), document.createElement('div'), document.createElement('div'));
    card.children[0].className = 'value';
    card.children[1].className = 'label';
    card.children[2].className = 'muted';
    readings.append(card);
    cards.set(topic, card);
  }
  let value = payload;
  try {
    const parsed = JSON.parse(payload);
    if (parsed && typeof parsed === 'object') value = Object.entries(parsed).map(([k, v]) => `${k} ${v}`).join(' · ');
  } catch {
    // not JSON: show it as text
  }
  card.children[0].textContent = value;
  card.children[1].textContent = topic;
  card.children[2].textContent = `at ${new Date().toLocaleTimeString()}`;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  if (client) client.end(true);
  const broker = await (await fetch('/console/api/broker')).json();
  const transport = data.get('transport') === 'auto' ? (location.protocol === 'https:' ? 'wss' : 'ws') : data.get('transport');
  const port = transport === 'wss' ? broker.wss_port : broker.ws_port;
  const username = String(data.get('username'));
  const url = `${transport}://${location.hostname}:${port}${broker.path}`;
  say(`Connecting to ${url}…`);
  client = mqtt.connect(url, {
    username,
    password: String(data.get('password')),
    // A person may add @suffix to their name as client id: this tab's own session.
    clientId: `${username}@dashboard-${Math.random().toString(36).slice(2, 8)}`,
    protocolVersion: 4,
    reconnectPeriod: 0,
    // Keepalive timers on the page itself: mqtt.js's default runs them in a blob: worker, which the CSP forbids.
    timerVariant: 'native',
    clean: true,
  });
  client.on('connect', () => {
    say(`Connected over ${transport.toUpperCase()} as ${username}.`);
    client.subscribe(String(data.get('topic')), { qos: 0 }, (err, granted) => {
      if (err || granted?.some((g) => g.qos === 128)) say(`Subscription refused: the token's scopes do not allow ${data.get('topic')}.`, true);
      else say(`Connected over ${transport.toUpperCase()} as ${username}; subscribed to ${data.get('topic')}.`);
    });
  });
  client.on('message', (topic, payload) => show(topic, payload.toString()));
  client.on('error', (err) => say(`Refused: ${err.message}`, true));
  client.on('close', () => {
    if (status.className !== 'error') say('Disconnected.', true);
  });
});
