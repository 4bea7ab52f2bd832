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
// This file is the module pages import; it holds SbcClient and re-exports
// the rest: Call and summarizeStats from sbc-call.js, CallState, SbcError
// and Emitter from sbc-common.js (served beside it, same origin rules).
//
// ICE: the gateway is ICE-lite and puts all of its candidates in its SDP. The
// client waits for its own ICE gathering to complete (at most
// `iceGatheringTimeoutMs`) before it sends an offer or answer, so the SDP
// normally carries every browser candidate; candidates found after that are
// trickled with `candidate` messages, ending with `candidate: null`.

import { Call } from './sbc-call.js';
import { Emitter, END, FROM_GATEWAY, HANDLE, PLACE, SbcError, defined } from './sbc-common.js';

export { Call, summarizeStats } from './sbc-call.js';
export { CallState, Emitter, SbcError } from './sbc-common.js';

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

/** Error codes that say the connection failed, not the gateway refused. */
const LOST_WITH_THE_CONNECTION = new Set(['not_connected', 'disconnected', 'timeout']);

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
      // A lost connection is no refusal: the next session registers again.
      if (!LOST_WITH_THE_CONNECTION.has(err.code)) this.#registerParams = null;
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
