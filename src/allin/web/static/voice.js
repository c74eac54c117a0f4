// Talking to Allin: the microphone button records a question (recorder.js), the transcript shows
// while it is heard, the answer streams as text and plays as audio (playback.js), and speaking
// again or pressing Stop cuts the answer short (barge-in). Hands-free (hands-free.js): talking
// over an answer interrupts it, and a recording ends by itself once the speaker is quiet. Spoken
// turns in the history get a play button (voice-clips.js). This module is the voice session over
// the chat's socket: app.js owns the socket and hands it the voice frames.
import { createHandsFree } from "/static/hands-free.js";
import { createAudio } from "/static/microphone.js";
import { createPlayback } from "/static/playback.js";
import { createRecorder, DROPPED } from "/static/recorder.js";
import { createClips } from "/static/voice-clips.js";
import { createPanel, sentence } from "/static/voice-panel.js";

// hooks: {api, session(), chatId(), socket(), cancel(), activity()}
export function setupVoice(hooks) {
  const stats = newStats();
  const audio = createAudio();
  Object.defineProperty(stats, "audioTime", { enumerable: true, get: audio.time });
  window.allinVoice = stats; // what the page did, for people debugging and for the browser tests

  const panel = createPanel(stats);
  const bargeIn = () => {
    playback.stop();
    hooks.cancel(); // the server stops speaking (and writing) too
  };
  const playing = () => playback.playing;
  const recorder = createRecorder({
    audio,
    panel,
    stats,
    hooks: { socket: hooks.socket, handsFree: () => handsFree.on, playing, bargeIn },
  });
  const handsFree = createHandsFree({
    audio,
    panel,
    recorder,
    stats,
    hooks: { socket: hooks.socket, playing, bargeIn },
  });
  const playback = createPlayback({
    audio,
    stats,
    hooks: {
      started: () => handsFree.listen(),
      ending: () => handsFree.stopListening(),
      activity: hooks.activity,
      showError: panel.showError,
    },
  });
  const clips = createClips({
    stats,
    hooks: { api: hooks.api, session: hooks.session, chatId: hooks.chatId, showError: panel.showError },
  });

  document.getElementById("mic").addEventListener("click", () => recorder.toggle());
  document.getElementById("composer-input").addEventListener("input", () => panel.hide());

  function transcript(frame) {
    if (!["recording", "stopping", "thinking"].includes(panel.phase)) return;
    if (!frame.final) {
      panel.showTranscript(frame.text, true);
      return;
    }
    if (!frame.text) {
      // The `bad_request` error that follows says so; it is shown then.
      panel.showTranscript("", false);
      panel.showStatus("No speech was heard.");
      return;
    }
    panel.setPhase("heard");
    panel.showStatus("You said:");
    panel.showTranscript(frame.text, false);
  }

  function audioEnd(frame) {
    stats.audioEnds.push({ turn_id: frame.turn_id, stopped: frame.stopped });
    if (!frame.stopped) clips.watch(frame.turn_id); // its audio is being stored
    playback.finish(frame);
  }

  return {
    get playing() {
      return playback.playing;
    },

    // The voice frames of the chat's socket.
    frame(frame) {
      if (frame.type === "transcript") transcript(frame);
      else if (frame.type === "audio_start") playback.start(frame);
      else if (frame.type === "audio_end") audioEnd(frame);
    },

    audio: (buffer) => playback.chunk(buffer),

    error(frame) {
      // A socket error with no message id: is it about the recording? Then it is shown here.
      if (recorder.inAftermath() && (frame.code === "bad_request" || frame.code === "too_large")) {
        stats.errorsQuieted += 1;
        return true;
      }
      if (panel.phase === "recording" || panel.phase === "stopping") {
        recorder.abort(sentence(frame.message));
        return true;
      }
      if (panel.phase === "thinking" || panel.phase === "heard") {
        panel.setPhase("idle");
        panel.showError(sentence(frame.message));
        return true;
      }
      return false;
    },

    claims(turn) {
      // The question heard in this page's recording arrives as an ack like any other: it is ours.
      if (panel.phase !== "heard" || !turn.client_msg_id?.startsWith("voice-")) return false;
      panel.setPhase("idle");
      return true;
    },

    historyLoaded(firstPage) {
      if (firstPage) clips.refresh();
      else clips.decorate();
    },

    answerDone(turn) {
      clips.decorate();
      // The question's audio is listed by now; the answer's once it has been spoken in full.
      clips.refresh().then(() => {
        if (clips.has(turn.reply_to)) clips.watch(turn.id);
      });
    },

    stopPlayback: () => playback.stop(),

    reset() {
      // Another chat: what was recorded, played or listed here is dropped.
      recorder.reset();
      handsFree.stopListening();
      panel.setPhase("idle");
      playback.stop();
      clips.reset();
      panel.hide();
    },

    disconnected() {
      handsFree.stopListening();
      if (["starting", "recording", "stopping"].includes(panel.phase)) {
        recorder.abort(DROPPED);
      } else if (panel.phase === "thinking" || panel.phase === "heard") {
        // The turn goes on on the server; its ack comes with the resume.
        panel.setPhase("idle");
      }
    },
  };
}

function newStats() {
  return {
    phase: "idle",
    playback: "idle", // idle | waiting | playing | ended | stopped
    chunksSent: 0,
    chunksScheduled: 0,
    gaps: 0, // times the answer's audio ran dry before its next chunk came
    audioStarts: 0,
    audioEnds: [], // the server's audio_end frames: {turn_id, stopped}
    transcript: "",
    clipsPlayed: 0,
    errorsQuieted: 0, // refusals of the frames of a recording that had failed already
    listening: false, // hands-free: the microphone is open while an answer plays
    bargeIns: 0, // answers interrupted by talking over them
    endedByQuiet: 0, // recordings that ended because the speaker went quiet
  };
}
