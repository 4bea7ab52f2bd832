// The bundled web client against the real gateway: headless Chromium opens
// the softphone the gateway serves (`--url`, its root), which connects by
// itself; the script types `--to` into `dial`, clicks `call`, waits for
// `call-state` to say `in-call`, measures the dominant frequency of the
// page's remote `<audio>` (expected `--expect`, the tone the fake microphone
// plays by default, for the demo PBX's echo on 600), clicks `hangup` and
// waits for `ended`. Only `data-testid` handles are used. Prints one JSON
// line with the click-to-answer time; exits non-zero on any deviation.
//
//   node softphone_call.mjs --url https://127.0.0.1:8443/ [--to 600] [--tone 440] [--expect 440]
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
  },
});
if (!values.url) throw new Error('--url is required');
const tone = Number(values.tone);
const expected = Number(values.expect ?? values.tone);
const wav = join(mkdtempSync(join(tmpdir(), 'sbc-tone-')), 'tone.wav');
writeToneWav(wav, tone, { seconds: 30 });

const browser = await launch({ micWav: wav });
const errors = [];
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  const url = new URL(values.url);
  url.searchParams.set('processing', '0');
  await page.goto(url.toString());
  const state = page.getByTestId('call-state');
  const states = [];
  await page.exposeFunction('recordState', (s) => states.push(s));
  await page.evaluate(() => {
    const el = document.querySelector('[data-testid="call-state"]');
    new MutationObserver(() => window.recordState(el.textContent)).observe(el, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
  await page.getByTestId('dial').fill(values.to);
  // The page connects by itself; the call button works once it has.
  await page.waitForFunction(() => !document.querySelector('[data-testid="call"]').disabled);
  const clicked = Date.now();
  await page.getByTestId('call').click();
  await state.filter({ hasText: /^in-call$/ }).waitFor({ timeout: 15000 });
  const setupMs = Date.now() - clicked;
  const measured = await page.evaluate(async (analyse) => {
    const dominant = new Function(`return (${analyse})`)();
    const audio = document.getElementById('remote-audio');
    for (let i = 0; i < 50 && !audio.srcObject; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    return dominant(audio.srcObject, 2000);
  }, dominantFrequency.toString());
  await page.getByTestId('hangup').click();
  await state.filter({ hasText: /^ended$/ }).waitFor({ timeout: 10000 });
  const binWidth = 48000 / 8192;
  const allowed = ['idle', 'calling', 'ringing', 'in-call', 'ended'];
  const ok =
    Math.abs(measured.frequency - expected) <= 2 * binWidth &&
    states.every((s) => allowed.includes(s)) &&
    errors.length === 0;
  console.log(JSON.stringify({ test: 'softphone_call', to: values.to, tone, expected, setupMs, ...measured, states, errors, ok }));
  process.exitCode = ok ? 0 : 1;
} finally {
  await browser.close();
}
