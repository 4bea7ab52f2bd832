// Writes a mono 16-bit PCM WAV file holding a pure sine tone: what the
// fake microphone of Chromium plays (--use-file-for-fake-audio-capture).
import { writeFileSync } from 'node:fs';

/**
 * @param {string} path where to write the WAV file
 * @param {number} frequency tone frequency in Hz
 * @param {{seconds?: number, rate?: number, amplitude?: number}} [options]
 */
export function writeToneWav(path, frequency, { seconds = 10, rate = 48000, amplitude = 0.5 } = {}) {
  const samples = Math.round(seconds * rate);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    const v = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * frequency * i) / rate));
    data.writeInt16LE(v, i * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16); // PCM chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([header, data]));
}
