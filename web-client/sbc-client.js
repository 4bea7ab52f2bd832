// sbc-client.js: the browser side of the gateway's signaling protocol,
// version 1 (docs/protocol.md). One plain ES module, no dependencies, no
// build step:
//
//   import { SbcClient } from './sbc-client.js';
//   const client = new SbcClient({ token });
//   await client.connect();
//   const call = await client.call('600');
//
// An SbcClient owns one WebSocket session: it says `hello`, matches every
// answer to its request by `id`, pings, and reconnects with backoff, resuming
// the session (calls and registration) when the socket drops. A Call owns one
// RTCPeerConnection and the microphone it sends.
//
// ICE: the gateway is ICE-lite and puts all of its candidates in its SDP. The
// client waits for its own ICE gathering to complete (at most
// `iceGatheringTimeoutMs`) before it sends an offer or answer, so the SDP
// normally carries every browser candidate; candidates found after that are
// trickled with `candidate` messages, ending with `candidate: null`.

/**
 * Call states, in the order a call goes through them. `idle` is the state of
 * no call at all (a page between calls); a Call object starts in `calling`
 * (placed by us) or `ringing` (incoming) and always ends in `ended`.
 * @typedef {'idle'|'calling'|'ringing'|'in-call'|'ended'} CallState
 */
export const CallState = Object.freeze({
  IDLE: 'idle',
  CALLING: 'calling',
  RINGING: 'ringing',
  IN_CALL: 'in-call',
  ENDED: 'ended',
});

/** @typedef {'disconnected'|'connecting'|'connected'|'reconnecting'} ConnectionState */

/**
 * An error answered by the gateway, or raised by this module.
 *
 * `code` is one of the protocol's error codes (`no_route`, `unauthorized`,
 * ...) or one of this module's own: `not_connected` (no session when the
 * request was made), `disconnected` (the socket dropped before the answer),
 * `timeout` (no answer in time), `cancelled` (the call ended while it was
 * being set up), `media` (the microphone could not be opened), `webrtc` (the
 * browser refused an SDP or description), `invalid_state` (the method does
 * not apply to the call in its current state).
 */
export class SbcError extends Error {
  /**
   * @param {string} code
   * @param {string} [message]
   * @param {{sip_status?: number, cause?: unknown}} [details]
   */
  constructor(code, message, { sip_status, cause } = {}) {
    super(message || code, cause === undefined ? undefined : { cause });
    this.name = 'SbcError';
    /** @type {string} */
    this.code = code;
    /** @type {number|undefined} the SIP status behind the error, when there is one */
    this.sip_status = sip_status;
  }
}

/**
 * A minimal event emitter. Handlers run synchronously in the order they were
 * added; one that throws is reported (`reportError`) without disturbing the
 * others or the emitter.
 */
export class Emitter {
  /** @type {Map<string, Set<Function>>} */
  #handlers = new Map();

  /**
   * @param {string} type
   * @param {Function} handler
   * @returns {() => void} a function that removes the handler
   */
  on(type, handler) {
    if (!this.#handlers.has(type)) this.#handlers.set(type, new Set());
    this.#handlers.get(type).add(handler);
    return () => this.off(type, handler);
  }

  /**
   * @param {string} type
   * @param {Function} handler
   * @returns {() => void} a function that removes the handler
   */
  once(type, handler) {
    const off = this.on(type, (...args) => {
      off();
      handler(...args);
    });
    return off;
  }

  /**
   * @param {string} type
   * @param {Function} handler
   */
  off(type, handler) {
    this.#handlers.get(type)?.delete(handler);
  }

  /**
   * Calls the handlers of `type`. Meant for the emitter itself.
   * @param {string} type
   * @param {...unknown} args
   */
  emit(type, ...args) {
    for (const handler of [...(this.#handlers.get(type) ?? [])]) {
      try {
        handler(...args);
      } catch (err) {
        report(err);
      }
    }
  }
}

/** Reports an error nobody awaits (a throwing handler) without stopping the caller. */
function report(err) {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(err);
  else setTimeout(() => { throw err; });
}

/**
 * @typedef {object} SbcClientOptions
 * @property {string} [url] WebSocket URL; default `/ws` on the page's own
 *   origin (`wss:` on an https page, `ws:` on an http one)
 * @property {string | (() => string | Promise<string>)} [token] access token
 *   sent in `hello`; a function is asked again before every (re)connection
 * @property {boolean} [reconnect=true] reconnect (and resume) after a drop
 * @property {number} [reconnectMinMs=500] first reconnection delay
 * @property {number} [reconnectMaxMs=15000] longest reconnection delay
 * @property {number} [pingIntervalMs=20000] keepalive period; 0 disables pings
 * @property {number} [requestTimeoutMs=15000] how long a request waits for
 *   its answer (a `call` request waits for as long as the call lives); an
 *   unanswered ping drops the connection
 * @property {number} [iceGatheringTimeoutMs=2000] how long to wait for ICE
 *   gathering before sending an SDP; 0 sends at once and trickles everything
 * @property {MediaTrackConstraints} [audio] microphone constraints; default
 *   echo cancellation, noise suppression and automatic gain control all on
 * @property {RTCConfiguration} [rtcConfig] extra RTCPeerConnection settings
 *   (e.g. `iceTransportPolicy`); `iceServers` defaults to the gateway's
 */

/**
 * What `hello` is answered with.
 * @typedef {object} HelloResult
 * @property {string} session
 * @property {string} resume_token
 * @property {number} version
 * @property {RTCIceServer[]} ice_servers
 * @property {Array<{call: string}>} [calls] calls kept by a resumed session
 */

/**
 * @typedef {object} Registration
 * @property {'unregistered'|'registered'|'failed'} state
 * @property {number} [sip_status]
 * @property {string} [reason]
 */

/**
 * @typedef {object} CallOptions
 * @property {Record<string, string>} [headers] extra SIP headers for the INVITE
 * @property {MediaTrackConstraints} [audio] microphone constraints for this call
 * @property {MediaStream} [stream] send this stream instead of opening the
 *   microphone (the caller keeps ownership: its tracks are not stopped)
 */

const DEFAULTS = {
  reconnect: true,
  reconnectMinMs: 500,
  reconnectMaxMs: 15000,
  pingIntervalMs: 20000,
  requestTimeoutMs: 15000,
  iceGatheringTimeoutMs: 2000,
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  rtcConfig: {},
};

/** Module-private entry points of Call, used by SbcClient only. */
const PLACE = Symbol('place');
const HANDLE = Symbol('handle');
const END = Symbol('end');

/** The errors that are the gateway's own answers (not raised here). */
const FROM_GATEWAY = new WeakSet();

/**
 * One signaling session with the gateway.
 *
 * Events:
 * - `state` (state: ConnectionState, previous: ConnectionState)
 * - `connected` (hello: HelloResult, info: {resumed: boolean})
 * - `registration` (registration: Registration)
 * - `call` (call: Call): a call was created, placed by us or incoming
 * - `incoming` (call: Call): an incoming call, in state `ringing`
 * - `error` (error: SbcError): an error that answers no request (e.g. a
 *   refused `hello`)
 * - `message` (message: object): every frame received, before it is handled
 */
export class SbcClient extends Emitter {
  /** @type {Required<SbcClientOptions>} */
  #options;
  /** @type {WebSocket|null} */
  #ws = null;
  /** @type {ConnectionState} */
  #state = 'disconnected';
  #wanted = false;
  #attempts = 0;
  #reconnectTimer = 0;
  #pingTimer = 0;
  #pinging = false;
  #nextId = 1;
  /** @type {Map<number, {resolve: Function, reject: Function, timer: number}>} */
  #pending = new Map();
  /** @type {Array<{resolve: Function, reject: Function}>} */
  #waiters = [];
  /** @type {HelloResult|null} */
  #hello = null;
  /** @type {string|null} */
  #resumeToken = null;
  /** @type {Registration} */
  #registration = { state: 'unregistered' };
  /** @type {object|null} the last successful register request, for re-registering */
  #registerParams = null;
  #callSeq = 0;
  /** @type {Map<string, Call>} */
  #calls = new Map();
  /** What a Call may use of its client. */
  #link;

  /** @param {SbcClientOptions} [options] */
  constructor(options = {}) {
    super();
    this.#options = { ...DEFAULTS, url: defaultUrl(), token: undefined, ...defined(options) };
    this.#link = {
      options: this.#options,
      iceServers: () => this.#hello?.ice_servers ?? [],
      request: (type, fields, timeoutMs) => this.request(type, fields, { timeoutMs }),
      send: (frame) => this.#send(frame),
      release: (call) => this.#calls.delete(call.id),
    };
  }

  /** @returns {string} the gateway's WebSocket URL */
  get url() {
    return this.#options.url;
  }

  /** @returns {ConnectionState} */
  get state() {
    return this.#state;
  }

  /** @returns {string|null} the session name the gateway gave, while connected */
  get session() {
    return this.#state === 'connected' ? this.#hello.session : null;
  }

  /** @returns {RTCIceServer[]} the ICE servers of the current session */
  get iceServers() {
    return this.#link.iceServers();
  }

  /** @returns {Registration} */
  get registration() {
    return { ...this.#registration };
  }

  /** @returns {Call[]} the calls that have not ended */
  get calls() {
    return [...this.#calls.values()];
  }

  /**
   * Opens the session. Resolves once `hello` is answered with `ok`, retrying
   * with backoff until then; rejects if the gateway refuses the token
   * (`unauthorized`) or `disconnect()` is called first.
   * @returns {Promise<HelloResult>}
   */
  connect() {
    if (this.#state === 'connected') return Promise.resolve(this.#hello);
    const connected = new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (!this.#wanted) {
      this.#wanted = true;
      this.#open();
    }
    return connected;
  }

  /**
   * Hangs up every call and closes the session for good (no resume).
   */
  disconnect() {
    this.#wanted = false;
    clearTimeout(this.#reconnectTimer);
    for (const call of [...this.#calls.values()]) call.hangup();
    this.#hello = null;
    this.#resumeToken = null;
    this.#settleWaiters(new SbcError('disconnected', 'disconnect() was called'));
    if (this.#ws) this.#drop(this.#ws);
    else this.#setState('disconnected');
  }

  /**
   * Sends a request and resolves with the gateway's `ok` message. Every
   * method below goes through here; it is public for message types this
   * module does not know yet.
   * @param {string} type
   * @param {object} [fields] the request's other fields (undefined ones are left out)
   * @param {{timeoutMs?: number}} [options] 0 waits as long as the session lives
   * @returns {Promise<object>}
   */
  request(type, fields = {}, { timeoutMs = this.#options.requestTimeoutMs } = {}) {
    if (this.#state !== 'connected') {
      return Promise.reject(new SbcError('not_connected', `not connected to the gateway (${this.#state})`));
    }
    return this.#exchange(type, fields, timeoutMs);
  }

  /**
   * Measures a round trip to the gateway.
   * @returns {Promise<number>} milliseconds
   */
  async ping() {
    const start = performance.now();
    await this.request('ping');
    return performance.now() - start;
  }

  /**
   * Registers a user at the PBX through the gateway. Resolves once the PBX
   * accepted; rejects with `registration_failed` (and `sip_status`) if not.
   * After a reconnection that could not resume the session, the client
   * registers again with the same parameters (the password stays in memory).
   * @param {{user: string, password?: string, domain?: string, expires?: number}} params
   * @returns {Promise<void>}
   */
  async register({ user, password, domain, expires }) {
    const params = { user, password, domain, expires };
    try {
      await this.request('register', params);
    } catch (err) {
      this.#registerParams = null;
      if (err.code === 'registration_failed') {
        this.#setRegistration(defined({ state: 'failed', sip_status: err.sip_status, reason: err.message }));
      }
      throw err;
    }
    this.#registerParams = params;
    this.#setRegistration({ state: 'registered' });
  }

  /** @returns {Promise<void>} */
  async unregister() {
    this.#registerParams = null;
    await this.request('unregister');
    this.#setRegistration({ state: 'unregistered' });
  }

  /**
   * Places a call: opens the microphone, creates the RTCPeerConnection with
   * the session's ICE servers, gathers candidates and sends the offer. The
   * Call is announced with the `call` event as soon as it exists (so it can
   * be hung up while it is being set up); the promise resolves with it once
   * the gateway accepted the request, and rejects with the gateway's error
   * (e.g. `no_route`), the call then being `ended`.
   * @param {string} to a number, a user or a SIP URI
   * @param {CallOptions} [options]
   * @returns {Promise<Call>}
   */
  async call(to, options = {}) {
    if (this.#state !== 'connected') {
      throw new SbcError('not_connected', `not connected to the gateway (${this.#state})`);
    }
    let name;
    do name = `c${++this.#callSeq}`;
    while (this.#calls.has(name));
    const call = new Call(this.#link, { id: name, direction: 'outgoing', remote: to });
    this.#calls.set(name, call);
    this.emit('call', call);
    await call[PLACE](to, options);
    return call;
  }

  // --- the socket ------------------------------------------------------------

  #open() {
    this.#setState(this.#hello || this.#attempts > 0 ? 'reconnecting' : 'connecting');
    let ws;
    try {
      ws = new WebSocket(this.#options.url);
    } catch (err) {
      // A malformed URL: retrying cannot help.
      this.#fail(new SbcError('bad_request', `cannot open ${this.#options.url}: ${err.message}`, { cause: err }));
      return;
    }
    this.#ws = ws;
    ws.onopen = () => ws === this.#ws && this.#sayHello(ws);
    ws.onmessage = (event) => ws === this.#ws && this.#receive(event.data);
    ws.onclose = () => ws === this.#ws && this.#drop(ws);
  }

  async #sayHello(ws) {
    const resume = this.#resumeToken ?? undefined;
    let token;
    try {
      token = typeof this.#options.token === 'function' ? await this.#options.token() : this.#options.token;
    } catch (err) {
      this.#fail(new SbcError('unauthorized', `no token: ${err.message}`, { cause: err }));
      return;
    }
    if (ws !== this.#ws) return;
    let hello;
    try {
      hello = await this.#exchange('hello', { token, resume }, this.#options.requestTimeoutMs);
    } catch (err) {
      if (ws !== this.#ws) return;
      if (resume !== undefined) {
        // Perhaps only the resume token was refused: retry with a new session.
        this.#resumeToken = null;
      } else if (err.code === 'unauthorized') {
        this.#fail(err);
        return;
      }
      this.emit('error', err);
      this.#drop(ws);
      return;
    }
    if (ws !== this.#ws) return;
    this.#established(hello, resume);
  }

  /**
   * @param {HelloResult} hello
   * @param {string|undefined} resume the token this hello tried to resume with
   */
  #established(hello, resume) {
    const previous = this.#hello;
    const kept = new Set((Array.isArray(hello.calls) ? hello.calls : []).map((c) => (typeof c === 'string' ? c : c?.call)));
    const resumed = resume !== undefined && (Array.isArray(hello.calls) || hello.session === previous?.session);
    this.#hello = hello;
    this.#resumeToken = hello.resume_token ?? null;
    this.#attempts = 0;
    this.#setState('connected');
    this.#startPings();

    for (const call of [...this.#calls.values()]) {
      if (!resumed || !kept.has(call.id)) {
        call[END]({ by: 'gateway', code: 'disconnected', reason: 'the call was lost with the connection' });
      }
    }
    // Calls the gateway kept but this page has given up on are hung up.
    for (const name of kept) {
      if (name && !this.#calls.has(name)) this.request('hangup', { call: name }).catch(() => {});
    }
    if (!resumed && this.#registration.state !== 'unregistered') {
      this.#setRegistration({ state: 'unregistered', reason: 'new session' });
      if (this.#registerParams) this.register(this.#registerParams).catch(() => {});
    }
    this.#settleWaiters(null, hello);
    this.emit('connected', hello, { resumed });
  }

  /**
   * Forgets `ws` at once (its late events are ignored), closes it, fails the
   * requests waiting on it and schedules a reconnection if one is wanted.
   * @param {WebSocket} ws
   */
  #drop(ws) {
    if (ws !== this.#ws) return;
    this.#ws = null;
    clearInterval(this.#pingTimer);
    this.#pinging = false;
    ws.onopen = ws.onmessage = ws.onclose = null;
    if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) ws.close(1000);
    const gone = new SbcError('disconnected', 'the connection to the gateway dropped');
    for (const { reject, timer } of this.#pending.values()) {
      clearTimeout(timer);
      reject(gone);
    }
    this.#pending.clear();
    if (!this.#wanted || !this.#options.reconnect) {
      this.#wanted = false;
      this.#settleWaiters(gone);
      this.#setState('disconnected');
      return;
    }
    const ceiling = Math.min(this.#options.reconnectMaxMs, this.#options.reconnectMinMs * 2 ** this.#attempts);
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2;
    this.#attempts++;
    this.#setState('reconnecting');
    this.#reconnectTimer = setTimeout(() => this.#open(), delay);
  }

  /** Gives up for good: no reconnection. */
  #fail(err) {
    this.#wanted = false;
    this.#hello = null;
    this.#resumeToken = null;
    this.emit('error', err);
    this.#settleWaiters(err);
    if (this.#ws) this.#drop(this.#ws);
    else this.#setState('disconnected');
    for (const call of [...this.#calls.values()]) call[END]({ by: 'gateway', code: err.code, reason: err.message });
  }

  #settleWaiters(err, hello) {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const { resolve, reject } of waiters) err ? reject(err) : resolve(hello);
  }

  #setState(state) {
    if (state === this.#state) return;
    const previous = this.#state;
    this.#state = state;
    this.emit('state', state, previous);
  }

  #setRegistration(registration) {
    const now = this.#registration;
    if (now.state === registration.state && now.sip_status === registration.sip_status) return;
    this.#registration = registration;
    this.emit('registration', { ...registration });
  }

  #startPings() {
    clearInterval(this.#pingTimer);
    if (!(this.#options.pingIntervalMs > 0)) return;
    this.#pingTimer = setInterval(() => {
      if (this.#pinging || !this.#ws) return;
      const ws = this.#ws;
      this.#pinging = true;
      this.request('ping')
        .catch((err) => err.code === 'timeout' && this.#drop(ws))
        .finally(() => (this.#pinging = false));
    }, this.#options.pingIntervalMs);
  }

  // --- frames ----------------------------------------------------------------

  /** Sends a frame if the socket is open; returns whether it was sent. */
  #send(frame) {
    if (!this.#ws || this.#ws.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(frame));
    return true;
  }

  #exchange(type, fields, timeoutMs) {
    const id = this.#nextId++;
    // `type` and `id` lead the frame (easier to read in logs) and cannot be overridden.
    const frame = Object.assign({ type, id }, defined(fields), { type, id });
    return new Promise((resolve, reject) => {
      if (!this.#send(frame)) {
        reject(new SbcError('not_connected', 'the connection to the gateway is not open'));
        return;
      }
      const timer = timeoutMs > 0
        ? setTimeout(() => {
          this.#pending.delete(id);
          reject(new SbcError('timeout', `no answer to ${type} within ${timeoutMs} ms`));
        }, timeoutMs)
        : 0;
      this.#pending.set(id, { resolve, reject, timer });
    });
  }

  #receive(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      this.emit('error', new SbcError('bad_request', 'the gateway sent a frame that is not JSON'));
      return;
    }
    if (msg === null || typeof msg !== 'object' || typeof msg.type !== 'string') return;
    this.emit('message', msg);
    switch (msg.type) {
      case 'ok':
      case 'error':
        this.#answer(msg);
        break;
      case 'registration':
        this.#setRegistration(defined({ state: msg.state, sip_status: msg.sip_status, reason: msg.reason }));
        break;
      case 'incoming':
        this.#incoming(msg);
        break;
      default:
        if (typeof msg.call === 'string') this.#calls.get(msg.call)?.[HANDLE](msg);
    }
  }

  #answer(msg) {
    const pending = this.#pending.get(msg.id);
    const err = msg.type === 'error'
      ? new SbcError(msg.code ?? 'internal', msg.message, { sip_status: msg.sip_status })
      : null;
    if (err) FROM_GATEWAY.add(err);
    if (!pending) {
      if (err) this.emit('error', err);
      return;
    }
    this.#pending.delete(msg.id);
    clearTimeout(pending.timer);
    if (err) pending.reject(err);
    else pending.resolve(msg);
  }

  #incoming(msg) {
    if (typeof msg.call !== 'string' || this.#calls.has(msg.call)) return;
    const call = new Call(this.#link, {
      id: msg.call,
      direction: 'incoming',
      remote: msg.from,
      display: msg.display,
      offer: msg.sdp,
    });
    this.#calls.set(call.id, call);
    this.emit('call', call);
    this.emit('incoming', call);
  }
}

function defaultUrl() {
  const location = globalThis.location;
  if (!location?.host) return '';
  return `${location.protocol === 'http:' ? 'ws:' : 'wss:'}//${location.host}/ws`;
}

/**
 * How a call ended.
 * @typedef {object} EndInfo
 * @property {'remote'|'local'|'gateway'} by who ended it
 * @property {number} [sip_status]
 * @property {string} [reason]
 * @property {string} [code] the error code when an error ended it
 */

/**
 * Media quality of the browser leg, from `RTCPeerConnection.getStats()`.
 * Fields are absent until the browser has measured them.
 * @typedef {object} CallStats
 * @property {number} [rttMs] round-trip time to the gateway
 * @property {number} [jitterMs] jitter of the received audio
 * @property {number} [loss] fraction of the received packets lost, 0..1
 * @property {number} [inputLevel] microphone level, 0..1
 * @property {number} [outputLevel] received audio level, 0..1
 * @property {number} [packetsSent]
 * @property {number} [packetsReceived]
 * @property {string} [codec] e.g. `audio/opus`
 */

/**
 * One call, placed or incoming. Created by SbcClient, never directly.
 *
 * Events:
 * - `state` (state: CallState, previous: CallState)
 * - `progress` ({sip_status: number, early: boolean}): the far end rings;
 *   `early` when early media flows
 * - `answered` (): the far end answered (state `in-call`)
 * - `track` (track: MediaStreamTrack): a remote track joined `remoteStream`
 * - `held` ({by: 'local'|'remote'}), `resumed` ({by: 'local'|'remote'})
 * - `dtmf` ({digit: string, duration_ms: number}): a digit from the far end
 * - `quality` (message): the gateway's report of the SIP leg
 *   (`rtt_ms`, `jitter_ms`, `loss`, `mos`)
 * - `ended` (info: EndInfo)
 */
export class Call extends Emitter {
  #link;
  /** @type {CallState} */
  #state;
  /** @type {RTCPeerConnection|null} */
  #pc = null;
  #remoteStream = new MediaStream();
  /** @type {MediaStream|null} */
  #localStream = null;
  #ownsLocalStream = false;
  /** @type {string|undefined} the incoming call's offer */
  #offer;
  #answering = false;
  #remoteApplied = false;
  /** Whether the gateway knows this call (its call or incoming was sent). */
  #known = false;
  /** Whether our SDP has been sent, so new candidates must be trickled. */
  #trickle = false;
  #muted = false;
  #held = { local: false, remote: false };
  /** Serialises the handling of events that touch the RTCPeerConnection. */
  #queue = Promise.resolve();

  /**
   * @param {object} link what the client lends the call
   * @param {{id: string, direction: 'outgoing'|'incoming', remote: string, display?: string, offer?: string}} init
   */
  constructor(link, { id, direction, remote, display, offer }) {
    super();
    this.#link = link;
    /** @type {string} the call's name in the protocol */
    this.id = id;
    /** @type {'outgoing'|'incoming'} */
    this.direction = direction;
    /** @type {string} who we called, or who calls (`from`) */
    this.remote = remote;
    /** @type {string|undefined} the caller's display name */
    this.display = display;
    /** @type {number|null} when the call was answered (ms since the epoch) */
    this.answeredAt = null;
    /** @type {EndInfo|null} */
    this.endInfo = null;
    /** @type {object|null} the gateway's latest `quality` report */
    this.quality = null;
    this.#offer = offer;
    this.#known = direction === 'incoming';
    this.#state = direction === 'incoming' ? CallState.RINGING : CallState.CALLING;
  }

  /** @returns {CallState} */
  get state() {
    return this.#state;
  }

  /** @returns {RTCPeerConnection|null} null until media is being set up */
  get pc() {
    return this.#pc;
  }

  /** @returns {MediaStream} what the far end sends; play it in an <audio> element */
  get remoteStream() {
    return this.#remoteStream;
  }

  /** @returns {MediaStream|null} what this call sends */
  get localStream() {
    return this.#localStream;
  }

  /** @returns {boolean} */
  get muted() {
    return this.#muted;
  }

  /** @returns {{local: boolean, remote: boolean}} who holds the call */
  get held() {
    return { ...this.#held };
  }

  /**
   * Answers an incoming call: opens the microphone, applies the offer, and
   * sends the answer. Resolves once the gateway accepted it (state
   * `in-call`).
   * @param {{audio?: MediaTrackConstraints, stream?: MediaStream}} [options]
   * @returns {Promise<void>}
   */
  async answer({ audio, stream } = {}) {
    if (this.direction !== 'incoming' || this.#state !== CallState.RINGING || this.#answering) {
      throw new SbcError('invalid_state', `cannot answer a call that is ${this.#state}`);
    }
    this.#answering = true;
    try {
      await this.#openMedia(audio, stream, async (pc) => {
        await pc.setRemoteDescription({ type: 'offer', sdp: this.#offer });
        this.#remoteApplied = true;
      });
      await this.#pc.setLocalDescription();
      await this.#gathered();
      await this.#sendSdp('answer', this.#link.options.requestTimeoutMs);
      this.#guard();
      this.#answered();
    } catch (err) {
      // The gateway still rings the caller unless the call is already gone there.
      throw this.#abandon(err, !['no_such_call', 'disconnected', 'not_connected'].includes(err?.code));
    }
  }

  /**
   * Tells the caller that this browser rings (SIP 180).
   * @returns {Promise<void>}
   */
  async ringing() {
    if (this.direction !== 'incoming' || this.#state !== CallState.RINGING) {
      throw new SbcError('invalid_state', `cannot ring in a call that is ${this.#state}`);
    }
    await this.#link.request('ringing', { call: this.id });
  }

  /**
   * Declines an incoming call. The call ends at once; the promise resolves
   * when the gateway has been told (or could not be).
   * @param {number} [code=486] the SIP status to decline with
   * @returns {Promise<void>}
   */
  async reject(code) {
    if (this.direction !== 'incoming' || this.#state !== CallState.RINGING) {
      throw new SbcError('invalid_state', `cannot reject a call that is ${this.#state}`);
    }
    this[END]({ by: 'local', sip_status: code ?? 486 });
    await this.#link.request('reject', { call: this.id, code }).catch(() => {});
  }

  /**
   * Ends the call whatever its state (cancels, declines or hangs up). The
   * call ends at once; the promise resolves when the gateway has been told
   * (or could not be) and never rejects.
   * @returns {Promise<void>}
   */
  async hangup() {
    if (this.#state === CallState.ENDED) return;
    this[END]({ by: 'local' });
    if (this.#known) await this.#link.request('hangup', { call: this.id }).catch(() => {});
  }

  /**
   * Sends DTMF digits toward the far end.
   * @param {string} digits `0`-`9`, `*`, `#`, `A`-`D`
   * @param {{durationMs?: number}} [options]
   * @returns {Promise<void>}
   */
  async dtmf(digits, { durationMs } = {}) {
    await this.#link.request('dtmf', { call: this.id, digits, duration_ms: durationMs });
  }

  /** Puts the far end on hold. @returns {Promise<void>} */
  async hold() {
    await this.#link.request('hold', { call: this.id });
    this.#setHeld('local', true);
  }

  /** Takes the far end off hold. @returns {Promise<void>} */
  async unhold() {
    await this.#link.request('unhold', { call: this.id });
    this.#setHeld('local', false);
  }

  /**
   * Blind transfer of the far end to `to` (SIP REFER).
   * @param {string} to
   * @returns {Promise<void>}
   */
  async transfer(to) {
    await this.#link.request('transfer', { call: this.id, to });
  }

  /**
   * Renegotiates the browser leg with a new offer (after adding tracks, or
   * to restart ICE) and applies the gateway's answer.
   * @param {{iceRestart?: boolean}} [options]
   * @returns {Promise<void>}
   */
  renegotiate({ iceRestart = false } = {}) {
    return this.#serially(async () => {
      const pc = this.#pc;
      if (!pc || this.#state === CallState.ENDED || pc.signalingState !== 'stable') {
        throw new SbcError('invalid_state', 'nothing to renegotiate yet');
      }
      try {
        this.#trickle = false;
        await pc.setLocalDescription(await pc.createOffer({ iceRestart }));
        await this.#gathered();
        const ok = await this.#sendSdp('sdp', this.#link.options.requestTimeoutMs);
        this.#guard();
        await pc.setRemoteDescription({ type: 'answer', sdp: ok.sdp });
      } catch (err) {
        if (pc.signalingState === 'have-local-offer') await pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
        throw wrap(err);
      }
    });
  }

  /**
   * Mutes or unmutes the microphone (the tracks keep running, silent).
   * @param {boolean} muted
   */
  setMuted(muted) {
    this.#muted = Boolean(muted);
    for (const track of this.#localStream?.getAudioTracks() ?? []) track.enabled = !this.#muted;
  }

  /**
   * Switches to another microphone in the middle of the call.
   * @param {string} deviceId from `navigator.mediaDevices.enumerateDevices()`
   * @returns {Promise<void>}
   */
  async setMicrophone(deviceId) {
    const sender = this.#pc?.getSenders().find((s) => s.track?.kind === 'audio');
    if (!sender || this.#state === CallState.ENDED) throw new SbcError('invalid_state', 'the call sends no audio');
    const stream = await openMicrophone({ ...this.#link.options.audio, deviceId: { exact: deviceId } });
    const [track] = stream.getAudioTracks();
    track.enabled = !this.#muted;
    await sender.replaceTrack(track);
    if (this.#ownsLocalStream) this.#localStream.getTracks().forEach((t) => t.stop());
    this.#localStream = stream;
    this.#ownsLocalStream = true;
  }

  /**
   * Media quality of the browser leg right now.
   * @returns {Promise<CallStats>}
   */
  async stats() {
    return this.#pc ? summarizeStats(await this.#pc.getStats()) : {};
  }

  // --- setting up --------------------------------------------------------------

  /** Places the call (SbcClient.call). */
  async [PLACE](to, { headers, audio, stream }) {
    try {
      await this.#openMedia(audio, stream);
      await this.#pc.setLocalDescription();
      await this.#gathered();
      await this.#sendSdp('call', 0, { to, headers });
    } catch (err) {
      // Either the gateway never got the call, or it refused or lost it.
      throw this.#abandon(err, false);
    }
  }

  /**
   * Opens the microphone and the RTCPeerConnection, and adds the audio.
   * @param {MediaTrackConstraints|undefined} audio
   * @param {MediaStream|undefined} stream
   * @param {(pc: RTCPeerConnection) => Promise<void>} [beforeTracks]
   */
  async #openMedia(audio, stream, beforeTracks) {
    const local = stream ?? await openMicrophone(audio ?? this.#link.options.audio);
    if (this.#state === CallState.ENDED && !stream) local.getTracks().forEach((t) => t.stop());
    this.#guard();
    this.#localStream = local;
    this.#ownsLocalStream = !stream;
    this.setMuted(this.#muted);
    const pc = new RTCPeerConnection({
      iceServers: this.#link.iceServers(),
      bundlePolicy: 'max-bundle',
      rtcpMuxPolicy: 'require',
      ...this.#link.options.rtcConfig,
    });
    this.#pc = pc;
    pc.ontrack = ({ track }) => {
      this.#remoteStream.addTrack(track);
      this.emit('track', track);
    };
    pc.onicecandidate = ({ candidate }) => this.#trickleCandidate(candidate);
    if (beforeTracks) await beforeTracks(pc);
    this.#guard();
    for (const track of this.#localStream.getAudioTracks()) pc.addTrack(track, this.#localStream);
  }

  /** Resolves when ICE gathering is complete or its time is up. */
  #gathered() {
    const pc = this.#pc;
    const limit = this.#link.options.iceGatheringTimeoutMs;
    if (pc.iceGatheringState === 'complete' || !(limit > 0)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      };
      const check = () => pc.iceGatheringState === 'complete' && done();
      const timer = setTimeout(done, limit);
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  /**
   * Sends the current local description in a `call`, `answer` or `sdp`
   * request. From the moment it is sent, new candidates are trickled.
   */
  #sendSdp(type, timeoutMs, fields = {}) {
    this.#guard();
    const answer = this.#link.request(type, { call: this.id, ...fields, sdp: this.#pc.localDescription.sdp }, timeoutMs);
    this.#known = true;
    this.#trickle = true;
    return answer;
  }

  #trickleCandidate(candidate) {
    if (!this.#trickle || this.#state === CallState.ENDED) return;
    if (candidate && !candidate.candidate) return; // an end-of-generation marker; null follows
    this.#link.send({
      type: 'candidate',
      call: this.id,
      candidate: candidate
        ? { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex }
        : null,
    });
  }

  /** Throws `cancelled` if the call ended while an await was pending. */
  #guard() {
    if (this.#state === CallState.ENDED) throw new SbcError('cancelled', 'the call ended while it was being set up');
  }

  /**
   * A step of setting up the call failed: ends the call, telling the gateway
   * when it still has the call, and returns the error to throw.
   * @param {unknown} err
   * @param {boolean} tellGateway
   * @returns {SbcError}
   */
  #abandon(err, tellGateway) {
    if (this.#state === CallState.ENDED) {
      // Ended meanwhile (hung up, or by the gateway): the set-up was cancelled.
      return err instanceof SbcError ? err : new SbcError('cancelled', 'the call ended while it was being set up');
    }
    const error = wrap(err);
    if (tellGateway) this.#link.request('hangup', { call: this.id }).catch(() => {});
    const byGateway = FROM_GATEWAY.has(error) || error.code === 'disconnected';
    this[END]({ by: byGateway ? 'gateway' : 'local', code: error.code, sip_status: error.sip_status, reason: error.message });
    return error;
  }

  // --- events from the gateway -------------------------------------------------

  /** Handles an event about this call (SbcClient). */
  [HANDLE](msg) {
    if (msg.type === 'ended') {
      this[END]({ by: msg.by, sip_status: msg.sip_status, reason: msg.reason });
      return;
    }
    this.#serially(() => this.#event(msg)).catch(report);
  }

  async #event(msg) {
    if (this.#state === CallState.ENDED) return;
    switch (msg.type) {
      case 'progress':
        if (msg.sdp) await this.#applyAnswer(msg.sdp);
        if (this.#state === CallState.ENDED) return;
        if (this.#state === CallState.CALLING) this.#setState(CallState.RINGING);
        this.emit('progress', { sip_status: msg.sip_status, early: Boolean(msg.sdp) });
        break;
      case 'answered':
        if (msg.sdp) await this.#applyAnswer(msg.sdp);
        if (this.#state === CallState.ENDED) return;
        if (!this.#remoteApplied) {
          this.#abandon(new SbcError('bad_sdp', 'answered without an SDP answer'), true);
          return;
        }
        this.#answered();
        break;
      case 'held':
      case 'resumed':
        this.#setHeld(msg.by === 'remote' ? 'remote' : 'local', msg.type === 'held');
        break;
      case 'dtmf':
        this.emit('dtmf', { digit: msg.digit, duration_ms: msg.duration_ms });
        break;
      case 'quality':
        this.quality = msg;
        this.emit('quality', msg);
        break;
    }
  }

  /** Applies the gateway's SDP answer once; a failure ends the call. */
  async #applyAnswer(sdp) {
    if (this.#remoteApplied || !this.#pc) return;
    try {
      await this.#pc.setRemoteDescription({ type: 'answer', sdp });
      this.#remoteApplied = true;
    } catch (err) {
      this.#abandon(err, true);
    }
  }

  #answered() {
    if (this.#state === CallState.ENDED || this.#state === CallState.IN_CALL) return;
    this.answeredAt = Date.now();
    this.#setState(CallState.IN_CALL);
    this.emit('answered');
  }

  #setHeld(by, held) {
    if (this.#held[by] === held || this.#state === CallState.ENDED) return;
    this.#held[by] = held;
    this.emit(held ? 'held' : 'resumed', { by });
  }

  #setState(state) {
    const previous = this.#state;
    this.#state = state;
    this.emit('state', state, previous);
  }

  #serially(task) {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => {});
    return run;
  }

  /**
   * Ends the call locally: closes the RTCPeerConnection, stops the
   * microphone it opened, and emits `ended` (once).
   * @param {EndInfo} info
   */
  [END](info) {
    if (this.#state === CallState.ENDED) return;
    this.endInfo = defined(info);
    this.#pc?.close();
    if (this.#ownsLocalStream) this.#localStream?.getTracks().forEach((t) => t.stop());
    this.#remoteStream.getTracks().forEach((t) => t.stop());
    this.#link.release(this);
    this.#setState(CallState.ENDED);
    this.emit('ended', this.endInfo);
  }
}

/**
 * @param {MediaTrackConstraints} audio
 * @returns {Promise<MediaStream>}
 */
async function openMicrophone(audio) {
  try {
    return await navigator.mediaDevices.getUserMedia({ audio, video: false });
  } catch (err) {
    throw new SbcError('media', `cannot open the microphone: ${err.message || err.name}`, { cause: err });
  }
}

/**
 * @template {object} T
 * @param {T} fields
 * @returns {Partial<T>} the fields whose value is not undefined
 */
function defined(fields) {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

/** @returns {SbcError} */
function wrap(err) {
  if (err instanceof SbcError) return err;
  return new SbcError('webrtc', err?.message ?? String(err), { cause: err });
}

/**
 * Reduces a `getStats()` report to the figures a softphone shows.
 * @param {RTCStatsReport} report
 * @returns {CallStats}
 */
export function summarizeStats(report) {
  /** @type {CallStats} */
  const out = {};
  let remoteRtt;
  for (const s of report.values()) {
    if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && s.currentRoundTripTime !== undefined) {
      out.rttMs = s.currentRoundTripTime * 1000;
    } else if (s.type === 'remote-inbound-rtp' && s.kind === 'audio' && s.roundTripTime !== undefined) {
      remoteRtt = s.roundTripTime * 1000;
    } else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      if (s.jitter !== undefined) out.jitterMs = s.jitter * 1000;
      out.packetsReceived = s.packetsReceived;
      const expected = (s.packetsReceived ?? 0) + (s.packetsLost ?? 0);
      if (expected > 0) out.loss = Math.max(0, s.packetsLost ?? 0) / expected;
      if (s.audioLevel !== undefined) out.outputLevel = s.audioLevel;
      const codec = s.codecId && report.get(s.codecId);
      if (codec) out.codec = codec.mimeType;
    } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
      out.packetsSent = s.packetsSent;
    } else if (s.type === 'media-source' && s.kind === 'audio' && s.audioLevel !== undefined) {
      out.inputLevel = s.audioLevel;
    }
  }
  if (out.rttMs === undefined && remoteRtt !== undefined) out.rttMs = remoteRtt;
  return out;
}
