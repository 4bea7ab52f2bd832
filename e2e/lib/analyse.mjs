// Page-side audio analysis, injected with page.evaluate: the dominant
// frequency and level of a MediaStream, measured with WebAudio's FFT.
// Playwright starts Chromium with --mute-audio, which silences speakers but
// not an AnalyserNode fed from the stream itself.

/**
 * Runs in the page. Resolves to {frequency, level} averaged over
 * `millis` of the stream's first audio track.
 * @param {MediaStream} stream
 * @param {number} millis
 */
export async function dominantFrequency(stream, millis) {
  const ctx = new AudioContext();
  await ctx.resume();
  const source = ctx.createMediaStreamSource(stream);
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 8192;
  source.connect(analyser);
  const bins = new Float32Array(analyser.frequencyBinCount);
  const sum = new Float64Array(analyser.frequencyBinCount);
  let frames = 0;
  const end = performance.now() + millis;
  while (performance.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    analyser.getFloatFrequencyData(bins);
    for (let i = 0; i < bins.length; i++) sum[i] += Math.pow(10, bins[i] / 10);
    frames++;
  }
  let best = 1;
  for (let i = 2; i < sum.length; i++) if (sum[i] > sum[best]) best = i;
  const frequency = (best * ctx.sampleRate) / analyser.fftSize;
  const level = 10 * Math.log10(sum[best] / Math.max(frames, 1));
  await ctx.close();
  return { frequency, level };
}
