// web-client/sbc-client.js in real headless Chromium, against a scripted
// gateway (lib/fake_gateway.mjs): the page imports the module and drives it,
// the test plays the gateway's side of each exchange and checks what the
// module sent and how it reacted. Every frame in both directions must match
// docs/protocol.schema.json, and the page must throw nothing.
//
//   node client_unit.test.mjs      (exits non-zero on failure)
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
import { writeToneWav } from './lib/tone.mjs';

const WEB_CLIENT = join(dirname(fileURLToPath(import.meta.url)), '..', 'web-client');

let gw;
let browser;
let page;
const pageErrors = [];

/** Runs `fn` in the page. */
const inPage = (fn, arg) => page.evaluate(fn, arg);
/** Waits until `fn` is true in the page. */
const until = (fn, arg) => page.waitForFunction(fn, arg, { timeout: 5000, polling: 20 });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  gw = await startFakeGateway(WEB_CLIENT);
  gw.token = 'good';
  const wav = join(mkdtempSync(join(tmpdir(), 'sbc-client-')), 'tone.wav');
  writeToneWav(wav, 440, { seconds: 30 });
  browser = await launch({ micWav: wav });
  page = await browser.newPage();
  page.on('pageerror', (err) => pageErrors.push(err));
  await page.goto(`${gw.origin}/blank.html`);
  // The client under test, with short timers; `t` holds what the tests look at.
  await inPage(async () => {
    window.sbc = await import('/sbc-client.js');
    window.t = { states: [], registrations: [], errors: [] };
    t.client = new sbc.SbcClient({
      token: 'good',
      pingIntervalMs: 100,
      requestTimeoutMs: 1000,
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
      iceGatheringTimeoutMs: 1000,
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    t.client.on('state', (s) => t.states.push(s));
    t.client.on('registration', (r) => t.registrations.push(r.state));
    t.client.on('error', (e) => t.errors.push(e.code));
    // Every call gets a log of its events.
    t.client.on('call', (call) => {
      call.log = [];
      for (const type of ['state', 'progress', 'answered', 'held', 'resumed', 'dtmf', 'quality', 'ended']) {
        call.on(type, (arg) => call.log.push(type === 'state' ? arg : type === 'progress' ? `progress:${arg.sip_status}${arg.early ? ':early' : ''}` : type));
      }
    });
  });
});

after(async () => {
  await browser?.close();
  await gw?.close();
});

test('hello: the token is sent, the session and its ICE servers are kept, pings are answered', async () => {
  gw.iceServers = [{ urls: ['turn:127.0.0.1:9?transport=udp'], username: 'u1', credential: 'p1' }];
  const connecting = inPage(() => t.client.connect());
  const hello = await gw.next('hello');
  assert.equal(hello.msg.token, 'good');
  assert.equal(hello.msg.resume, undefined);
  const result = await connecting;
  assert.equal(result.session, 's1');
  assert.equal(result.version, 1);
  assert.deepEqual(await inPage(() => [t.client.state, t.client.session, t.client.iceServers, t.states]), [
    'connected',
    's1',
    gw.iceServers,
    ['connecting', 'connected'],
  ]);
  await gw.next('ping');
  await gw.next('ping');
  assert.equal(await inPage(() => t.client.state), 'connected');
});

test('answers are matched to requests by id, whatever their order; errors reject with code and sip_status', async () => {
  await inPage(() => {
    t.first = t.client.request('ringing', { call: 'in-1' }).then(() => 'ok', (e) => [e.name, e.code, e.message, e instanceof Error]);
    t.second = t.client.request('ringing', { call: 'in-2' }).then((ok) => ok.type);
  });
  const first = await gw.next('ringing');
  const second = await gw.next('ringing');
  assert.deepEqual([first.msg.call, second.msg.call], ['in-1', 'in-2']);
  assert.notEqual(first.msg.id, second.msg.id);
  second.ok();
  first.error('no_such_call', 'no call named in-1');
  assert.deepEqual(await inPage(() => Promise.all([t.first, t.second])), [
    ['SbcError', 'no_such_call', 'no call named in-1', true],
    'ok',
  ]);

  const refused = inPage(() => t.client.register({ user: 'bad', password: 'x' }).then(() => null, (e) => ({ code: e.code, sip_status: e.sip_status })));
  (await gw.next('register')).error('registration_failed', 'Forbidden', { sip_status: 403 });
  assert.deepEqual(await refused, { code: 'registration_failed', sip_status: 403 });
  assert.equal(await inPage(() => t.client.registration.state), 'failed');

  const registered = inPage(() => t.client.register({ user: '1001', password: 'secret', domain: 'pbx.test', expires: 300 }));
  const register = await gw.next('register');
  assert.deepEqual(
    { user: register.msg.user, password: register.msg.password, domain: register.msg.domain, expires: register.msg.expires },
    { user: '1001', password: 'secret', domain: 'pbx.test', expires: 300 },
  );
  register.ok();
  gw.send({ type: 'registration', state: 'registered' });
  await registered;
  await until(() => t.client.registration.state === 'registered');
  assert.deepEqual(await inPage(() => t.registrations), ['failed', 'registered']);
});

test('a request left unanswered times out; an error answering no request is an error event', async () => {
  const timedOut = inPage(() => t.client.request('transfer', { call: 'c99', to: '1' }).catch((e) => e.code));
  await gw.next('transfer');
  assert.equal(await timedOut, 'timeout');
  gw.send({ type: 'error', code: 'bad_request', message: 'frame is not a JSON object' });
  await until(() => t.errors.includes('bad_request'));
});

test('nothing is sent before the session exists: requests reject with not_connected', async () => {
  assert.deepEqual(
    await inPage(async () => {
      const idle = new sbc.SbcClient();
      return [await idle.ping().catch((e) => e.code), await idle.call('600').catch((e) => e.code), idle.state];
    }),
    ['not_connected', 'not_connected', 'disconnected'],
  );
});

test('options left undefined take their defaults: the URL is /ws on the page\'s origin', async () => {
  const sockets = gw.connections.length;
  const session = await inPage(async () => {
    const defaulted = new sbc.SbcClient({ url: undefined, token: 'good', pingIntervalMs: undefined });
    const { session } = await defaulted.connect();
    defaulted.disconnect();
    return session;
  });
  assert.match(session, /^s\d+$/);
  assert.equal(gw.connections.length, sockets + 1);
});

test('an outgoing call: offer with candidates, ringing, early media, answered, in-call requests, ended by the far end', async () => {
  await inPage(() => {
    t.client.once('call', (call) => (t.call = call));
    t.placed = t.client.call('600', { headers: { 'X-Test': 'yes' } }).then((call) => call === t.call);
  });
  const call = await gw.next('call');
  assert.equal(call.msg.to, '600');
  assert.equal(call.msg.call, 'c1');
  assert.deepEqual(call.msg.headers, { 'X-Test': 'yes' });
  assert.match(call.msg.sdp, /^m=audio /m);
  assert.match(call.msg.sdp, /^a=candidate:.* 127\.0\.0\.1 \d+ typ host/m, 'the offer carries the gathered host candidate');
  assert.deepEqual(await inPage(() => [t.call.state, t.call.pc.getConfiguration().iceServers]), ['calling', gw.iceServers]);
  call.ok();
  assert.equal(await inPage(() => t.placed), true);

  const name = call.msg.call;
  gw.send({ type: 'progress', call: name, sip_status: 180 });
  await until(() => t.call.state === 'ringing');
  gw.send({ type: 'progress', call: name, sip_status: 183, sdp: answerFor(call.msg.sdp) });
  await until(() => t.call.pc.signalingState === 'stable' && t.call.pc.remoteDescription !== null);
  assert.equal(await inPage(() => t.call.state), 'ringing');
  gw.send({ type: 'answered', call: name });
  await until(() => t.call.state === 'in-call');
  assert.deepEqual(await inPage(() => [t.call.remoteStream.getAudioTracks().length, typeof t.call.answeredAt]), [1, 'number']);

  // DTMF, hold and unhold, and their events.
  const dtmf = inPage(() => t.call.dtmf('12#', { durationMs: 80 }));
  const sent = await gw.next('dtmf');
  assert.deepEqual([sent.msg.call, sent.msg.digits, sent.msg.duration_ms], [name, '12#', 80]);
  sent.ok();
  await dtmf;
  const hold = inPage(() => t.call.hold());
  (await gw.next('hold')).ok();
  await hold;
  gw.send({ type: 'held', call: name, by: 'local' }); // the same news again: no second event
  gw.send({ type: 'held', call: name, by: 'remote' });
  await until(() => t.call.held.remote);
  const unhold = inPage(() => t.call.unhold());
  (await gw.next('unhold')).ok();
  await unhold;
  assert.deepEqual(await inPage(() => t.call.held), { local: false, remote: true });
  gw.send({ type: 'resumed', call: name, by: 'remote' });
  gw.send({ type: 'dtmf', call: name, digit: '5', duration_ms: 120 });
  gw.send({ type: 'quality', call: name, rtt_ms: 20, jitter_ms: 1.5, loss: 0.01, mos: 4.2 });
  await until(() => t.call.quality?.mos === 4.2);

  // Renegotiation with an ICE restart: a new offer, the gateway's answer applied.
  const renegotiated = inPage(() => t.call.renegotiate({ iceRestart: true }));
  const offer = await gw.next('sdp');
  const ufrag = (sdp) => sdp.match(/^a=ice-ufrag:(.*)$/m)[1];
  assert.notEqual(ufrag(offer.msg.sdp), ufrag(call.msg.sdp), 'an ICE restart changes the ufrag');
  offer.ok({ sdp: answerFor(offer.msg.sdp) });
  await renegotiated;
  assert.equal(await inPage(() => t.call.pc.signalingState), 'stable');

  const transfer = inPage(() => t.call.transfer('602'));
  const refer = await gw.next('transfer');
  assert.equal(refer.msg.to, '602');
  refer.ok();
  await transfer;

  await inPage(() => t.call.setMuted(true));
  assert.deepEqual(await inPage(() => t.call.localStream.getAudioTracks().map((track) => track.enabled)), [false]);

  // Back to the default microphone (the softphone's empty choice): a new
  // track, still muted, the old one stopped.
  const before = await inPage(() => t.call.localStream.getAudioTracks()[0].id);
  await inPage(() => { t.oldTrack = t.call.localStream.getAudioTracks()[0]; return t.call.setMicrophone(''); });
  assert.deepEqual(
    await inPage(() => [t.call.localStream.getAudioTracks()[0].id !== t.oldTrack.id, t.oldTrack.readyState, t.call.localStream.getAudioTracks()[0].enabled]),
    [true, 'ended', false],
    `the track ${before} was replaced`,
  );

  gw.send({ type: 'ended', call: name, by: 'remote', sip_status: 200, reason: 'transferred' });
  await until(() => t.call.state === 'ended');
  assert.deepEqual(
    await inPage(() => [
      t.call.endInfo,
      t.call.pc.signalingState,
      t.call.localStream.getTracks().map((track) => track.readyState),
      t.client.calls.length,
      t.call.log,
    ]),
    [
      { by: 'remote', sip_status: 200, reason: 'transferred' },
      'closed',
      ['ended'],
      0,
      ['ringing', 'progress:180', 'progress:183:early', 'in-call', 'answered', 'held', 'held', 'resumed', 'resumed', 'dtmf', 'quality', 'ended', 'ended'],
    ],
  );
});

test('a call answered with its SDP, then hung up here', async () => {
  await inPage(() => {
    t.client.once('call', (call) => (t.call = call));
    t.placed = t.client.call('601');
  });
  const call = await gw.next('call');
  call.ok();
  gw.send({ type: 'progress', call: call.msg.call, sip_status: 180 });
  gw.send({ type: 'answered', call: call.msg.call, sdp: answerFor(call.msg.sdp) });
  await until(() => t.call.state === 'in-call');
  assert.equal(await inPage(() => t.call.pc.remoteDescription.type), 'answer');
  await inPage(() => {
    t.hungUp = t.call.hangup();
  });
  const hangup = await gw.next('hangup');
  assert.equal(hangup.msg.call, call.msg.call);
  hangup.ok();
  gw.send({ type: 'ended', call: call.msg.call, by: 'local', reason: 'hung up' }); // ignored: already over
  await inPage(() => t.hungUp);
  assert.deepEqual(await inPage(() => [t.call.state, t.call.endInfo]), ['ended', { by: 'local' }]);
});

test('a call the gateway refuses rejects with its code, and ends', async () => {
  const refused = inPage(() => {
    t.client.once('call', (call) => (t.call = call));
    return t.client.call('999').then(() => null, (e) => [e.code, e.message]);
  });
  const call = await gw.next('call');
  call.error('no_route', 'nowhere to send 999');
  assert.deepEqual(await refused, ['no_route', 'nowhere to send 999']);
  assert.deepEqual(await inPage(() => [t.call.state, t.call.endInfo]), [
    'ended',
    { by: 'gateway', code: 'no_route', reason: 'nowhere to send 999' },
  ]);
  await sleep(200);
  assert.deepEqual(gw.pending('hangup'), [], 'nothing to hang up: the call never existed');
});

test('a call hung up while it is being set up is never sent', async () => {
  const code = await inPage(() => {
    t.client.once('call', (call) => call.hangup());
    return t.client.call('600').catch((e) => e.code);
  });
  assert.equal(code, 'cancelled');
  await sleep(200);
  assert.deepEqual(gw.pending('call'), []);
});

test('with no time to gather, candidates are trickled after the offer, then null', async () => {
  gw.iceServers = []; // only host candidates: gathering completes at once
  await inPage(() => {
    t.trickler = new sbc.SbcClient({ token: 'good', iceGatheringTimeoutMs: 0, pingIntervalMs: 0 });
    return t.trickler.connect();
  });
  await inPage(() => {
    t.trickling = t.trickler.call('600');
  });
  const call = await gw.next('call');
  call.ok();
  const candidate = await gw.next('candidate', { where: (m) => m.call === call.msg.call && m.candidate !== null });
  assert.match(candidate.msg.candidate.candidate, /^candidate:/);
  assert.equal(typeof candidate.msg.candidate.sdpMid, 'string');
  assert.equal(typeof candidate.msg.candidate.sdpMLineIndex, 'number');
  await gw.next('candidate', { where: (m) => m.call === call.msg.call && m.candidate === null });
  await inPage(() => {
    t.trickler.disconnect();
  });
  assert.equal((await gw.next('hangup', { where: (m) => m.call === call.msg.call })).msg.call, call.msg.call);
  assert.equal(await inPage(() => t.trickler.state), 'disconnected');
});

test('incoming calls: ringing and answer; reject with a code; cancelled by the caller; an offer that cannot be used', async () => {
  await inPage(() => t.client.on('incoming', (call) => (t.incoming = call)));

  gw.send({ type: 'incoming', call: 'in-1', from: 'sip:1002@pbx.test', display: 'Bob', to: '1001', sdp: gatewayOffer() });
  await until(() => t.incoming?.id === 'in-1');
  assert.deepEqual(await inPage(() => [t.incoming.state, t.incoming.direction, t.incoming.remote, t.incoming.display]), [
    'ringing',
    'incoming',
    'sip:1002@pbx.test',
    'Bob',
  ]);
  await inPage(() => {
    t.rang = t.incoming.ringing();
  });
  (await gw.next('ringing', { where: (m) => m.call === 'in-1' })).ok();
  await inPage(() => t.rang);
  await inPage(() => {
    t.answered = t.incoming.answer();
  });
  const answer = await gw.next('answer');
  assert.equal(answer.msg.call, 'in-1');
  assert.match(answer.msg.sdp, /^a=setup:active/m);
  assert.match(answer.msg.sdp, /^a=candidate:/m);
  answer.ok();
  await inPage(() => t.answered);
  assert.deepEqual(await inPage(() => [t.incoming.state, t.incoming.remoteStream.getAudioTracks().length]), ['in-call', 1]);
  gw.send({ type: 'ended', call: 'in-1', by: 'remote', reason: 'BYE' });
  await until(() => t.incoming.state === 'ended');

  gw.send({ type: 'incoming', call: 'in-2', from: 'sip:1003@pbx.test', to: '1001', sdp: gatewayOffer() });
  await until(() => t.incoming?.id === 'in-2');
  await inPage(() => {
    t.rejected = t.incoming.reject(603);
  });
  const reject = await gw.next('reject');
  assert.deepEqual([reject.msg.call, reject.msg.code], ['in-2', 603]);
  reject.ok();
  await inPage(() => t.rejected);
  assert.deepEqual(await inPage(() => t.incoming.endInfo), { by: 'local', sip_status: 603 });

  gw.send({ type: 'incoming', call: 'in-3', from: 'sip:1004@pbx.test', to: '1001', sdp: gatewayOffer() });
  await until(() => t.incoming?.id === 'in-3');
  gw.send({ type: 'ended', call: 'in-3', by: 'remote', sip_status: 487, reason: 'Request Terminated' });
  await until(() => t.incoming.state === 'ended');
  assert.deepEqual(await inPage(() => t.incoming.answer().catch((e) => e.code)), 'invalid_state');

  gw.send({ type: 'incoming', call: 'in-4', from: 'sip:1005@pbx.test', to: '1001', sdp: 'v=0\r\nnot an offer\r\n' });
  await until(() => t.incoming?.id === 'in-4');
  assert.equal(await inPage(() => t.incoming.answer().catch((e) => e.code)), 'webrtc');
  assert.equal((await gw.next('hangup', { where: (m) => m.call === 'in-4' })).msg.call, 'in-4', 'the unusable call is declined');
  assert.equal(await inPage(() => t.incoming.endInfo.by), 'local');
});

test('a dropped socket is resumed: kept calls go on, the others end; a refused resume starts a new session and registers again', async () => {
  await inPage(() => {
    t.kept = null;
    t.client.once('call', (call) => (t.kept = call));
    t.client.call('600');
  });
  const kept = await gw.next('call');
  kept.ok();
  gw.send({ type: 'answered', call: kept.msg.call, sdp: answerFor(kept.msg.sdp) });
  await inPage(() => {
    t.client.once('call', (call) => (t.lost = call));
    t.client.call('601');
  });
  const lost = await gw.next('call');
  lost.ok();
  await until(() => t.kept.state === 'in-call' && t.lost.state === 'calling');
  const session = gw.latest.session;

  gw.clear();
  await inPage(() => {
    t.states.length = 0;
    t.client.once('connected', (hello, info) => (t.resumed = info.resumed));
  });
  gw.keptCalls = [kept.msg.call];
  gw.latest.drop();
  const hello = await gw.next('hello');
  assert.equal(hello.msg.token, 'good');
  assert.match(hello.msg.resume, new RegExp(`^r-${session}-`));
  await until(() => t.resumed === true);
  assert.deepEqual(await inPage(() => [t.states, t.kept.state, t.lost.state, t.lost.endInfo.code]), [
    ['reconnecting', 'connected'],
    'in-call',
    'ended',
    'disconnected',
  ]);

  await inPage(() => {
    t.registrations.length = 0;
    t.client.once('connected', (hello, info) => (t.resumed = info.resumed));
  });
  gw.forgetSessions();
  gw.latest.drop();
  const refused = await gw.next('hello');
  assert.ok(refused.msg.resume, 'tries to resume first');
  const fresh = await gw.next('hello');
  assert.equal(fresh.msg.resume, undefined, 'then says hello afresh');
  await until(() => t.resumed === false);
  const register = await gw.next('register');
  assert.equal(register.msg.user, '1001');
  register.ok();
  await until(() => t.client.registration.state === 'registered');
  assert.deepEqual(await inPage(() => [t.kept.state, t.kept.endInfo.code, t.registrations]), [
    'ended',
    'disconnected',
    ['unregistered', 'registered'],
  ]);
});

test('a refused token is final: connect() rejects and nothing retries', async () => {
  const before = gw.connections.length;
  const result = await inPage(() => {
    const intruder = new sbc.SbcClient({ token: 'bad', reconnectMinMs: 10 });
    return intruder.connect().then(() => null, (e) => [e.code, intruder.state]);
  });
  assert.deepEqual(result, ['unauthorized', 'disconnected']);
  await sleep(300);
  assert.equal(gw.connections.length, before + 1);
});

test('disconnect() ends the session for good', async () => {
  await inPage(() => t.client.disconnect());
  const connections = gw.connections.length;
  await sleep(300);
  assert.equal(gw.connections.length, connections);
  assert.equal(await inPage(() => t.client.state), 'disconnected');
});

test('every frame matched the schema, and the page threw nothing', () => {
  assert.deepEqual(gw.violations, []);
  assert.deepEqual(pageErrors.map(String), []);
});
