// Tries to place a call over `/ws` without a browser (Node's `ws`) and
// prints the gateway's answer to the `call` request as one JSON line; exits
// non-zero unless its `code` is `--expect` (e.g. `overloaded` while the
// gateway drains).
//
//   node ws_try_call.mjs --url wss://127.0.0.1:8443/ws --expect overloaded
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({ options: { url: { type: 'string' }, expect: { type: 'string' } } });
const ws = new WebSocket(values.url, { rejectUnauthorized: false });
const frames = [];
const next = (id) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer to ${id}`)), 10000);
    t.unref();
    const check = () => {
      const f = frames.find((x) => x.id === id);
      if (f) {
        clearTimeout(t);
        resolve(f);
      } else setTimeout(check, 20).unref();
    };
    check();
  });
ws.on('message', (d) => frames.push(JSON.parse(String(d))));
await new Promise((resolve, reject) => ws.on('open', resolve).on('error', reject));
ws.send(JSON.stringify({ type: 'hello', id: 1 }));
await next(1);
ws.send(JSON.stringify({ type: 'call', id: 2, call: 'c1', to: '600', sdp: 'v=0' }));
const answer = await next(2);
const ok = answer.code === values.expect;
console.log(JSON.stringify({ test: 'ws_try_call', answer, ok }));
ws.close();
process.exitCode = ok ? 0 : 1;
