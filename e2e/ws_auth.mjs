// Authentication on `/ws` without a browser (Node's `ws`): a `hello`
// without a token and one with a wrong token each get `unauthorized` and a
// socket closed with 1008; a `hello` with `--token` gets `ok`. Prints one JSON line;
// exits non-zero on any deviation.
//
//   node ws_auth.mjs --url wss://127.0.0.1:8443/ws --token <valid token>
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({ options: { url: { type: 'string' }, token: { type: 'string' } } });

/** Says hello with `token` (or none); resolves to the answer and whether the socket closed. */
function hello(token) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(values.url, { rejectUnauthorized: false });
    let answer;
    const timer = setTimeout(() => reject(new Error('no answer')), 10000);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', id: 1, ...(token ? { token } : {}) })));
    ws.on('message', (data) => {
      answer = JSON.parse(String(data));
      if (answer.type === 'ok') {
        clearTimeout(timer);
        ws.close();
        resolve({ answer, closedByGateway: false });
      }
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve({ answer, closedByGateway: answer?.type !== 'ok', code });
    });
    ws.on('error', reject);
  });
}

const missing = await hello(undefined);
const wrong = await hello('eyJzdWIiOiJ4IiwiZXhwIjo5OTk5OTk5OTk5fQ.AAAA');
const valid = await hello(values.token);
// Closed by the gateway with 1008 (policy violation), after the error.
const refused = (r) =>
  r.answer?.type === 'error' && r.answer.code === 'unauthorized' && r.closedByGateway && r.code === 1008;
const ok = refused(missing) && refused(wrong) && valid.answer?.type === 'ok';
console.log(JSON.stringify({ test: 'ws_auth', missing, wrong, valid: valid.answer?.type, ok }));
process.exitCode = ok ? 0 : 1;
