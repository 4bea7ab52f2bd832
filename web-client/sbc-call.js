// sbc-call.js: one call of an SbcClient (sbc-client.js): its
// RTCPeerConnection, the microphone it sends, the protocol requests of a
// call (answer, ringing, reject, hangup, dtmf, hold, transfer, renegotiate)
// and the events the gateway sends about it. Pages import Call and
// summarizeStats through sbc-client.js.

import { CallState, Emitter, END, FROM_GATEWAY, HANDLE, PLACE, SbcError, defined, report, wrap } from './sbc-common.js';

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
    // An empty id is the default microphone: no constraint at all (an
    // exact '' matches no device).
    const audio = deviceId ? { ...this.#link.options.audio, deviceId: { exact: deviceId } } : this.#link.options.audio;
    const stream = await openMicrophone(audio);
    const [track] = stream.getAudioTracks();
    track.enabled = !this.#muted;
    try {
      if (this.#state === CallState.ENDED) throw new SbcError('invalid_state', 'the call ended while the microphone opened');
      await sender.replaceTrack(track);
    } catch (err) {
      stream.getTracks().forEach((t) => t.stop());
      throw wrap(err);
    }
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
