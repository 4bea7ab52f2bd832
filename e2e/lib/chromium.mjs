// Launches Debian's headless Chromium through playwright-core with the flags
// WebRTC on loopback needs (chrome-flags.json: loopback candidates, no mDNS
// host hiding, no lookups of outside hosts) and a fake microphone playing a
// WAV file. No browser is downloaded: the executable is the system one.
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const EXECUTABLE = process.env.CHROMIUM || '/usr/lib/chromium/chromium';

/**
 * @param {{micWav: string}} options the WAV file the fake microphone plays
 * @returns {Promise<import('playwright-core').Browser>}
 */
export async function launch({ micWav }) {
  const flags = JSON.parse(readFileSync(join(here, '..', 'chrome-flags.json'), 'utf8'));
  return chromium.launch({
    executablePath: EXECUTABLE,
    headless: true,
    args: [
      ...flags,
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${micWav}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}
