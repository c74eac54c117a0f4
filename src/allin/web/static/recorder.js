// Recording a question: the microphone's chunks go out as binary frames on the chat's WebSocket
// between `audio_start` and `audio_end`. A recording ends with a second press, after the longest
// the server takes, or (hands-free) once the speaker has been quiet for a second.
import { closeMicrophone, isSpeech, microphoneError, RATE, stopTracks } from "/static/microphone.js";

const MAX_RECORDING_MS = 55_000; // the server's default limit is 60 s
const FLUSH_TIMEOUT_MS = 500;
// Errors that follow a failed recording (its frames still in flight) are not news.
const AFTERMATH_MS = 1500;
const END_QUIET_CHUNKS = 10; // a second of quiet after speech ends a hands-free recording
export const DROPPED = "The connection dropped while recording, so the recording was lost. Please try again.";

class Cancelled extends Error {}

// hooks: {socket(), handsFree(), playing(), bargeIn()}
export function createRecorder({ audio, panel, stats, hooks }) {
  let capture = null; // {stream, source, node, socket, samples, flushTimer, heard, quiet}
  let aftermathUntil = 0;

  async function start() {
    panel.clearError();
    if (!navigator.mediaDevices?.getUserMedia || !window.AudioWorkletNode) {
      panel.showError(
        "This browser cannot record here: the microphone needs a secure page (https or localhost) and a recent browser.",
      );
      return;
    }
    const socket = hooks.socket();
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      panel.showError("Not connected to Allin yet. Try again once the connection is back.");
      return;
    }
    if (hooks.playing()) hooks.bargeIn(); // speaking over the answer stops it
    panel.setPhase("starting");
    panel.showStatus("Asking for the microphone…");
    let microphone;
    try {
      const context = audio.context(); // made in the click, so that it may play later
      await context.resume();
      microphone = await audio.openMicrophone();
      if (panel.phase !== "starting") throw new Cancelled();
      if (socket !== hooks.socket() || socket.readyState !== WebSocket.OPEN) {
        throw new Error("The connection dropped. Try again once it is back.");
      }
    } catch (error) {
      if (microphone) closeMicrophone(microphone);
      if (error instanceof Cancelled) return;
      panel.setPhase("idle");
      panel.showError(microphoneError(error));
      return;
    }
    record(microphone, socket, []);
    microphone.source.connect(microphone.node);
  }

  function record(microphone, socket, earlier) {
    // A recording from `microphone` starts now, with the `earlier` chunks it already heard.
    capture = { ...microphone, socket, samples: 0, flushTimer: null, heard: false, quiet: 0 };
    microphone.node.port.onmessage = (event) => captured(event.data);
    // A microphone unplugged (or taken away) ends the recording: what was heard is sent.
    microphone.stream.getAudioTracks()[0]?.addEventListener("ended", () => finish());
    socket.send(JSON.stringify({ type: "audio_start", format: "pcm16", sample_rate: RATE }));
    aftermathUntil = 0;
    stats.transcript = "";
    document.getElementById("voice-transcript").textContent = "";
    panel.setPhase("recording");
    panel.showStatus(hooks.handsFree() ? "Listening… (it ends when you stop talking)" : "Listening…");
    panel.showClock(0);
    for (const chunk of earlier) captured(chunk);
  }

  function captured(message) {
    if (!capture) return;
    if (message.type === "flushed") {
      if (panel.phase === "stopping") send();
      return;
    }
    if (!sendFrame(message.pcm)) {
      abort(DROPPED);
      return;
    }
    stats.chunksSent += 1;
    capture.samples += message.pcm.byteLength >> 1;
    panel.showLevel(message.level);
    const speech = isSpeech(message.level);
    capture.heard ||= speech;
    capture.quiet = speech ? 0 : capture.quiet + 1;
    const ms = (capture.samples / RATE) * 1000;
    if (panel.phase === "recording") {
      panel.showClock(ms);
      if (ms >= MAX_RECORDING_MS) finish();
      else if (hooks.handsFree() && capture.heard && capture.quiet >= END_QUIET_CHUNKS) {
        stats.endedByQuiet += 1;
        finish();
      }
    }
  }

  function finish() {
    if (!capture || panel.phase !== "recording") return;
    panel.setPhase("stopping");
    capture.source.disconnect();
    stopTracks(capture.stream);
    // What the worklet still holds comes first, then the end of the recording.
    capture.node.port.postMessage("flush");
    capture.flushTimer = setTimeout(() => send(), FLUSH_TIMEOUT_MS);
  }

  function send() {
    if (panel.phase !== "stopping") return;
    const sent = sendFrame(JSON.stringify({ type: "audio_end" }));
    drop();
    if (!sent) {
      panel.setPhase("idle");
      panel.showError(DROPPED);
      return;
    }
    panel.setPhase("thinking");
    panel.showLevel(0);
    panel.showStatus("Transcribing…");
  }

  function sendFrame(data) {
    const socket = capture?.socket;
    if (!socket || socket !== hooks.socket() || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(data);
    return true;
  }

  function abort(message) {
    // The server dropped the recording (or never got it): no audio_end.
    drop();
    panel.setPhase("idle");
    aftermathUntil = performance.now() + AFTERMATH_MS;
    panel.showError(message);
  }

  function drop() {
    const dropped = capture;
    capture = null;
    if (!dropped) return;
    clearTimeout(dropped.flushTimer);
    closeMicrophone(dropped);
    panel.showLevel(0);
  }

  return {
    get capturing() {
      return capture !== null;
    },
    async toggle() {
      if (panel.phase === "recording") finish();
      else if (panel.phase === "idle") await start();
    },
    record,
    abort,
    // Refused frames of a recording that had failed already.
    inAftermath: () => performance.now() < aftermathUntil,
    reset() {
      drop();
      aftermathUntil = 0;
    },
  };
}
