// sbc-common.js: what sbc-client.js and sbc-call.js share: call states,
// the error type, the event emitter, and small helpers. Pages import these
// through sbc-client.js, which re-exports the public ones (CallState,
// SbcError, Emitter); the symbols and helpers here are internal.

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
export function report(err) {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(err);
  else setTimeout(() => { throw err; });
}

/** Entry points of Call used by SbcClient only: not part of the API. */
export const PLACE = Symbol('place');
export const HANDLE = Symbol('handle');
export const END = Symbol('end');

/** The errors that are the gateway's own answers (not raised here). */
export const FROM_GATEWAY = new WeakSet();

/**
 * @template {object} T
 * @param {T} fields
 * @returns {Partial<T>} the fields whose value is not undefined
 */
export function defined(fields) {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

/** @returns {SbcError} */
export function wrap(err) {
  if (err instanceof SbcError) return err;
  return new SbcError('webrtc', err?.message ?? String(err), { cause: err });
}
