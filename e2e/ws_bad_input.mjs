// Bad input on `/ws` harms nothing else. Headless Chromium, on a page of the
// gateway (`--url`), keeps one session with a live call to `--to` (an echo)
// while a second session sends every kind of bad frame, and a third floods.
// Each bad frame must get an `error` with the expected code, the second
// socket must stay usable, the flooding socket must get `rate_limited` and
// then be closed with 1008 (policy violation), and the live call must still
// carry its tone afterwards.
// Prints one JSON line; exits non-zero on any deviation.
//
//   node ws_bad_input.mjs --url https://127.0.0.1:8443/healthz [--to 600]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launch } from './lib/chromium.mjs';
import { writeToneWav } from './lib/tone.mjs';
import { dominantFrequency } from './lib/analyse.mjs';

const { values } = parseArgs({
  options: { url: { type: 'string' }, to: { type: 'string', default: '600' } },
});
if (!values.url) throw new Error('--url is required');
const wav = join(mkdtempSync(join(tmpdir(), 'sbc-tone-')), 'tone.wav');
writeToneWav(wav, 440, { seconds: 30 });

const browser = await launch({ micWav: wav });
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await page.goto(values.url);
  const result = await page.evaluate(
    async ({ analyse, to }) => {
      const dominant = new Function(`return (${analyse})`)();
      const open = async () => {
        const ws = new WebSocket(`wss://${location.host}/ws`);
        const frames = [];
        const waiters = [];
        ws.onmessage = (e) => {
          const f = JSON.parse(e.data);
          frames.push(f);
          for (const w of [...waiters]) if (w.match(f)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(f);
        };
        ws.closed = new Promise((r) => (ws.onclose = r));
        await new Promise((resolve, reject) => {
          ws.onopen = resolve;
          ws.onerror = () => reject(new Error('websocket failed'));
        });
        const next = (match, ms = 10000) =>
          new Promise((resolve, reject) => {
            const found = frames.find(match);
            if (found) return resolve(found);
            waiters.push({ match, resolve });
            setTimeout(() => reject(new Error(`timeout; frames ${JSON.stringify(frames)}`)), ms);
          });
        return { ws, frames, next };
      };

      // Session A: a live call.
      const a = await open();
      a.ws.send(JSON.stringify({ type: 'hello', id: 'a1' }));
      await a.next((f) => f.id === 'a1');
      const mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
      const pc = new RTCPeerConnection();
      mic.getTracks().forEach((t) => pc.addTrack(t, mic));
      const received = new Promise((resolve) => (pc.ontrack = (e) => resolve(e.streams[0] ?? new MediaStream([e.track]))));
      await pc.setLocalDescription();
      if (pc.iceGatheringState !== 'complete') {
        await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()));
      }
      a.ws.send(JSON.stringify({ type: 'call', id: 'a2', call: 'c1', to, sdp: pc.localDescription.sdp }));
      const answered = await a.next((f) => f.type === 'answered' || (f.type === 'progress' && f.sdp));
      await pc.setRemoteDescription({ type: 'answer', sdp: answered.sdp });
      const stream = await received;
      const audio = new Audio();
      audio.srcObject = stream;
      await audio.play().catch(() => {});

      // Session B: bad frames, one at a time, each with the code it must get.
      const b = await open();
      const expect = [];
      let n = 0;
      const bad = async (payload, code, { binary = false } = {}) => {
        const before = b.frames.length;
        b.ws.send(binary ? new Uint8Array([1, 2, 3]) : payload);
        const got = await b.next((f, i) => b.frames.indexOf(f) >= before && (f.type === 'error' || f.type === 'ok'));
        expect.push({ sent: (binary ? '<binary>' : payload).slice(0, 60), want: code, got: got.code ?? got.type });
        n += 1;
      };
      await bad(JSON.stringify({ type: 'ping', id: 1 }), 'invalid_state');
      await bad('not json at all', 'bad_request');
      await bad('{"type":', 'bad_request');
      await bad('[1,2,3]', 'bad_request');
      await bad(JSON.stringify({ type: 'hello', id: 2 }), undefined);
      await bad(JSON.stringify({ type: 'hello', id: 3 }), 'invalid_state');
      await bad(JSON.stringify({ type: 'teleport', id: 4 }), 'unknown_type');
      await bad(JSON.stringify({ type: 'call', id: 5, call: 'x' }), 'bad_request');
      await bad(JSON.stringify({ type: 'hangup', id: 6, call: 'nope' }), 'no_such_call');
      await bad(JSON.stringify({ type: 'dtmf', id: 7, call: 'nope', digits: '1' }), 'no_such_call');
      await bad(JSON.stringify({ type: 'dtmf', id: 8, call: 'x', digits: 'zz' }), 'bad_request');
      await bad(JSON.stringify({ type: 'call', id: 9, call: 'x', to, sdp: 'garbage' }), 'bad_sdp');
      await bad(JSON.stringify({ type: 'call', id: 10, call: 'x', to, sdp: 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n' }), 'bad_sdp');
      await bad(JSON.stringify({ type: 'call', id: 11, call: 'x', to: '6 00', sdp: 'v=0' }), 'no_route');
      await bad(JSON.stringify({ type: 'call', id: 12, call: 'x', to, sdp: pc.localDescription.sdp, headers: { 'X-A': 'a\r\nVia: evil' } }), 'bad_request');
      await bad(JSON.stringify({ type: 'ping', id: 13, pad: 'x'.repeat(70000) }), 'bad_request');
      await bad(JSON.stringify({ type: 'ping', id: 14, pad: 'x'.repeat(300000) }), 'bad_request');
      await bad(null, 'bad_request', { binary: true });
      await bad(JSON.stringify({ type: 'ping', id: 15 }), undefined);
      // Session A itself: a name in use, and a request for a call of another session.
      a.ws.send(JSON.stringify({ type: 'call', id: 'a3', call: 'c1', to, sdp: pc.localDescription.sdp }));
      const exists = await a.next((f) => f.id === 'a3');

      // Session C: a flood, which ends in rate_limited and a closed socket.
      const c = await open();
      c.ws.send(JSON.stringify({ type: 'hello', id: 'c0' }));
      await c.next((f) => f.id === 'c0');
      for (let i = 0; i < 400 && c.ws.readyState === WebSocket.OPEN; i++) {
        c.ws.send(JSON.stringify({ type: 'ping', id: i }));
      }
      // Generous: the close is prompt, but CI machines are shared and slow.
      const closing = await Promise.race([c.ws.closed, new Promise((r) => setTimeout(r, 20000))]);
      const floodLimited = c.frames.filter((f) => f.code === 'rate_limited').length;

      // B and A are unharmed: B answers, A's call still echoes the tone.
      b.ws.send(JSON.stringify({ type: 'ping', id: 99 }));
      const bAlive = (await b.next((f) => f.id === 99)).type === 'ok';
      a.ws.send(JSON.stringify({ type: 'ping', id: 'a4' }));
      const aAlive = (await a.next((f) => f.id === 'a4')).type === 'ok';
      const measured = await dominant(stream, 2000);
      a.ws.send(JSON.stringify({ type: 'hangup', id: 'a5', call: 'c1' }));
      const ended = await a.next((f) => f.type === 'ended');
      pc.close();
      return {
        expect,
        callExists: exists.code,
        floodLimited,
        floodClosed: c.ws.readyState === WebSocket.CLOSED,
        // 1008, policy violation: the gateway closed it, and politely.
        floodCloseCode: closing?.code,
        bAlive,
        aAlive,
        // The call lived through all of it: its one `ended` is our hangup.
        aEndedBy: ended.by,
        aEndedOnce: a.frames.filter((f) => f.type === 'ended').length === 1,
        frequency: measured.frequency,
      };
    },
    { analyse: dominantFrequency.toString(), to: values.to },
  );
  const wrong = result.expect.filter((e) => e.want !== undefined && e.want !== e.got);
  const okFrames = result.expect.filter((e) => e.want === undefined && e.got !== 'ok');
  // Every check by name, so that a failure says which one it was.
  const checks = {
    codes: wrong.length === 0,
    okFrames: okFrames.length === 0,
    callExists: result.callExists === 'call_exists',
    floodLimited: result.floodLimited > 0,
    floodClosed: result.floodClosed,
    floodCloseCode: result.floodCloseCode === 1008,
    bAlive: result.bAlive,
    aAlive: result.aAlive,
    aEndedBy: result.aEndedBy === 'local',
    aEndedOnce: result.aEndedOnce,
    frequency: Math.abs(result.frequency - 440) <= 12,
  };
  const failed = Object.keys(checks).filter((k) => !checks[k]);
  const ok = failed.length === 0;
  console.log(JSON.stringify({ test: 'ws_bad_input', failed, ...result, wrong, okFrames, ok }));
  process.exitCode = ok ? 0 : 1;
} finally {
  await browser.close();
}
