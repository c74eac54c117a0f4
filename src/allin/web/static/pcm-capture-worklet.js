// The microphone's audio, on the audio thread, as the chat socket wants it: mono, 16 kHz, 16-bit
// signed PCM, posted to the page in chunks of about 100 ms with their loudness (RMS, 0..1).
//
// Messages from the page: "flush" posts what is buffered now, then {type: "flushed"}; "stop" ends
// the processor. Messages to the page: {type: "chunk", pcm: ArrayBuffer, level}, {type: "flushed"}.

class PcmCaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const { targetRate = 16000, chunkMs = 100 } = options.processorOptions || {};
    // `sampleRate` is the context's rate (a global of the worklet scope): usually 48 or 44.1 kHz.
    this.ratio = sampleRate / targetRate; // input samples per output sample
    this.chunk = new Int16Array(Math.round((targetRate * chunkMs) / 1000));
    this.filled = 0;
    this.squares = 0;
    // Downsampling averages the input over each output sample's window ("integrate and dump"), a
    // simple low-pass that keeps speech clear; a window may straddle two input samples.
    this.sum = 0;
    this.weight = 0;
    this.remaining = this.ratio; // input samples still to take into the current output sample
    // Upsampling (a context slower than 16 kHz, rare) interpolates linearly instead.
    this.position = 0;
    this.previous = 0;
    this.stopped = false;
    this.port.onmessage = (event) => {
      if (event.data === "flush") {
        this.post();
        this.port.postMessage({ type: "flushed" });
      } else if (event.data === "stop") {
        this.stopped = true;
      }
    };
  }

  process(inputs) {
    if (this.stopped) return false;
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true; // no input connected (yet)
    const frames = channels[0].length;
    for (let i = 0; i < frames; i += 1) {
      let sample = 0;
      for (const channel of channels) sample += channel[i];
      this.take(sample / channels.length);
    }
    return true;
  }

  take(sample) {
    if (this.ratio < 1) {
      // Output samples fall at `position` (in input samples) between `previous` and `sample`.
      while (this.position <= 1) {
        this.emit(this.previous + (sample - this.previous) * this.position);
        this.position += this.ratio;
      }
      this.position -= 1;
      this.previous = sample;
      return;
    }
    if (this.remaining > 1) {
      this.sum += sample;
      this.weight += 1;
      this.remaining -= 1;
      return;
    }
    const part = this.remaining;
    this.emit((this.sum + sample * part) / (this.weight + part));
    const rest = 1 - part;
    this.sum = sample * rest;
    this.weight = rest;
    this.remaining = this.ratio - rest;
  }

  emit(value) {
    const clipped = Math.max(-1, Math.min(1, value));
    this.chunk[this.filled] = clipped < 0 ? clipped * 0x8000 : clipped * 0x7fff;
    this.squares += clipped * clipped;
    this.filled += 1;
    if (this.filled === this.chunk.length) this.post();
  }

  post() {
    if (this.filled === 0) return;
    const pcm = this.chunk.slice(0, this.filled).buffer;
    const level = Math.sqrt(this.squares / this.filled);
    this.port.postMessage({ type: "chunk", pcm, level }, [pcm]);
    this.filled = 0;
    this.squares = 0;
  }
}

registerProcessor("pcm-capture", PcmCaptureProcessor);
