// The softphone page (web-client/index.html) in headless Chromium against a
// scripted gateway (lib/fake_gateway.mjs), driven the way a person or an
// automated test would: through its data-testid handles and buttons.
//
//   node softphone_ui.test.mjs      (exits non-zero on failure)
//
// Opens sockets on 127.0.0.1: run it inside `unshare --net` (see README.md).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launch } from './lib/chromium.mjs';
import { startFakeGateway } from './lib/fake_gateway.mjs';
import { answerFor, gatewayOffer } from './lib/sdp.mjs';
import { dominantFrequency } from './lib/analyse.mjs';
import { writeToneWav } from './lib/tone.mjs';

const WEB_CLIENT = join(dirname(fileURLToPath(import.meta.url)), '..', 'web-client');
const STATES = ['idle', 'calling', 'ringing', 'in-call', 'ended'];

let gw;
let browser;
let page;
const pageErrors = [];
const seenStates = new Set();

const until = (fn, arg) => page.waitForFunction(fn, arg, { timeout: 5000, polling: 20 });
const byTestId = (id) => page.getByTestId(id);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until the call-state handle reads `state`, and remembers it was seen. */
async function callStateIs(state) {
  await until((s) => document.querySelector('[data-testid="call-state"]').textContent === s, state);
  seenStates.add(state);
}

before(async () => {
  gw = await startFakeGateway(WEB_CLIENT);
  gw.token = 'good';
  const wav = join(mkdtempSync(join(tmpdir(), 'sbc-softphone-')), 'tone.wav');
  writeToneWav(wav, 440, { seconds: 30 });
  browser = await launch({ micWav: wav });
  page = await browser.newPage();
  page.on('pageerror', (err) => pageErrors.push(err));
  // Whatever the state handle shows must always be one of the five states.
  await page.exposeFunction('reportCallState', (text) => seenStates.add(text));
  await page.addInitScript(() => {
    addEventListener('DOMContentLoaded', () => {
      const output = document.querySelector('[data-testid="call-state"]');
      new MutationObserver(() => window.reportCallState(output.textContent)).observe(output, { childList: true, characterData: true, subtree: true });
    });
  });
});

after(async () => {
  await browser?.close();
  await gw?.close();
});

test('the page connects by itself, with the token from its address, and is idle', async () => {
  await page.goto(`${gw.origin}/?token=good&processing=0`);
  const hello = await gw.next('hello');
  assert.equal(hello.msg.token, 'good');
  await until(() => document.getElementById('connection').textContent === 'Connected');
  await callStateIs('idle');
  assert.equal(await byTestId('incoming').isHidden(), true);
  assert.equal(await byTestId('hangup').isDisabled(), true);
  assert.equal(await page.locator('audio#remote-audio').getAttribute('autoplay'), '');
});

test('an empty number is refused with a message, and nothing is sent', async () => {
  await byTestId('dial').fill('');
  await byTestId('call').click();
  await until(() => !document.getElementById('error').hidden);
  assert.match(await page.locator('#error').textContent(), /number/i);
  await sleep(100);
  assert.deepEqual(gw.pending('call'), []);
});

test('dial, ring, answer, DTMF from the keypad, mute, hold, hang up', async () => {
  await byTestId('dial').fill('600');
  await byTestId('call').click();
  const call = await gw.next('call');
  assert.equal(call.msg.to, '600');
  await callStateIs('calling');
  assert.equal(await page.locator('#error').isHidden(), true, 'the earlier error is cleared');
  call.ok();
  gw.send({ type: 'progress', call: call.msg.call, sip_status: 180 });
  await callStateIs('ringing');
  gw.send({ type: 'answered', call: call.msg.call, sdp: answerFor(call.msg.sdp) });
  await callStateIs('in-call');
  assert.equal(await byTestId('call').isDisabled(), true);
  assert.equal(await page.evaluate(() => document.getElementById('remote-audio').srcObject.getAudioTracks().length), 1);

  await page.locator('.keypad [data-key="5"]').click();
  const dtmf = await gw.next('dtmf');
  assert.equal(dtmf.msg.digits, '5');
  dtmf.ok();
  assert.equal(await byTestId('dial').inputValue(), '600', 'in a call the keypad sends DTMF instead of typing');

  await page.locator('#mute').click();
  await until(() => document.getElementById('mute').getAttribute('aria-pressed') === 'true');
  assert.deepEqual(await page.evaluate(() => softphone.call.localStream.getAudioTracks().map((t) => t.enabled)), [false]);

  await page.locator('#hold').click();
  (await gw.next('hold')).ok();
  await until(() => document.getElementById('hold').getAttribute('aria-pressed') === 'true');
  await page.locator('#hold').click();
  (await gw.next('unhold')).ok();
  await until(() => document.getElementById('hold').getAttribute('aria-pressed') === 'false');

  await byTestId('hangup').click();
  const hangup = await gw.next('hangup');
  assert.equal(hangup.msg.call, call.msg.call);
  hangup.ok();
  await callStateIs('ended');
  assert.equal(await byTestId('hangup').isDisabled(), true);
});

test('the far end is heard: a real WebRTC peer answers and its 440 Hz tone plays in the <audio> element', async () => {
  // The far end: an RTCPeerConnection in another page, sending the fake
  // microphone (a 440 Hz tone), answering the offer the page sent.
  const far = await browser.newPage();
  try {
    await far.goto(`${gw.origin}/blank.html`);
    await byTestId('dial').fill('601');
    await byTestId('call').click();
    const call = await gw.next('call');
    call.ok();
    const answer = await far.evaluate(async (offer) => {
      const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      window.pc = new RTCPeerConnection();
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      mic.getTracks().forEach((track) => pc.addTrack(track, mic));
      await pc.setLocalDescription();
      while (pc.iceGatheringState !== 'complete') await new Promise((r) => setTimeout(r, 20));
      return pc.localDescription.sdp;
    }, call.msg.sdp);
    gw.send({ type: 'answered', call: call.msg.call, sdp: answer });
    await callStateIs('in-call');
    await until(() => softphone.call.pc.connectionState === 'connected');
    const heard = await page.evaluate(async (analyse) => {
      const audio = document.getElementById('remote-audio');
      const measure = new Function(`return (${analyse})`)();
      return { playing: !audio.paused, ...(await measure(audio.srcObject, 1500)) };
    }, dominantFrequency.toString());
    assert.equal(heard.playing, true, 'the <audio> element plays by itself');
    assert.ok(Math.abs(heard.frequency - 440) <= 2 * (48000 / 8192), `heard ${heard.frequency} Hz`);
    // The quality panel fills in from getStats.
    await until(() => document.getElementById('level-out').value > 0 && document.getElementById('level-in').value > 0);
    await until(() => /\d ms$/.test(document.getElementById('q-rtt').textContent) && /%$/.test(document.getElementById('q-loss').textContent));
    assert.match(await page.locator('#q-codec').textContent(), /opus/i);
    assert.match(await page.locator('#timer').textContent(), /^\d\d:\d\d$/);
    await byTestId('hangup').click();
    (await gw.next('hangup')).ok();
    await callStateIs('ended');
  } finally {
    await far.close();
  }
});

test('an incoming call shows its panel; answering it starts the call', async () => {
  gw.send({ type: 'incoming', call: 'in-1', from: 'sip:1002@pbx.test', display: 'Bob', to: '1001', sdp: gatewayOffer() });
  await byTestId('incoming').waitFor({ state: 'visible' });
  assert.match(await byTestId('incoming').textContent(), /Bob/);
  await callStateIs('ringing');
  (await gw.next('ringing')).ok();
  await byTestId('answer').click();
  const answer = await gw.next('answer');
  assert.equal(answer.msg.call, 'in-1');
  answer.ok();
  await callStateIs('in-call');
  assert.equal(await byTestId('incoming').isHidden(), true);
  gw.send({ type: 'ended', call: 'in-1', by: 'remote', reason: 'BYE' });
  await callStateIs('ended');
});

test('an incoming call can be rejected', async () => {
  gw.send({ type: 'incoming', call: 'in-2', from: 'sip:1003@pbx.test', to: '1001', sdp: gatewayOffer() });
  await byTestId('incoming').waitFor({ state: 'visible' });
  (await gw.next('ringing')).ok();
  await byTestId('reject').click();
  const reject = await gw.next('reject');
  assert.equal(reject.msg.call, 'in-2');
  assert.ok(reject.msg.code === undefined || reject.msg.code === 486);
  reject.ok();
  await callStateIs('ended');
  assert.equal(await byTestId('incoming').isHidden(), true);
});

test('a refused call shows why', async () => {
  await byTestId('dial').fill('999');
  await byTestId('call').click();
  (await gw.next('call')).error('no_route', 'nowhere to send 999');
  await callStateIs('ended');
  await until(() => !document.getElementById('error').hidden);
  assert.match(await page.locator('#error').textContent(), /no route.*nowhere to send 999/i);
});

test('registering from the account form', async () => {
  await page.locator('#account summary').click();
  await page.locator('#user').fill('1001');
  await page.locator('#password').fill('secret');
  await page.locator('#register').click();
  const register = await gw.next('register');
  assert.deepEqual([register.msg.user, register.msg.password, register.msg.domain], ['1001', 'secret', undefined]);
  register.ok();
  gw.send({ type: 'registration', state: 'registered' });
  await until(() => document.getElementById('registration').textContent === 'Registered');
});

test('?autoconnect=0 waits for the Connect button', async () => {
  const other = await browser.newPage();
  try {
    const sockets = gw.connections.length;
    await other.goto(`${gw.origin}/?autoconnect=0&token=good`);
    await other.locator('#connect').waitFor({ state: 'visible' });
    await sleep(200);
    assert.equal(gw.connections.length, sockets);
    await other.locator('#connect').click();
    await other.waitForFunction(() => document.getElementById('connection').textContent === 'Connected');
  } finally {
    await other.close();
  }
});

test('?ws= chooses the gateway; one that cannot be reached is said so', async () => {
  const other = await browser.newPage();
  try {
    await other.goto(`${gw.origin}/?ws=ws://127.0.0.1:1/ws`);
    await other.waitForFunction(() => !document.getElementById('error').hidden);
    assert.match(await other.locator('#error').textContent(), /Cannot reach the gateway at ws:\/\/127\.0\.0\.1:1\/ws/);
    assert.equal(await other.locator('#connection').textContent(), 'Reconnecting…');
  } finally {
    await other.close();
  }
});

test('the state handle only ever showed the five states, and the page threw nothing', () => {
  assert.deepEqual([...seenStates].filter((s) => !STATES.includes(s)), []);
  assert.deepEqual(STATES.filter((s) => !seenStates.has(s)), [], 'every state was seen');
  assert.deepEqual(gw.violations, []);
  assert.deepEqual(pageErrors.map(String), []);
});
