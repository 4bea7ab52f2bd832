// One HTTPS request to the gateway (its self-signed certificate accepted),
// printed as one JSON line {"status": …, "body": …}:
//   node http.mjs GET https://127.0.0.1:8443/admin/calls [bearer-token]
import https from 'node:https';

const [method, url, token] = process.argv.slice(2);
if (!method || !url) throw new Error('usage: node http.mjs METHOD URL [TOKEN]');
const headers = token ? { authorization: `Bearer ${token}` } : {};
const req = https.request(url, { method, headers, rejectUnauthorized: false }, (res) => {
  let body = '';
  res.on('data', (d) => (body += d));
  res.on('end', () => {
    let parsed = body;
    try {
      parsed = JSON.parse(body);
    } catch {
      // not JSON: keep the text
    }
    console.log(JSON.stringify({ status: res.statusCode, body: parsed }));
  });
});
req.on('error', (e) => {
  console.error(e.message);
  process.exitCode = 1;
});
req.end();
