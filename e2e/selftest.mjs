// Proves the browser harness on this machine, without the gateway: two
// RTCPeerConnections in one page of headless Chromium, the first sending
// the fake microphone (a 440 Hz tone), the second receiving it; the
// received audio's dominant frequency must be 440 Hz (within one FFT bin).
// Prints one JSON line; exits non-zero on failure.
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch } from './lib/chromium.mjs';
import { writeToneWav } from './lib/tone.mjs';
import { dominantFrequency } from './lib/analyse.mjs';

const TONE = 440;
const wav = join(mkdtempSync(join(tmpdir(), 'sbc-tone-')), 'tone.wav');
writeToneWav(wav, TONE);
// getUserMedia needs a secure context: a page served from loopback is one.
const server = createServer((_, res) => res.end('<!doctype html><title>selftest</title>'));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await launch({ micWav: wav });
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const result = await page.evaluate(async ({ analyse, millis }) => {
    const dominant = new Function(`return (${analyse})`)();
    const mic = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    const a = new RTCPeerConnection();
    const b = new RTCPeerConnection();
    a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
    b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
    const received = new Promise((resolve) => (b.ontrack = (e) => resolve(e.streams[0])));
    mic.getTracks().forEach((t) => a.addTrack(t, mic));
    await a.setLocalDescription();
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription();
    await a.setRemoteDescription(b.localDescription);
    const stream = await received;
    const audio = new Audio();
    audio.srcObject = stream;
    await audio.play().catch(() => {});
    await new Promise((r) => setTimeout(r, 1000));
    const measured = await dominant(stream, 2000);
    const stats = [...(await b.getStats()).values()].find((s) => s.type === 'inbound-rtp');
    return { ...measured, packets: stats ? stats.packetsReceived : 0, state: a.connectionState };
  }, { analyse: dominantFrequency.toString(), millis: 2000 });
  const binWidth = 48000 / 8192;
  const ok = Math.abs(result.frequency - TONE) <= binWidth && result.packets > 0;
  console.log(JSON.stringify({ test: 'selftest', expected: TONE, ...result, ok }));
  process.exitCode = ok ? 0 : 1;
} finally {
  await browser.close();
  server.close();
}
