// A call from the PBX to a browser, over protocol v1. Headless Chromium,
// on a page of the gateway (`--url`), says `hello`, registers `--user`,
// waits for `incoming`, sends `ringing`, answers the offer with its fake
// microphone (a `--tone` Hz sine), measures the dominant frequency of what
// it hears (expected `--expect`, the tone itself for a PBX that echoes)
// and waits for the far end to hang up (`ended` by remote). Prints one JSON
// line; exits non-zero on any deviation.
//
//   node ws_incoming.mjs --url https://127.0.0.1:8443/healthz --user alice [--tone 440] [--expect 440]
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
    user: { type: 'string', default: 'alice' },
    password: { type: 'string' },
    tone: { type: 'string', default: '440' },
    expect: { type: 'string' },
  },
});
if (!values.url) throw new Error('--url is required');
const tone = Number(values.tone);
const expected = Number(values.expect ?? values.tone);
const wav = join(mkdtempSync(join(tmpdir(), 'sbc-tone-')), 'tone.wav');
writeToneWav(wav, tone, { seconds: 30 });

const browser = await launch({ micWav: wav });
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await page.goto(values.url);
  const result = await page.evaluate(
    async ({ analyse, user, password }) => {
      const dominant = new Function(`return (${analyse})`)();
      const frames = [];
      const waiters = [];
      const ws = new WebSocket(`wss://${location.host}/ws`);
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new Error('websocket failed'));
      });
      ws.onmessage = (e) => {
        const f = JSON.parse(e.data);
        frames.push(f);
        for (const w of [...waiters]) if (w.match(f)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(f);
      };
      const next = (match, ms = 15000) =>
        new Promise((resolve, reject) => {
          const found = frames.find(match);
          if (found) return resolve(found);
          waiters.push({ match, resolve });
          setTimeout(() => reject(new Error(`timeout; frames ${JSON.stringify(frames.map((f) => f.type))}`)), ms);
        });
      let id = 0;
      const request = async (frame) => {
        const n = ++id;
        ws.send(JSON.stringify({ ...frame, id: n }));
        const answer = await next((f) => f.id === n);
        if (answer.type === 'error') throw new Error(`${frame.type}: ${answer.code} ${answer.message}`);
        return answer;
      };
      await request({ type: 'hello' });
      await request({ type: 'register', user, ...(password ? { password } : {}) });
      const incoming = await next((f) => f.type === 'incoming');
      const t0 = performance.now();
      await request({ type: 'ringing', call: incoming.call });
      const mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
      const pc = new RTCPeerConnection();
      const received = new Promise((resolve) => (pc.ontrack = (e) => resolve(e.streams[0] ?? new MediaStream([e.track]))));
      await pc.setRemoteDescription({ type: 'offer', sdp: incoming.sdp });
      mic.getTracks().forEach((t) => pc.addTrack(t, mic));
      await pc.setLocalDescription();
      if (pc.iceGatheringState !== 'complete') {
        await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()));
      }
      await request({ type: 'answer', call: incoming.call, sdp: pc.localDescription.sdp });
      await new Promise((resolve, reject) => {
        const check = () => {
          if (pc.connectionState === 'connected') resolve();
          if (pc.connectionState === 'failed') reject(new Error('connection failed'));
        };
        pc.onconnectionstatechange = check;
        check();
      });
      const answerMs = performance.now() - t0;
      const stream = await received;
      const audio = new Audio();
      audio.srcObject = stream;
      await audio.play().catch(() => {});
      await new Promise((r) => setTimeout(r, 300));
      const measured = await dominant(stream, 1500);
      // Says "heard": a test that drives the far end hangs up on it (it
      // counts the gateway's `ping` frames).
      await request({ type: 'ping' });
      const ended = await next((f) => f.type === 'ended' && f.call === incoming.call, 20000);
      const stats = [...(await pc.getStats()).values()];
      const transport = stats.find((s) => s.type === 'transport');
      pc.close();
      return {
        incoming: { call: incoming.call, from: incoming.from, display: incoming.display, to: incoming.to },
        frames: frames.map((f) => f.type + (f.state ? `:${f.state}` : '')),
        answerMs,
        ...measured,
        srtpCipher: transport ? transport.srtpCipher : undefined,
        ended,
      };
    },
    { analyse: dominantFrequency.toString(), user: values.user, password: values.password },
  );
  const binWidth = 48000 / 8192;
  const ok = Math.abs(result.frequency - expected) <= 2 * binWidth && result.ended?.by === 'remote';
  console.log(JSON.stringify({ test: 'ws_incoming', tone, expected, ...result, ok }));
  process.exitCode = ok ? 0 : 1;
} finally {
  await browser.close();
}
