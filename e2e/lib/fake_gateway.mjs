// A scripted stand-in for the gateway's browser side, to test the web client
// without the gateway. On 127.0.0.1 it serves the files of web-client/ over
// HTTP (a loopback page is a secure context, so getUserMedia works) and
// accepts WebSockets on /ws. It answers `hello` and `ping` by itself and
// queues every other frame for the test, which reads them with `next()` and
// answers or emits events as its scenario needs. Every frame, in both
// directions, is checked against docs/protocol.schema.json; failures are
// collected in `violations`.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';
import { WebSocketServer } from 'ws';
import { describeErrors, protocolValidators } from './schema.mjs';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

/**
 * One browser socket.
 */
class Connection {
  /** @param {FakeGateway} gateway @param {import('ws').WebSocket} ws */
  constructor(gateway, ws) {
    this.gateway = gateway;
    this.ws = ws;
    /** @type {string|null} the session this socket says hello to */
    this.session = null;
  }

  /** Sends a gateway → browser message (checked against the schema). */
  send(msg) {
    this.gateway.check('gateway', msg);
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }

  /** Drops the socket without a closing handshake, as a dead network would. */
  drop() {
    this.ws.terminate();
  }
}

/**
 * A frame received from the browser, with the means to answer it.
 */
class Received {
  /** @param {Connection} conn @param {object} msg */
  constructor(conn, msg) {
    this.conn = conn;
    this.msg = msg;
  }

  /** Answers with `ok` plus `fields`. */
  ok(fields = {}) {
    this.conn.send({ type: 'ok', id: this.msg.id, ...fields });
  }

  /** Answers with an `error`. */
  error(code, message, fields = {}) {
    this.conn.send({ type: 'error', id: this.msg.id, code, message, ...fields });
  }
}

export class FakeGateway {
  /** @type {Connection[]} every socket, oldest first */
  connections = [];
  /** @type {Array<{direction: string, msg: unknown, errors: string}>} */
  violations = [];
  /** @type {string|undefined} when set, `hello` must carry this token */
  token;
  /** @type {RTCIceServer[]} what `hello` is answered with */
  iceServers = [];
  /** @type {string[]} the calls a resumed session lists as kept */
  keptCalls = [];
  /** @type {Received[]} frames not yet taken by `next` */
  #inbox = [];
  /** @type {Array<{match: (r: Received) => boolean, resolve: Function}>} */
  #waiters = [];
  /** @type {Map<string, string>} resume token → session */
  #sessions = new Map();
  #sessionSeq = 0;
  #validators = protocolValidators();

  /** @param {string} root the folder whose files are served */
  constructor(root) {
    this.root = root;
    this.files = new Set(readdirSync(root));
    this.http = createServer((req, res) => this.#serve(req, res));
    this.wss = new WebSocketServer({ server: this.http, path: '/ws' });
    this.wss.on('connection', (ws) => this.#accept(ws));
  }

  /** @returns {string} e.g. `http://127.0.0.1:40123` */
  get origin() {
    return `http://127.0.0.1:${this.http.address().port}`;
  }

  /** @returns {Connection|undefined} the newest socket still open */
  get latest() {
    return this.connections.findLast((conn) => conn.ws.readyState === conn.ws.OPEN);
  }

  /** Sends an event on the newest socket. */
  send(msg) {
    this.latest.send(msg);
  }

  /**
   * The next frame of `type` from the browser (oldest first), waiting for it.
   * @param {string} type
   * @param {{where?: (msg: object) => boolean, timeoutMs?: number}} [options]
   * @returns {Promise<Received>}
   */
  next(type, { where = () => true, timeoutMs = 5000 } = {}) {
    const match = (r) => r.msg.type === type && where(r.msg);
    const index = this.#inbox.findIndex(match);
    if (index >= 0) return Promise.resolve(this.#inbox.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve };
      this.#waiters.push(waiter);
      setTimeout(() => {
        if (!this.#waiters.includes(waiter)) return;
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no ${type} frame from the browser within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  /**
   * The frames of `type` received and not yet taken.
   * @param {string} type
   * @returns {object[]}
   */
  pending(type) {
    return this.#inbox.filter((r) => r.msg.type === type).map((r) => r.msg);
  }

  /** Forgets the frames not yet taken by `next`. */
  clear() {
    this.#inbox.length = 0;
  }

  /** Forgets every session, so that no resume succeeds. */
  forgetSessions() {
    this.#sessions.clear();
  }

  /** Checks a message against the schema of its direction. */
  check(direction, msg) {
    const validate = direction === 'gateway' ? this.#validators.gateway : this.#validators.client;
    if (!validate(msg)) this.violations.push({ direction, msg, errors: describeErrors(validate.errors) });
  }

  /** @returns {Promise<void>} */
  listen() {
    return new Promise((resolve) => this.http.listen(0, '127.0.0.1', resolve));
  }

  /** @returns {Promise<void>} */
  close() {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    return new Promise((resolve) => this.http.close(() => resolve()));
  }

  #serve(req, res) {
    const path = new URL(req.url, 'http://x').pathname;
    const name = path === '/' ? 'index.html' : path.slice(1);
    if (name === 'blank.html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>blank</title>');
    } else if (this.files.has(name)) {
      const type = TYPES[extname(name)] ?? 'application/octet-stream';
      res.writeHead(200, { 'content-type': type }).end(readFileSync(join(this.root, name)));
    } else {
      res.writeHead(404).end();
    }
  }

  #accept(ws) {
    const conn = new Connection(this, ws);
    this.connections.push(conn);
    ws.on('message', (data, binary) => {
      let msg;
      try {
        msg = binary ? undefined : JSON.parse(data.toString());
      } catch {
        msg = undefined;
      }
      if (msg === undefined) {
        this.violations.push({ direction: 'client', msg: data.toString(), errors: 'not a JSON text frame' });
        return;
      }
      this.check('client', msg);
      this.#receive(new Received(conn, msg));
    });
  }

  #receive(received) {
    const { msg } = received;
    if (msg.type === 'hello') this.#hello(received);
    if (msg.type === 'ping') received.ok();
    const waiter = this.#waiters.find((w) => w.match(received));
    if (waiter) {
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve(received);
    } else {
      this.#inbox.push(received);
    }
  }

  #hello(received) {
    const { msg, conn } = received;
    if (this.token !== undefined && msg.token !== this.token) {
      received.error('unauthorized', 'missing or invalid token');
      conn.ws.close(1008, 'unauthorized');
      return;
    }
    let session;
    if (msg.resume !== undefined) {
      session = this.#sessions.get(msg.resume);
      this.#sessions.delete(msg.resume);
      if (!session) {
        received.error('bad_request', 'this session cannot be resumed');
        return;
      }
    }
    const resumed = session !== undefined;
    session ??= `s${++this.#sessionSeq}`;
    const resumeToken = `r-${session}-${Math.random().toString(36).slice(2)}`;
    this.#sessions.set(resumeToken, session);
    conn.session = session;
    received.ok({
      session,
      resume_token: resumeToken,
      version: 1,
      ice_servers: this.iceServers,
      ...(resumed ? { calls: this.keptCalls.map((call) => ({ call })) } : {}),
    });
  }
}

/**
 * Starts a fake gateway serving `root` on an ephemeral port of 127.0.0.1.
 * @param {string} root
 * @returns {Promise<FakeGateway>}
 */
export async function startFakeGateway(root) {
  const gateway = new FakeGateway(root);
  await gateway.listen();
  return gateway;
}
