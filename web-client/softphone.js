// The softphone page (index.html): a user interface over sbc-client.js.
//
// Query parameters, for deployments and tests:
//   ?ws=wss://host:8443/ws   the gateway's WebSocket (default: /ws on this origin)
//   ?token=...               access token for `hello`
//   ?autoconnect=0           do not connect on load (a Connect button appears)
//   ?to=600                  fill the number field
//   ?user=1001&domain=...    fill the registration form (never a password)
//   ?processing=0            microphone without echo cancellation, noise
//                            suppression and gain control (for tone tests)
//
// One call at a time: an incoming call while another is up is declined
// with 486 Busy Here. `window.softphone` exposes the client and the current
// call to automation.
import { SbcClient } from './sbc-client.js';

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);

const voiceProcessing = params.get('processing') !== '0';
/** @type {MediaTrackConstraints} */
const AUDIO = {
  echoCancellation: voiceProcessing,
  noiseSuppression: voiceProcessing,
  autoGainControl: voiceProcessing,
};
const client = new SbcClient({
  url: params.get('ws') || undefined,
  token: params.get('token') || undefined,
  audio: AUDIO,
});

/** @type {import('./sbc-client.js').Call|null} the call in the dialer: placed, or answered */
let current = null;
/** @type {import('./sbc-client.js').Call|null} an incoming call not yet answered */
let ringing = null;
/** Whether a call ended since the last one began (the state shows `ended`). */
let ended = false;

const CONNECTION_TEXT = {
  disconnected: 'Disconnected',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
};

const REGISTRATION_TEXT = {
  unregistered: 'Not registered',
  registered: 'Registered',
  failed: 'Registration failed',
};

/** What an error code means to the person using the page. */
const EXPLANATION = {
  unauthorized: 'The gateway refused the access token.',
  not_registered: 'Register first: this gateway only lets registered users call.',
  no_route: 'The gateway has no route to that number.',
  no_such_call: 'That call no longer exists.',
  call_exists: 'A call of that name already exists.',
  invalid_state: 'Not possible in the current state of the call.',
  bad_sdp: 'The gateway could not use the browser’s media description.',
  rate_limited: 'Too many requests: wait a moment and try again.',
  overloaded: 'The gateway is at capacity: try again shortly.',
  registration_failed: 'Registration failed.',
  bad_request: 'The gateway did not understand a request.',
  unknown_type: 'The gateway does not support this request.',
  internal: 'The gateway failed internally.',
  not_connected: 'Not connected to the gateway.',
  disconnected: 'The connection to the gateway dropped.',
  timeout: 'The gateway did not answer in time.',
  media: 'The microphone could not be opened: allow this page to use it and try again.',
  webrtc: 'The browser could not set up the call’s media.',
};

// --- messages ------------------------------------------------------------------

/** Shows an error, or hides the error line when given nothing. */
function showError(err) {
  const line = $('error');
  if (!err || err.code === 'cancelled') {
    line.hidden = true;
    line.textContent = '';
    return;
  }
  const explanation = EXPLANATION[err.code];
  const details = [err.message !== err.code && err.message, err.sip_status && `SIP ${err.sip_status}`].filter(Boolean).join(', ');
  line.textContent = explanation ? `${explanation}${details ? ` (${details})` : ''}` : details || String(err);
  line.hidden = false;
}

function status(text) {
  $('status-line').textContent = text;
}

function partyName(call) {
  return call.display ? `${call.display} <${call.remote}>` : call.remote;
}

// --- rendering -------------------------------------------------------------------

/** @returns {import('./sbc-client.js').CallState} */
function callState() {
  if (current) return current.state;
  if (ringing) return ringing.state;
  return ended ? 'ended' : 'idle';
}

function render() {
  const state = callState();
  const output = $('call-state');
  output.textContent = state;
  output.dataset.state = state;

  const live = current !== null && current.state !== 'ended';
  const inCall = live && current.state === 'in-call';
  $('call').disabled = live || ringing !== null;
  $('hangup').disabled = !live;
  $('mute').disabled = !inCall;
  $('hold').disabled = !inCall;
  $('transfer').disabled = !inCall;
  $('mute').setAttribute('aria-pressed', String(live && current.muted));
  $('hold').setAttribute('aria-pressed', String(live && current.held.local));
  $('mute').textContent = live && current.muted ? 'Unmute' : 'Mute';
  $('hold').textContent = live && current.held.local ? 'Resume' : 'Hold';

  $('incoming').hidden = ringing === null;
  if (ringing) $('incoming-from').textContent = partyName(ringing);
}

/** Whether the page has had a session, and whether the error line says it is lost. */
let wasConnected = false;
let connectionLost = false;

function renderConnection(state) {
  const pill = $('connection');
  pill.textContent = CONNECTION_TEXT[state];
  pill.dataset.state = state;
  $('connect').hidden = state !== 'disconnected';
  if (state === 'reconnecting') {
    connectionLost = true;
    showError(new Error(wasConnected
      ? 'The connection to the gateway dropped; reconnecting…'
      : `Cannot reach the gateway at ${client.url}; retrying…`));
  } else if (state === 'connected') {
    wasConnected = true;
    if (connectionLost) showError(null);
    connectionLost = false;
  }
}

function renderRegistration(registration) {
  const pill = $('registration');
  pill.textContent = REGISTRATION_TEXT[registration.state] ?? registration.state;
  pill.dataset.state = registration.state;
}

// --- calls -----------------------------------------------------------------------

/** Makes `call` the one the dialer shows and plays. */
function follow(call) {
  current = call;
  ended = false;
  $('timer').textContent = duration(0);
  const audio = $('remote-audio');
  audio.srcObject = call.remoteStream;
  audio.play().catch(() => {}); // autoplay may wait for a gesture; the call goes on
  call.on('state', (state) => {
    if (state === 'ringing') status(`${partyName(call)} is ringing…`);
    if (state === 'in-call') {
      status(`In call with ${partyName(call)}.`);
      startMeters(call);
    }
    render();
  });
  call.on('progress', ({ early }) => early && status(`${partyName(call)} is ringing (early media)…`));
  call.on('held', ({ by }) => {
    if (by === 'remote') status(`${partyName(call)} put the call on hold.`);
    render();
  });
  call.on('resumed', () => {
    status(`In call with ${partyName(call)}.`);
    render();
  });
  call.on('dtmf', ({ digit }) => status(`Received DTMF ${digit}.`));
  call.on('quality', ({ mos }) => ($('q-mos').textContent = mos.toFixed(1)));
  call.on('ended', (info) => {
    if (current === call) current = null;
    ended = true;
    stopMeters();
    status(endedText(info));
    if (info.code && info.code !== 'cancelled') showError({ code: info.code, message: info.reason, sip_status: info.sip_status });
    render();
  });
  status(call.direction === 'outgoing' ? `Calling ${partyName(call)}…` : `Answering ${partyName(call)}…`);
  render();
}

function endedText({ by, sip_status, reason }) {
  const who = { local: 'You ended the call', remote: 'The other side ended the call', gateway: 'The gateway ended the call' }[by] ?? 'Call ended';
  const why = [reason, sip_status && `SIP ${sip_status}`].filter(Boolean).join(', ');
  return why ? `${who}: ${why}.` : `${who}.`;
}

function onIncoming(call) {
  if (current || ringing) {
    call.reject(486).catch(() => {});
    return;
  }
  ringing = call;
  ended = false;
  call.ringing().catch(() => {});
  call.on('ended', (info) => {
    if (ringing !== call) return;
    ringing = null;
    ended = true;
    status(endedText(info));
    render();
  });
  status(`Incoming call from ${partyName(call)}.`);
  render();
  $('answer').focus(); // the panel is an alert dialog: focus goes to it
}

async function placeCall() {
  const to = $('dial').value.trim();
  if (!to) {
    showError(new Error('Type a number or SIP address first.'));
    $('dial').focus();
    return;
  }
  showError(null);
  try {
    await client.call(to, { audio: microphoneConstraints() });
    refreshMicrophones();
  } catch (err) {
    showError(err);
  }
}

async function answerIncoming() {
  const call = ringing;
  if (!call) return;
  ringing = null;
  showError(null);
  follow(call);
  try {
    await call.answer({ audio: microphoneConstraints() });
    refreshMicrophones();
  } catch (err) {
    showError(err);
  }
}

/** Runs a call action, showing its error if it fails. */
async function act(action) {
  showError(null);
  try {
    await action();
  } catch (err) {
    showError(err);
  }
  render();
}

function pressKey(key) {
  if (current?.state === 'in-call') {
    act(async () => {
      await current.dtmf(key);
      status(`Sent DTMF ${key}.`);
    });
    return;
  }
  const dial = $('dial');
  dial.value += key;
  dial.focus();
}

// --- microphone and quality ------------------------------------------------------

/** @returns {MediaTrackConstraints} the chosen microphone */
function microphoneConstraints() {
  const deviceId = $('mic').value;
  return deviceId ? { ...AUDIO, deviceId: { exact: deviceId } } : AUDIO;
}

/** Lists the microphones (their names are known once the page may use one). */
async function refreshMicrophones() {
  const select = $('mic');
  const devices = await navigator.mediaDevices?.enumerateDevices().catch(() => []) ?? [];
  const chosen = select.value;
  select.replaceChildren(new Option('Default microphone', ''));
  devices
    .filter((d) => d.kind === 'audioinput' && d.deviceId && d.deviceId !== 'default')
    .forEach((d, i) => select.add(new Option(d.label || `Microphone ${i + 1}`, d.deviceId)));
  select.value = [...select.options].some((o) => o.value === chosen) ? chosen : '';
}

let metersTimer = 0;

function startMeters(call) {
  stopMeters();
  metersTimer = setInterval(async () => {
    const stats = await call.stats();
    $('q-rtt').textContent = stats.rttMs === undefined ? '–' : `${Math.round(stats.rttMs)} ms`;
    $('q-jitter').textContent = stats.jitterMs === undefined ? '–' : `${stats.jitterMs.toFixed(1)} ms`;
    $('q-loss').textContent = stats.loss === undefined ? '–' : `${(stats.loss * 100).toFixed(1)} %`;
    $('q-codec').textContent = stats.codec?.replace(/^audio\//, '') ?? '–';
    $('level-in').value = loudness(stats.inputLevel);
    $('level-out').value = loudness(stats.outputLevel);
    $('timer').textContent = duration(Date.now() - call.answeredAt);
  }, 500);
}

function stopMeters() {
  clearInterval(metersTimer);
  for (const id of ['q-rtt', 'q-jitter', 'q-loss', 'q-codec', 'q-mos']) $(id).textContent = '–';
  $('level-in').value = 0;
  $('level-out').value = 0;
}

/** An audio level (0..1, linear) on a 60 dB scale, as meters show it. */
function loudness(level) {
  if (!(level > 0)) return 0;
  return Math.max(0, 1 + (20 * Math.log10(level)) / 60);
}

function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n) => String(n).padStart(2, '0');
  const clock = `${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
  return s >= 3600 ? `${Math.floor(s / 3600)}:${clock}` : clock;
}

// --- wiring ----------------------------------------------------------------------

client.on('state', renderConnection);
client.on('registration', renderRegistration);
client.on('error', showError);
client.on('call', (call) => call.direction === 'outgoing' && follow(call));
client.on('incoming', onIncoming);

$('dialer').addEventListener('submit', (event) => {
  event.preventDefault();
  if (!current && !ringing) placeCall();
});
$('hangup').addEventListener('click', () => current?.hangup());
$('answer').addEventListener('click', answerIncoming);
$('reject').addEventListener('click', () => ringing && act(() => ringing.reject()));
$('mute').addEventListener('click', () => act(() => current.setMuted(!current.muted)));
$('hold').addEventListener('click', () => act(() => (current.held.local ? current.unhold() : current.hold())));
$('transfer').addEventListener('click', () => {
  const to = $('dial').value.trim();
  if (!to) {
    showError(new Error('Type the number to transfer to first.'));
    return;
  }
  act(async () => {
    await current.transfer(to);
    status(`Transferred to ${to}.`);
  });
});
for (const key of document.querySelectorAll('.keypad [data-key]')) {
  key.addEventListener('click', () => pressKey(key.dataset.key));
}
$('mic').addEventListener('change', () => {
  if (current?.pc && current.state !== 'ended') act(() => current.setMicrophone($('mic').value));
});
navigator.mediaDevices?.addEventListener('devicechange', refreshMicrophones);

$('register-form').addEventListener('submit', (event) => {
  event.preventDefault();
  act(() =>
    client.register({
      user: $('user').value.trim(),
      password: $('password').value || undefined,
      domain: $('domain').value.trim() || undefined,
    }),
  );
});
$('unregister').addEventListener('click', () => act(() => client.unregister()));
$('connect').addEventListener('click', () => client.connect().catch(showError));
addEventListener('pagehide', () => client.disconnect());

$('dial').value = params.get('to') ?? '';
$('user').value = params.get('user') ?? '';
$('domain').value = params.get('domain') ?? '';

window.softphone = {
  client,
  /** @returns {import('./sbc-client.js').Call|null} the call in the dialer, else the one ringing */
  get call() {
    return current ?? ringing;
  },
};

render();
renderConnection(client.state);
refreshMicrophones();
if (params.get('autoconnect') !== '0') client.connect().catch(showError);
