// One browser call through the gateway's protocol v1 (`/ws`), with audio
// proven by tone. Headless Chromium opens `--url` (any page of the gateway,
// so the origin is the gateway's own), captures its fake microphone playing
// a `--tone` Hz sine, says `hello`, places a `call` to `--to` with its offer,
// applies the SDP of `progress`/`answered`, plays what comes back and
// measures its dominant frequency (expected: `--expect` Hz, or none with
// `--expect none`). Then it hangs up (`--hangup local`, the default) or
// waits for the far end to (`--hangup remote`), or for the gateway to
// (`--hangup gateway`: a timer, the operator, a drain). Prints one JSON line: every
// frame received (types), the set-up time from sending `call` to `answered`,
// the measured frequency and the `ended` event; exits non-zero when the call
// did not go as expected. `--hangup early` hangs up at the first `progress`
// (a CANCEL toward the PBX); `--early-seconds N` measures the early media of
// a `progress` with SDP for N seconds before the answer; `--expect-frames
// held,resumed` requires those event types, in that order.
//
//   node ws_call.mjs --url https://127.0.0.1:8443/healthz --to 600 --tone 440 [--expect 440]
//        [--seconds 3] [--hangup local|remote|gateway|early|drop] [--expect-end 486] [--dtmf 12#]
//        [--early-seconds 1.5] [--expect-frames held,resumed] [--hold]
// `--hold` holds and resumes the answered call (`hold`, `unhold`) before
// measuring; `--transfer 602` transfers it after measuring and waits for
// the `transfer` event with the final status; `--expect-quality` requires
// the gateway's periodic `quality` events to show a clean call;
// `--ice-restart` renegotiates with an ICE restart (`sdp`) and measures the
// tone again afterwards; `--forbid a,b` fails the run when any frame the
// browser received contains one of those strings (topology hiding).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launch } from './lib/chromium.mjs';
import { writeToneWav } from './lib/tone.mjs';
import { dominantFrequency } from './lib/analyse.mjs';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    to: { type: 'string', default: '600' },
    tone: { type: 'string', default: '440' },
    expect: { type: 'string' },
    seconds: { type: 'string', default: '3' },
    hangup: { type: 'string', default: 'local' },
    'expect-end': { type: 'string' },
    dtmf: { type: 'string' },
    'early-seconds': { type: 'string' },
    'expect-frames': { type: 'string' },
    hold: { type: 'boolean', default: false },
    transfer: { type: 'string' },
    'expect-quality': { type: 'boolean', default: false },
    'ice-restart': { type: 'boolean', default: false },
    forbid: { type: 'string' },
  },
});
if (!values.url) throw new Error('--url is required');
const tone = Number(values.tone);
const expected = values.expect === 'none' ? null : Number(values.expect ?? values.tone);
const expectEnd = values['expect-end'] ? Number(values['expect-end']) : null;
const wav = join(mkdtempSync(join(tmpdir(), 'sbc-tone-')), 'tone.wav');
writeToneWav(wav, tone, { seconds: Number(values.seconds) + 20 });

const browser = await launch({ micWav: wav });
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await page.goto(values.url);
  const result = await page.evaluate(
    async ({ analyse, millis, to, hangup, expectEnd, dtmf, earlyMillis, hold, transfer, iceRestart }) => {
      const dominant = new Function(`return (${analyse})`)();
      const frames = [];
      const waiters = [];
      const ws = new WebSocket(`wss://${location.host}/ws`);
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new Error('websocket failed'));
      });
      ws.onmessage = (e) => {
        const frame = JSON.parse(e.data);
        frames.push(frame);
        for (const w of [...waiters]) {
          if (w.match(frame)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(frame);
          }
        }
      };
      const next = (match, ms = 15000) =>
        new Promise((resolve, reject) => {
          const found = frames.find(match);
          if (found) return resolve(found);
          const w = { match, resolve };
          waiters.push(w);
          setTimeout(() => reject(new Error(`timeout; frames: ${JSON.stringify(frames.map((f) => f.type))}`)), ms);
        });
      let nextId = 1;
      const request = async (frame) => {
        const id = nextId++;
        ws.send(JSON.stringify({ ...frame, id }));
        const answer = await next((f) => f.id === id);
        if (answer.type === 'error') throw new Error(`${frame.type}: ${answer.code} ${answer.message}`);
        return answer;
      };
      const hello = await request({ type: 'hello' });

      const mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
      const pc = new RTCPeerConnection({ iceServers: hello.ice_servers, bundlePolicy: 'max-bundle' });
      mic.getTracks().forEach((t) => pc.addTrack(t, mic));
      const received = new Promise((resolve) => (pc.ontrack = (e) => resolve(e.streams[0] ?? new MediaStream([e.track]))));
      await pc.setLocalDescription();
      if (pc.iceGatheringState !== 'complete') {
        await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()));
      }
      const t0 = performance.now();
      await request({ type: 'call', call: 'c1', to, sdp: pc.localDescription.sdp, headers: { 'X-Test': 'ws_call', Subject: 'not on the allow-list' } });
      const connected = () =>
        new Promise((resolve, reject) => {
          const check = () => {
            if (pc.connectionState === 'connected') resolve();
            if (pc.connectionState === 'failed') reject(new Error('connection failed'));
          };
          pc.onconnectionstatechange = check;
          check();
        });
      if (hangup === 'early') {
        await next((f) => f.call === 'c1' && f.type === 'progress');
        await request({ type: 'hangup', call: 'c1' });
        const ended = await next((f) => f.type === 'ended' && f.call === 'c1');
        await request({ type: 'ping' });
        pc.close();
        return { hello, frames, ended };
      }
      const outcome = await next((f) => f.call === 'c1' && (f.type === 'answered' || f.type === 'ended' || (f.type === 'progress' && f.sdp)));
      let remoteSet = false;
      const applyAnswer = async (f) => {
        if (f.sdp && !remoteSet) {
          remoteSet = true;
          await pc.setRemoteDescription({ type: 'answer', sdp: f.sdp });
        }
      };
      if (outcome.type === 'ended') {
        pc.close();
        return { hello, frames, ended: outcome };
      }
      await applyAnswer(outcome);
      let early;
      if (outcome.type === 'progress' && earlyMillis) {
        await connected();
        const stream = await received;
        const audio = new Audio();
        audio.srcObject = stream;
        await audio.play().catch(() => {});
        await new Promise((r) => setTimeout(r, 300));
        early = await dominant(stream, earlyMillis);
        if (frames.some((f) => f.type === 'answered')) throw new Error('answered before the early media was measured');
      }
      const answered = await next((f) => f.call === 'c1' && (f.type === 'answered' || f.type === 'ended'));
      const setupMs = performance.now() - t0;
      if (answered.type === 'ended') {
        pc.close();
        return { hello, frames, ended: answered };
      }
      await applyAnswer(answered);
      await connected();
      const stream = await received;
      const audio = new Audio();
      audio.srcObject = stream;
      await audio.play().catch(() => {});
      if (dtmf) await request({ type: 'dtmf', call: 'c1', digits: dtmf, duration_ms: 120 });
      if (hold) {
        await request({ type: 'hold', call: 'c1' });
        await next((f) => f.type === 'held' && f.call === 'c1');
        await request({ type: 'unhold', call: 'c1' });
        await next((f) => f.type === 'resumed' && f.call === 'c1');
      }
      await new Promise((r) => setTimeout(r, 500));
      const measured = await dominant(stream, millis);
      const stats = [...(await pc.getStats()).values()];
      const inbound = stats.find((s) => s.type === 'inbound-rtp');
      const transport = stats.find((s) => s.type === 'transport');
      let restart;
      if (iceRestart) {
        // Renegotiate with an ICE restart (`sdp`): new credentials on both
        // sides, and the media must come back.
        const ufrag = (sdp) => /a=ice-ufrag:(\S+)/.exec(sdp)?.[1];
        const before = ufrag(pc.remoteDescription.sdp);
        pc.restartIce();
        await pc.setLocalDescription();
        if (pc.iceGatheringState !== 'complete') {
          await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()));
        }
        const answer = await request({ type: 'sdp', call: 'c1', sdp: pc.localDescription.sdp });
        await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
        await new Promise((r) => setTimeout(r, 1000));
        const again = await dominant(stream, 1500);
        restart = { gatewayUfragChanged: before !== ufrag(answer.sdp), frequency: again.frequency, state: pc.iceConnectionState };
      }
      if (transfer) {
        await request({ type: 'transfer', call: 'c1', to: transfer });
        await next((f) => f.type === 'transfer' && f.call === 'c1' && f.sip_status >= 200);
      }
      let ended;
      if (hangup === 'drop') {
        // Leave without hanging up: the gateway ends the call after the
        // session's grace period.
        ws.close();
        pc.close();
        return { hello, frames, setupMs, ...measured, packetsReceived: inbound ? inbound.packetsReceived : 0 };
      }
      if (hangup === 'local') {
        await request({ type: 'hangup', call: 'c1' });
        ended = await next((f) => f.type === 'ended' && f.call === 'c1');
      } else {
        if (hangup === 'remote') {
          // Says "heard": a test that drives the far end hangs up on it
          // (it counts the gateway's `ping` frames).
          await request({ type: 'ping' });
        }
        ended = await next((f) => f.type === 'ended' && f.call === 'c1', 30000);
      }
      // The socket and the session outlive the call.
      await request({ type: 'ping' });
      pc.close();
      return {
        hello,
        frames,
        setupMs,
        ...measured,
        packetsReceived: inbound ? inbound.packetsReceived : 0,
        srtpCipher: transport ? transport.srtpCipher : undefined,
        quality: frames.filter((f) => f.type === 'quality'),
        allFrames: JSON.stringify(frames),
        restart,
        earlyFrequency: early?.frequency,
        ended,
      };
    },
    {
      analyse: dominantFrequency.toString(),
      millis: Number(values.seconds) * 1000,
      to: values.to,
      hangup: values.hangup,
      expectEnd,
      dtmf: values.dtmf,
      earlyMillis: values['early-seconds'] ? Number(values['early-seconds']) * 1000 : 0,
      hold: values.hold,
      transfer: values.transfer,
      iceRestart: values['ice-restart'],
    },
  );
  const types = result.frames.map((f) => f.type + (f.sip_status ? `:${f.sip_status}` : ''));
  const binWidth = 48000 / 8192;
  let ok;
  if (expectEnd !== null) {
    ok = result.ended?.type === 'ended' && result.ended.sip_status === expectEnd;
  } else if (values.hangup === 'drop') {
    ok = Math.abs(result.frequency - expected) <= 2 * (48000 / 8192) && result.packetsReceived > 0;
  } else if (values.hangup === 'early') {
    ok = result.ended?.by === 'local' && !result.frames.some((f) => f.type === 'answered');
  } else {
    // With `--expect none` no audio is asked for, so none need flow.
    const heard = expected === null || (Math.abs(result.frequency - expected) <= 2 * binWidth && result.packetsReceived > 0);
    ok = heard && result.ended?.by === values.hangup;
    if (values['early-seconds']) {
      ok = ok && Math.abs(result.earlyFrequency - expected) <= 2 * binWidth;
    }
  }
  const leaks = (values.forbid ?? '').split(',').filter((w) => w && (result.allFrames ?? '').includes(w));
  ok = ok && leaks.length === 0;
  delete result.allFrames;
  if (values['ice-restart']) {
    const r = result.restart ?? {};
    ok = ok && r.gatewayUfragChanged && Math.abs(r.frequency - expected) <= 2 * binWidth;
  }
  if (values['expect-quality']) {
    // Every 5 s the gateway reports the SIP leg: a clean loopback call.
    const reports = result.quality ?? [];
    ok = ok && reports.length > 0 && reports.every((q) => q.loss <= 0.05 && q.mos >= 3.5);
  }
  if (values['expect-frames']) {
    const wanted = values['expect-frames'].split(',');
    const seen = types.filter((t) => wanted.includes(t));
    ok = ok && JSON.stringify(seen) === JSON.stringify(wanted);
  }
  const { frames, hello, ...rest } = result;
  console.log(JSON.stringify({ test: 'ws_call', to: values.to, tone, expected, frames: types, version: hello.version, ...rest, leaks, ok }));
  process.exitCode = ok ? 0 : 1;
} finally {
  await browser.close();
}
