// One browser call through a gateway under test, with audio proven by tone:
// headless Chromium opens `--url` (a page served by the server under test,
// so it is a secure loopback origin), captures its fake microphone playing a
// `--tone` Hz sine, sends its SDP offer with `POST /offer` (body: the offer
// SDP; response: the answer SDP) on that origin, plays what comes back, and
// measures the dominant frequency of the received audio. The far end is
// expected to echo (or play `--expect` Hz). Prints one JSON line with the
// measurements and the negotiated SRTP profile; exits non-zero when the
// received frequency is not the expected one.
//
//   node webrtc_echo.mjs --url http://127.0.0.1:8080/ --tone 440 [--expect 440] [--seconds 3]
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
    tone: { type: 'string', default: '440' },
    expect: { type: 'string' },
    seconds: { type: 'string', default: '3' },
  },
});
if (!values.url) throw new Error('--url is required');
const tone = Number(values.tone);
const expected = Number(values.expect ?? values.tone);
const wav = join(mkdtempSync(join(tmpdir(), 'sbc-tone-')), 'tone.wav');
writeToneWav(wav, tone, { seconds: Number(values.seconds) + 20 });

const browser = await launch({ micWav: wav });
try {
  const page = await browser.newPage();
  await page.goto(values.url);
  const started = Date.now();
  const result = await page.evaluate(async ({ analyse, millis }) => {
    const dominant = new Function(`return (${analyse})`)();
    const mic = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    mic.getTracks().forEach((t) => pc.addTrack(t, mic));
    const received = new Promise((resolve) => (pc.ontrack = (e) => resolve(e.streams[0] ?? new MediaStream([e.track]))));
    await pc.setLocalDescription();
    // Wait for ICE gathering so the offer carries the host candidate.
    if (pc.iceGatheringState !== 'complete') {
      await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()));
    }
    const t0 = performance.now();
    const res = await fetch('/offer', { method: 'POST', body: pc.localDescription.sdp });
    if (!res.ok) throw new Error(`POST /offer: ${res.status} ${await res.text()}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    await new Promise((resolve, reject) => {
      const check = () => {
        if (pc.connectionState === 'connected') resolve();
        if (pc.connectionState === 'failed') reject(new Error('connection failed'));
      };
      pc.onconnectionstatechange = check;
      check();
    });
    const connectMs = performance.now() - t0;
    const stream = await received;
    const audio = new Audio();
    audio.srcObject = stream;
    await audio.play().catch(() => {});
    await new Promise((r) => setTimeout(r, 500));
    const measured = await dominant(stream, millis);
    const stats = [...(await pc.getStats()).values()];
    const inbound = stats.find((s) => s.type === 'inbound-rtp');
    const transport = stats.find((s) => s.type === 'transport');
    pc.close();
    return {
      ...measured,
      connectMs,
      packetsReceived: inbound ? inbound.packetsReceived : 0,
      srtpCipher: transport ? transport.srtpCipher : undefined,
      dtlsCipher: transport ? transport.dtlsCipher : undefined,
    };
  }, { analyse: dominantFrequency.toString(), millis: Number(values.seconds) * 1000 });
  const binWidth = 48000 / 8192;
  const ok = Math.abs(result.frequency - expected) <= 2 * binWidth && result.packetsReceived > 0;
  console.log(JSON.stringify({ test: 'webrtc_echo', tone, expected, totalMs: Date.now() - started, ...result, ok }));
  process.exitCode = ok ? 0 : 1;
} finally {
  await browser.close();
}
