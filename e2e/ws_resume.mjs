// Resuming a session on a new socket. Headless Chromium, on a page of the
// gateway (`--url`), places a call to `--to` (an echo) on socket A, closes
// A without hanging up, opens socket B and says `hello` with A's
// `resume_token`: the `ok` must name the same session and list the call.
// Then socket C resumes with B's token while B is still open (a phone that
// changed networks, its old socket not yet known dead): C gets the session
// and its call, and the gateway closes B (1000). The call's tone must still
// come back. A fourth socket presenting an unknown token gets a fresh
// session without calls. The call is then hung up on C. Prints one JSON
// line; exits non-zero on any deviation.
//
//   node ws_resume.mjs --url https://127.0.0.1:8443/healthz [--to 600]
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
        const next = (match, ms = 15000) =>
          new Promise((resolve, reject) => {
            const found = frames.find(match);
            if (found) return resolve(found);
            waiters.push({ match, resolve });
            setTimeout(() => reject(new Error(`timeout; frames ${JSON.stringify(frames)}`)), ms);
          });
        let n = 0;
        const request = async (frame) => {
          const id = ++n;
          ws.send(JSON.stringify({ ...frame, id }));
          return next((f) => f.id === id);
        };
        return { ws, frames, next, request };
      };

      const a = await open();
      const helloA = await a.request({ type: 'hello' });
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
      await a.request({ type: 'call', call: 'c1', to, sdp: pc.localDescription.sdp });
      const answered = await a.next((f) => f.type === 'answered' || (f.type === 'progress' && f.sdp));
      await pc.setRemoteDescription({ type: 'answer', sdp: answered.sdp });
      const stream = await received;
      const audio = new Audio();
      audio.srcObject = stream;
      await audio.play().catch(() => {});

      // A drops; B resumes at once (whether the gateway has seen A go or not).
      a.ws.close();
      await a.ws.closed;
      const b = await open();
      const helloB = await b.request({ type: 'hello', resume: helloA.resume_token });
      // C takes the session over from B, which is still open.
      const c = await open();
      const helloC = await c.request({ type: 'hello', resume: helloB.resume_token });
      const bClosed = await Promise.race([b.ws.closed, new Promise((r) => setTimeout(r, 10000))]);
      const measured = await dominant(stream, 1500);
      const d = await open();
      const helloD = await d.request({ type: 'hello', resume: 'not-a-token' });
      const hangup = await c.request({ type: 'hangup', call: 'c1' });
      const ended = await c.next((f) => f.type === 'ended');
      pc.close();
      return {
        sameSession: helloB.session === helloA.session,
        newToken: helloB.resume_token !== helloA.resume_token,
        calls: helloB.calls,
        takenOver: helloC.session === helloA.session && helloC.resume_token !== helloB.resume_token,
        takenOverCalls: helloC.calls,
        bCloseCode: bClosed?.code,
        fresh: helloD.type === 'ok' && helloD.session !== helloA.session && helloD.calls === undefined,
        hangup: hangup.type,
        ended,
        frequency: measured.frequency,
      };
    },
    { analyse: dominantFrequency.toString(), to: values.to },
  );
  const ok =
    result.sameSession &&
    result.newToken &&
    JSON.stringify(result.calls) === JSON.stringify([{ call: 'c1' }]) &&
    result.takenOver &&
    JSON.stringify(result.takenOverCalls) === JSON.stringify([{ call: 'c1' }]) &&
    result.bCloseCode === 1000 &&
    result.fresh &&
    result.hangup === 'ok' &&
    result.ended?.by === 'local' &&
    Math.abs(result.frequency - 440) <= 12;
  console.log(JSON.stringify({ test: 'ws_resume', ...result, ok }));
  process.exitCode = ok ? 0 : 1;
} finally {
  await browser.close();
}
