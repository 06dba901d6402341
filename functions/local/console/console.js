/**
 * The local console: one ES module, no build step, talking only to the public API of this origin (plus the
 * local-only /local/token, /local/integrations and /local/events). The caller JWT lives in sessionStorage so
 * that the vendor redirect can come back to this page and claim the finished flow (docs/frontend-connect.md).
 */
const $ = (id) => document.getElementById(id);
const RETURN_TO = `${location.origin}/`;
const POLL_MS = 2000;

let connections = [];
let vended;
let poller;
/** Renewals this page saw happen (a connection's expiry moved later between two polls): {time, text}. */
let renewals = [];
let lastEvents = [];

function session() {
  const token = sessionStorage.getItem('tokenvend.jwt');
  const subject = sessionStorage.getItem('tokenvend.subject');
  return token && subject ? { token, subject } : undefined;
}

function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = !message;
}

function say(message) {
  $('status').textContent = message;
}

/** Calls the API; a non-2xx answer throws its error_description (what every error shows). */
async function api(method, path, body) {
  const headers = {};
  const current = session();
  if (current) headers.authorization = `Bearer ${current.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return undefined;
  let answer;
  try {
    answer = await response.json();
  } catch {
    answer = undefined;
  }
  if (!response.ok) {
    const error = new Error(answer?.error_description ?? `HTTP ${response.status}`);
    error.code = answer?.error;
    error.status = response.status;
    throw error;
  }
  return answer;
}

/** Runs an action, showing its error_description on failure. */
async function guarded(action, keepError = false) {
  try {
    if (!keepError) showError('');
    await action();
  } catch (error) {
    showError(error instanceof Error ? error.message : String(error));
    say('');
  }
}

function countdown(expiresAt) {
  if (typeof expiresAt !== 'number') return 'no expiry stated';
  const left = Math.round(expiresAt - Date.now() / 1000);
  if (left <= 0) return 'expired';
  const m = Math.floor(left / 60);
  const s = String(left % 60).padStart(2, '0');
  return `${m}:${s}`;
}

function mask(value) {
  return value.length <= 12 ? '••••••••' : `${value.slice(0, 6)}••••••••${value.slice(-4)}`;
}

function button(label, name, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.setAttribute('aria-label', name);
  b.addEventListener('click', () => guarded(onClick));
  return b;
}

function cell(row, content) {
  const td = document.createElement('td');
  if (typeof content === 'string') td.textContent = content;
  else if (content) td.append(...[content].flat());
  row.append(td);
  return td;
}

async function loadIntegrations() {
  const { integrations } = await api('GET', '/local/integrations');
  const body = $('integrations');
  body.replaceChildren();
  for (const integration of integrations) {
    const row = document.createElement('tr');
    cell(row, integration.id);
    cell(row, integration.name);
    cell(
      row,
      integration.connect === 'oauth'
        ? button('Connect', `Connect ${integration.id}`, () => connect(integration.id))
        : 'connect through SAML sign-in',
    );
    body.append(row);
  }
}

async function loadConnections() {
  const answer = await api('GET', '/connections');
  const before = new Map(connections.map((c) => [c.integration, c.expires_at]));
  connections = answer.connections;
  for (const connection of connections) {
    const was = before.get(connection.integration);
    if (typeof was === 'number' && typeof connection.expires_at === 'number' && connection.expires_at > was) {
      renewals.push({
        time: Date.now() / 1000,
        text: `token renewed ${connection.integration} (new expiry in ${countdown(connection.expires_at)})`,
      });
      renderEvents();
    }
  }
  const body = $('connections');
  body.replaceChildren();
  $('no-connections').hidden = connections.length > 0;
  $('connections-table').hidden = connections.length === 0;
  for (const connection of connections) {
    const row = document.createElement('tr');
    row.dataset.integration = connection.integration;
    cell(row, connection.integration);
    cell(row, connection.reason ? `${connection.status} (${connection.reason})` : connection.status);
    const expiry = cell(row, countdown(connection.expires_at));
    expiry.className = 'countdown';
    expiry.dataset.expiresAt = String(connection.expires_at ?? '');
    cell(row, [
      button('Vend', `Vend a token for ${connection.integration}`, () => vend(connection.integration)),
      button('Disconnect', `Disconnect ${connection.integration}`, () => disconnect(connection.integration)),
    ]);
    body.append(row);
  }
}

async function loadEvents() {
  const { events } = await api('GET', '/local/events');
  lastEvents = events.map((event) => ({
    time: event.time,
    text: `${event.type} ${event.integration} (${event.reason})`,
  }));
  renderEvents();
}

function renderEvents() {
  const items = [...lastEvents, ...renewals]
    .sort((a, b) => b.time - a.time)
    .map((entry) => {
      const li = document.createElement('li');
      li.textContent = `${new Date(entry.time * 1000).toLocaleTimeString()} ${entry.text}`;
      return li;
    });
  $('events').replaceChildren(...items);
}

function tick() {
  for (const td of document.querySelectorAll('.countdown')) {
    const at = Number(td.dataset.expiresAt);
    td.textContent = td.dataset.expiresAt ? countdown(at) : 'no expiry stated';
  }
  if (vended) $('token-expiry').textContent = countdown(vended.expires_at);
}

async function connect(integration) {
  say(`Starting the connection to ${integration}…`);
  const { authorize_url } = await api('POST', `/connect/${encodeURIComponent(integration)}`, {
    return_to: RETURN_TO,
  });
  say(`Redirecting to ${integration}'s sign-in page…`);
  location.assign(authorize_url);
}

async function vend(integration) {
  say(`Vending a token for ${integration}…`);
  const token = await api('GET', `/vend/${encodeURIComponent(integration)}`);
  vended = { integration, ...token };
  $('token-integration').textContent = integration;
  $('token-header').textContent = token.authorization.header ?? `?${token.authorization.query}=`;
  $('token-value').textContent = mask(token.authorization.value);
  $('token-section').hidden = false;
  tick();
  say(`Token for ${integration} vended.`);
  await loadConnections();
}

async function disconnect(integration) {
  say(`Disconnecting ${integration}…`);
  await api('DELETE', `/connections/${encodeURIComponent(integration)}`);
  if (vended?.integration === integration) {
    vended = undefined;
    $('token-section').hidden = true;
  }
  await loadConnections();
  say(`Disconnected ${integration}.`);
}

async function copyToken() {
  if (!vended) return;
  await navigator.clipboard.writeText(vended.authorization.value);
  say('Token copied to the clipboard.');
}

/** Back from the vendor: the claim code leaves the address bar, then is claimed with this user's JWT. */
async function completeConnect() {
  const params = new URLSearchParams(location.search);
  const claim = params.get('claim');
  const integration = params.get('integration');
  if (!claim || !integration) return;
  history.replaceState(null, '', location.pathname);
  if (!session()) throw new Error('sign in as the user who started the connection, then connect again');
  say(`Finishing the connection to ${integration}…`);
  await api('POST', `/connect/${encodeURIComponent(integration)}/claim`, { claim });
  say(`Connected to ${integration}.`);
}

async function loadAudit() {
  const { records } = await api('GET', '/local/audit');
  const rows = records.slice(0, 30).map((record) => {
    const row = document.createElement('tr');
    cell(row, new Date(record.time).toLocaleTimeString());
    cell(row, record.action);
    cell(row, record.integration ?? '');
    cell(row, record.outcome);
    cell(row, record.actor ?? '');
    return row;
  });
  $('audit').replaceChildren(...rows);
}

async function refresh() {
  await Promise.all([loadConnections(), loadEvents(), loadAudit()]);
}

function render() {
  const current = session();
  $('signin').hidden = Boolean(current);
  $('signed-in').hidden = !current;
  $('whoami').textContent = current?.subject ?? '';
  for (const id of ['integrations-section', 'connections-section', 'events-section', 'audit-section']) {
    $(id).hidden = !current;
  }
  if (!current) $('token-section').hidden = true;
  clearInterval(poller);
  if (current) poller = setInterval(() => guarded(refresh, true), POLL_MS);
}

async function signIn(subject) {
  say(`Signing in as ${subject}…`);
  const { token } = await api('POST', '/local/token', { sub: subject });
  sessionStorage.setItem('tokenvend.jwt', token);
  sessionStorage.setItem('tokenvend.subject', subject);
  vended = undefined;
  render();
  await Promise.all([loadIntegrations(), refresh()]);
  say(`Signed in as ${subject}.`);
}

function signOut() {
  sessionStorage.removeItem('tokenvend.jwt');
  sessionStorage.removeItem('tokenvend.subject');
  vended = undefined;
  connections = [];
  renewals = [];
  lastEvents = [];
  renderEvents();
  render();
  say('Signed out.');
  $('subject').focus();
}

$('signin').addEventListener('submit', (event) => {
  event.preventDefault();
  guarded(() => signIn($('subject').value.trim()));
});
$('signout').addEventListener('click', signOut);
$('token-copy').addEventListener('click', () => guarded(copyToken));
setInterval(tick, 1000);

render();
guarded(completeConnect).then(() => {
  if (session()) guarded(() => Promise.all([loadIntegrations(), refresh()]), true);
});
