// The microphone, as 16 kHz pcm16 chunks from an AudioWorklet (pcm-capture-worklet.js), and the
// one AudioContext that both records and plays the answers.

const WORKLET_URL = "/static/pcm-capture-worklet.js";
export const RATE = 16000; // what the server takes: 16-bit mono PCM at 16 kHz
const CHUNK_MS = 100;
// A chunk is speech when louder than this (RMS; about -30 dBFS, well over a quiet room once the
// browser's echo cancellation has taken the answer's own sound out).
const SPEECH_LEVEL = 0.03;

export function isSpeech(level) {
  return level > SPEECH_LEVEL;
}

export function createAudio() {
  let context = null;
  let worklet = null; // the promise of the capture worklet's module, per context

  function audioContext() {
    if (!context || context.state === "closed") {
      context = new AudioContext({ latencyHint: "interactive" });
      worklet = null;
    }
    return context;
  }

  return {
    context: audioContext,
    time: () => context?.currentTime ?? 0, // seconds the audio context has played

    // {stream, source, node}: the node's port posts {type: "chunk", pcm, level} once the source
    // is connected to it.
    async openMicrophone() {
      // The worklet first, so that nothing said once the microphone is on is lost.
      const current = audioContext();
      worklet ||= current.audioWorklet.addModule(WORKLET_URL).catch((error) => {
        worklet = null; // tried again on the next press
        throw error;
      });
      await worklet;
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      try {
        const source = current.createMediaStreamSource(stream);
        const node = new AudioWorkletNode(current, "pcm-capture", {
          numberOfInputs: 1,
          numberOfOutputs: 0,
          channelCountMode: "explicit",
          channelCount: 1,
          processorOptions: { targetRate: RATE, chunkMs: CHUNK_MS },
        });
        return { stream, source, node };
      } catch (error) {
        stopTracks(stream); // or the browser shows it still in use
        throw error;
      }
    },
  };
}

export function closeMicrophone({ stream, source, node }) {
  source.disconnect();
  node.port.onmessage = null;
  node.port.postMessage("stop");
  stopTracks(stream);
}

export function stopTracks(stream) {
  for (const track of stream.getTracks()) track.stop();
}

export function microphoneError(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Microphone access was denied. Allow it for this site in the browser's settings, then try again.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No microphone was found. Connect one, then try again.";
    case "NotReadableError":
      return "The microphone is in use by another application, or cannot be read.";
    default:
      return `Could not start recording: ${error?.message || error}`;
  }
}
