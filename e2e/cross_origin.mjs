// A page of another origin imports the gateway's sbc-client.js as an ES
// module (a CORS request) and opens a session with it:
//   node cross_origin.mjs --url https://127.0.0.1:8443/healthz
// Prints one JSON line; exit 0 when the import and the session worked.
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launch } from './lib/chromium.mjs';
import { writeToneWav } from './lib/tone.mjs';

const { values } = parseArgs({ options: { url: { type: 'string' } } });
const gateway = new URL(values.url);
const origin = `https://${gateway.host}`;
const page = `<!doctype html><meta charset="utf-8"><title>elsewhere</title>
<script type="module">
  try {
    const { SbcClient } = await import('${origin}/sbc-client.js');
    const client = new SbcClient({ url: 'wss://${gateway.host}/ws' });
    const hello = await client.connect();
    window.result = { imported: true, session: client.session ?? hello?.session ?? null };
    client.disconnect();
  } catch (e) {
    window.result = { imported: false, error: String(e) };
  }
</script>`;
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(page);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const elsewhere = `http://127.0.0.1:${server.address().port}/`;

const wav = join(mkdtempSync(join(tmpdir(), 'sbc-tone-')), 'tone.wav');
writeToneWav(wav, 440, { seconds: 1 });
const browser = await launch({ micWav: wav });
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const tab = await context.newPage();
  await tab.goto(elsewhere);
  await tab.waitForFunction(() => window.result !== undefined, null, { timeout: 15000 });
  const result = await tab.evaluate(() => window.result);
  const ok = result.imported === true && Boolean(result.session);
  console.log(JSON.stringify({ test: 'cross_origin', page: elsewhere, ...result, ok }));
  process.exitCode = ok ? 0 : 1;
} finally {
  await browser.close();
  server.close();
}
