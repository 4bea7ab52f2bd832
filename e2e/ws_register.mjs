// Registration over protocol v1, without a browser: a Node WebSocket (`ws`)
// says `hello`, sends `register` for `--user` with `--password`, and expects
// either `ok` and a `registration` event `registered` (then, after
// `--hold-seconds`, `unregister` → `ok` and `unregistered`), or with
// `--expect-fail STATUS` an `error` `registration_failed` carrying that
// `sip_status` and a `registration` event `failed`. Prints one JSON line;
// exits non-zero on any deviation.
//
//   node ws_register.mjs --url wss://127.0.0.1:8443/ws --user alice --password wonderland
//        [--hold-seconds 5] [--expect-fail 403]
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    user: { type: 'string' },
    password: { type: 'string' },
    'hold-seconds': { type: 'string', default: '5' },
    'expect-fail': { type: 'string' },
  },
});
const ws = new WebSocket(values.url, { rejectUnauthorized: false });
const frames = [];
const waiters = [];
ws.on('message', (data) => {
  const f = JSON.parse(String(data));
  frames.push(f);
  for (const w of [...waiters]) if (w.match(f)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(f);
});
const next = (match, ms = 15000) =>
  new Promise((resolve, reject) => {
    const found = frames.find(match);
    if (found) return resolve(found);
    waiters.push({ match, resolve });
    setTimeout(() => reject(new Error(`timeout; frames ${JSON.stringify(frames)}`)), ms).unref();
  });
await new Promise((resolve, reject) => ws.on('open', resolve).on('error', reject));
let id = 0;
const request = async (frame) => {
  const n = ++id;
  ws.send(JSON.stringify({ ...frame, id: n }));
  return next((f) => f.id === n);
};
let ok;
await request({ type: 'hello' });
const reg = await request({ type: 'register', user: values.user, password: values.password, expires: 60 });
if (values['expect-fail']) {
  const status = Number(values['expect-fail']);
  const event = await next((f) => f.type === 'registration');
  ok = reg.type === 'error' && reg.code === 'registration_failed' && reg.sip_status === status && event.state === 'failed';
} else {
  const registered = await next((f) => f.type === 'registration');
  await new Promise((r) => setTimeout(r, Number(values['hold-seconds']) * 1000));
  const stillOk = !frames.some((f) => f.type === 'registration' && f.state !== 'registered');
  const unreg = await request({ type: 'unregister' });
  const gone = await next((f) => f.type === 'registration' && f.state === 'unregistered');
  ok = reg.type === 'ok' && registered.state === 'registered' && stillOk && unreg.type === 'ok' && Boolean(gone);
}
console.log(JSON.stringify({ test: 'ws_register', frames: frames.map((f) => f.type + (f.state ? `:${f.state}` : '') + (f.code ? `:${f.code}` : '')), ok }));
ws.close();
process.exitCode = ok ? 0 : 1;
