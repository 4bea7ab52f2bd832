// The protocol's documentation and its JSON Schema agree:
// - every message in a ```json block of docs/protocol.md is valid;
// - every message the schema defines has at least one example there;
// - every error code of the schema is described there;
// - messages that break the protocol are rejected, and unknown fields are
//   accepted.
//
//   node protocol_schema.test.mjs      (exits non-zero on failure)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeErrors, protocolValidators } from './lib/schema.mjs';

const DOC = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'protocol.md');
const markdown = readFileSync(DOC, 'utf8');
const validators = protocolValidators();
const { schema } = validators;

/**
 * The ```json blocks of a Markdown text.
 * @returns {Array<{line: number, text: string}>}
 */
function jsonBlocks(text) {
  const blocks = [];
  const fence = /^```json[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (const m of text.matchAll(fence)) {
    blocks.push({ line: text.slice(0, m.index).split('\n').length + 1, text: m[1] });
  }
  return blocks;
}

/**
 * Splits a block into its JSON values: one or more, separated by
 * whitespace (each may span several lines).
 * @returns {string[]}
 */
function jsonValues(block) {
  const values = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < block.length; i++) {
    const c = block[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '{' || c === '[') {
      if (depth++ === 0) start = i;
    } else if (c === '}' || c === ']') {
      if (--depth === 0) values.push(block.slice(start, i + 1));
    } else if (depth === 0 && !/\s/.test(c)) {
      throw new Error(`text outside a JSON value: ${JSON.stringify(block.slice(i, i + 20))}`);
    }
  }
  if (depth !== 0 || inString) throw new Error('unterminated JSON value');
  return values;
}

const examples = jsonBlocks(markdown).flatMap(({ line, text }) =>
  jsonValues(text).map((json) => ({ line, message: JSON.parse(json) })),
);

/** The `$defs` names of every message, by direction. */
function messageDefs(direction) {
  return schema.$defs[direction].oneOf.map(({ $ref }) => $ref.replace('#/$defs/', ''));
}

test('docs/protocol.md has examples', () => {
  assert.ok(examples.length >= 40, `only ${examples.length} example messages`);
});

test('every example message is valid', () => {
  const invalid = examples
    .filter(({ message }) => !validators.any(message))
    .map(({ line, message }) => {
      validators.any(message);
      return `block at line ${line}: ${JSON.stringify(message).slice(0, 100)}\n${describeErrors(validators.any.errors)}`;
    });
  assert.deepEqual(invalid, []);
});

test('every message type has an example', () => {
  for (const direction of ['clientMessage', 'gatewayMessage']) {
    for (const name of messageDefs(direction)) {
      const validate = validators.def(name);
      assert.ok(examples.some(({ message }) => validate(message)), `no example of ${direction} ${name}`);
    }
  }
});

test('every error code is described', () => {
  for (const code of schema.$defs.error.properties.code.enum) {
    assert.match(markdown, new RegExp(`^\\| \`${code}\` \\|`, 'm'), `error code ${code} is not in the table`);
  }
});

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

test('messages that break the protocol are rejected', async (t) => {
  const cases = {
    'not an object': ['hello'],
    'null': null,
    'no type': { id: 1 },
    'type not a string': { type: 1, id: 1 },
    'unknown type': { type: 'conference', id: 1 },
    'request without id': { type: 'hello' },
    'id neither string nor number': { type: 'ping', id: { n: 1 } },
    'id boolean': { type: 'ping', id: true },
    'hello with a numeric token': { type: 'hello', id: 1, token: 42 },
    'hello with an empty resume': { type: 'hello', id: 1, resume: '' },
    'register without user': { type: 'register', id: 2, password: 'x' },
    'register with an empty user': { type: 'register', id: 2, user: '' },
    'register expires 0': { type: 'register', id: 2, user: '1001', expires: 0 },
    'register expires under a minute': { type: 'register', id: 2, user: '1001', expires: 59 },
    'register expires over a day': { type: 'register', id: 2, user: '1001', expires: 86401 },
    'register with a user of 65 characters': { type: 'register', id: 2, user: '1'.repeat(65) },
    'register expires as a string': { type: 'register', id: 2, user: '1001', expires: '600' },
    'call without sdp': { type: 'call', id: 4, call: 'c1', to: '600' },
    'call without to': { type: 'call', id: 4, call: 'c1', sdp: SDP },
    'call without a call name': { type: 'call', id: 4, to: '600', sdp: SDP },
    'call with an empty call name': { type: 'call', id: 4, call: '', to: '600', sdp: SDP },
    'call with a call name of 65 characters': { type: 'call', id: 4, call: 'c'.repeat(65), to: '600', sdp: SDP },
    'call with an empty sdp': { type: 'call', id: 4, call: 'c1', to: '600', sdp: '' },
    'call with a numeric header value': { type: 'call', id: 4, call: 'c1', to: '600', sdp: SDP, headers: { 'X-A': 1 } },
    'call with a header name holding a colon': { type: 'call', id: 4, call: 'c1', to: '600', sdp: SDP, headers: { 'X-A:': 'b' } },
    'call with headers as a list': { type: 'call', id: 4, call: 'c1', to: '600', sdp: SDP, headers: ['X-A: b'] },
    'answer without sdp': { type: 'answer', id: 5, call: 'in-7' },
    'ringing without call': { type: 'ringing', id: 6 },
    'reject with a 2xx code': { type: 'reject', id: 7, call: 'in-7', code: 200 },
    'reject with a code as a string': { type: 'reject', id: 7, call: 'in-7', code: '486' },
    'hangup with a numeric call name': { type: 'hangup', id: 8, call: 1 },
    'dtmf with a digit that is not DTMF': { type: 'dtmf', id: 9, call: 'c1', digits: '12x' },
    'dtmf with no digits': { type: 'dtmf', id: 9, call: 'c1', digits: '' },
    'dtmf with a negative duration': { type: 'dtmf', id: 9, call: 'c1', digits: '1', duration_ms: -5 },
    'dtmf shorter than 40 ms': { type: 'dtmf', id: 9, call: 'c1', digits: '1', duration_ms: 39 },
    'dtmf longer than 5 s': { type: 'dtmf', id: 9, call: 'c1', digits: '1', duration_ms: 5001 },
    'dtmf with 33 digits': { type: 'dtmf', id: 9, call: 'c1', digits: '1'.repeat(33) },
    'hold without id': { type: 'hold', call: 'c1' },
    'transfer without to': { type: 'transfer', id: 11, call: 'c1' },
    'sdp without sdp': { type: 'sdp', id: 12, call: 'c1' },
    'candidate without call': { type: 'candidate', candidate: null },
    'candidate without candidate': { type: 'candidate', call: 'c1' },
    'candidate as a bare string': { type: 'candidate', call: 'c1', candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host' },
    'candidate object without its candidate line': { type: 'candidate', call: 'c1', candidate: { sdpMid: '0' } },
    'candidate with a negative m-line index': { type: 'candidate', call: 'c1', candidate: { candidate: '', sdpMLineIndex: -1 } },
    'ok without id': { type: 'ok' },
    'ok of another version': { type: 'ok', id: 1, session: 's', resume_token: 'r', version: 2, ice_servers: [] },
    'ok with an ICE server without urls': { type: 'ok', id: 1, ice_servers: [{ username: 'u', credential: 'c' }] },
    'ok listing kept calls as bare names': { type: 'ok', id: 1, calls: ['c1'] },
    'error without code': { type: 'error', id: 1, message: 'x' },
    'error with an unknown code': { type: 'error', id: 1, code: 'teapot', message: 'x' },
    'error without message': { type: 'error', id: 1, code: 'internal' },
    'error with a SIP status out of range': { type: 'error', id: 1, code: 'registration_failed', message: 'x', sip_status: 99 },
    'registration in an unknown state': { type: 'registration', state: 'pending' },
    'incoming without sdp': { type: 'incoming', call: 'in-7', from: 'sip:1002@pbx', to: '1001' },
    'incoming without from': { type: 'incoming', call: 'in-7', to: '1001', sdp: SDP },
    'progress with a final status': { type: 'progress', call: 'c1', sip_status: 200 },
    'progress without status': { type: 'progress', call: 'c1' },
    'progress 100 Trying': { type: 'progress', call: 'c1', sip_status: 100 },
    'answered without call': { type: 'answered', sdp: SDP },
    'ended by someone unknown': { type: 'ended', call: 'c1', by: 'pbx', reason: 'x' },
    'ended without reason': { type: 'ended', call: 'c1', by: 'remote' },
    'held by the gateway': { type: 'held', call: 'c1', by: 'gateway' },
    'resumed without by': { type: 'resumed', call: 'c1' },
    'dtmf event with two digits': { type: 'dtmf', call: 'c1', digit: '55', duration_ms: 120 },
    'dtmf event without duration': { type: 'dtmf', call: 'c1', digit: '5' },
    'quality with a loss above 1': { type: 'quality', call: 'c1', rtt_ms: 20, jitter_ms: 1, loss: 1.5, mos: 4 },
    'quality with a MOS of 0': { type: 'quality', call: 'c1', rtt_ms: 20, jitter_ms: 1, loss: 0, mos: 0 },
    'quality without jitter': { type: 'quality', call: 'c1', rtt_ms: 1, loss: 0, mos: 4 },
  };
  for (const [name, message] of Object.entries(cases)) {
    await t.test(name, () => assert.equal(validators.any(message), false, `accepted: ${JSON.stringify(message)}`));
  }
});

test('unknown fields are accepted, and optional fields may be left out', async (t) => {
  const cases = {
    'a request with an extra field': { type: 'hangup', id: 8, call: 'c1', reason: 'user left', x: { y: 1 } },
    'an event with an extra field': { type: 'ended', call: 'c1', by: 'remote', reason: 'Busy Here', cause_q850: 17 },
    'an ok with an extra field': { type: 'ok', id: 'a-1', server_time: 1732180000 },
    'a string id': { type: 'ping', id: 'p-1' },
    'hello without token or resume': { type: 'hello', id: 0 },
    'ICE server urls as one string': { type: 'ok', id: 1, ice_servers: [{ urls: 'stun:stun.example.net' }] },
    'an error answering no request': { type: 'error', id: null, code: 'bad_request', message: 'not JSON' },
    'a candidate as RTCIceCandidate.toJSON() gives it': {
      type: 'candidate',
      call: 'c1',
      candidate: { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd' },
    },
    'lower-case DTMF letters': { type: 'dtmf', id: 9, call: 'c1', digits: 'abcd' },
    'progress with another 18x status': { type: 'progress', call: 'c1', sip_status: 181 },
    'the longest call name and DTMF request': { type: 'dtmf', id: 9, call: 'c'.repeat(64), digits: '1'.repeat(32), duration_ms: 5000 },
  };
  for (const [name, message] of Object.entries(cases)) {
    await t.test(name, () => assert.ok(validators.any(message), describeErrors(validators.any.errors)));
  }
});
