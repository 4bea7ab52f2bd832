// Two calls at once in one session, on one SIP port: headless Chromium,
// on a page of the gateway (`--url`), places `c1` to 600 (the demo PBX's
// echo of its 440 Hz tone) and `c2` to 601 (the demo PBX's 1 kHz tone) on
// one socket, each with its own RTCPeerConnection, and measures both
// received streams: each must carry its own tone, so nothing crossed.
// Prints one JSON line; exits non-zero on any deviation.
//
//   node ws_two_calls.mjs --url https://127.0.0.1:8443/healthz
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launch } from './lib/chromium.mjs';
import { writeToneWav } from './lib/tone.mjs';
import { dominantFrequency } from './lib/analyse.mjs';

const { values } = parseArgs({ options: { url: { type: 'string' } } });
if (!values.url) throw new Error('--url is required');
const wav = join(mkdtempSync(join(tmpdir(), 'sbc-tone-')), 'tone.wav');
writeToneWav(wav, 440, { seconds: 30 });

const browser = await launch({ micWav: wav });
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await page.goto(values.url);
  const result = await page.evaluate(async (analyse) => {
    const dominant = new Function(`return (${analyse})`)();
    const ws = new WebSocket(`wss://${location.host}/ws`);
    const frames = [];
    const waiters = [];
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data);
      frames.push(f);
      for (const w of [...waiters]) if (w.match(f)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(f);
    };
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error('websocket failed'));
    });
    const next = (match, ms = 15000) =>
      new Promise((resolve, reject) => {
        const found = frames.find(match);
        if (found) return resolve(found);
        waiters.push({ match, resolve });
        setTimeout(() => reject(new Error(`timeout; frames ${JSON.stringify(frames.map((f) => f.type))}`)), ms);
      });
    let n = 0;
    const request = async (frame) => {
      const id = ++n;
      ws.send(JSON.stringify({ ...frame, id }));
      const answer = await next((f) => f.id === id);
      if (answer.type === 'error') throw new Error(`${frame.type}: ${answer.code} ${answer.message}`);
      return answer;
    };
    await request({ type: 'hello' });
    const mic = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    const place = async (call, to) => {
      const pc = new RTCPeerConnection();
      mic.getTracks().forEach((t) => pc.addTrack(t, mic));
      const received = new Promise((resolve) => (pc.ontrack = (e) => resolve(e.streams[0] ?? new MediaStream([e.track]))));
      await pc.setLocalDescription();
      if (pc.iceGatheringState !== 'complete') {
        await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()));
      }
      await request({ type: 'call', call, to, sdp: pc.localDescription.sdp });
      const answered = await next((f) => f.call === call && (f.type === 'answered' || (f.type === 'progress' && f.sdp)));
      await pc.setRemoteDescription({ type: 'answer', sdp: answered.sdp });
      const stream = await received;
      const audio = new Audio();
      audio.srcObject = stream;
      await audio.play().catch(() => {});
      return { pc, stream };
    };
    const [c1, c2] = await Promise.all([place('c1', '600'), place('c2', '601')]);
    await new Promise((r) => setTimeout(r, 700));
    const [m1, m2] = await Promise.all([dominant(c1.stream, 2000), dominant(c2.stream, 2000)]);
    await request({ type: 'hangup', call: 'c1' });
    await request({ type: 'hangup', call: 'c2' });
    await next((f) => f.type === 'ended' && f.call === 'c2');
    c1.pc.close();
    c2.pc.close();
    return { c1: m1.frequency, c2: m2.frequency, ended: frames.filter((f) => f.type === 'ended').map((f) => f.call) };
  }, dominantFrequency.toString());
  const bin = 2 * (48000 / 8192);
  const ok = Math.abs(result.c1 - 440) <= bin && Math.abs(result.c2 - 1000) <= bin && result.ended.length === 2;
  console.log(JSON.stringify({ test: 'ws_two_calls', ...result, ok }));
  process.exitCode = ok ? 0 : 1;
} finally {
  await browser.close();
}
