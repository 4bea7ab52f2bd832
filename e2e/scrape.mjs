// Prints the gateway's `/metrics` (HTTPS, the gateway's self-signed
// certificate accepted): `node scrape.mjs https://127.0.0.1:8443/metrics`.
import https from 'node:https';

const url = process.argv[2];
if (!url) throw new Error('usage: node scrape.mjs URL');
https
  .get(url, { rejectUnauthorized: false }, (res) => {
    if (res.statusCode !== 200) {
      console.error(`HTTP ${res.statusCode}`);
      process.exitCode = 1;
    }
    res.pipe(process.stdout);
  })
  .on('error', (e) => {
    console.error(e.message);
    process.exitCode = 1;
  });
