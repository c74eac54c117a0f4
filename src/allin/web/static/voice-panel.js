// What the page shows of voice: the microphone button (the voice phase), and the panel above the
// composer with the status, the transcript, the input level and the last error.

const $ = (id) => document.getElementById(id);

const TRANSCRIBE_TIMEOUT_MS = 60_000;
const MIC_LABELS = {
  idle: "Speak your question",
  recording: "Stop recording and send",
  busy: "Working on your recording…",
};

// phase: idle | starting | recording | stopping | thinking | heard
export function createPanel(stats) {
  let thinkingTimer = null;
  const panel = {
    phase: "idle",

    setPhase(phase) {
      panel.phase = phase;
      stats.phase = phase;
      $("composer").dataset.voice = phase;
      clearTimeout(thinkingTimer);
      if (phase === "thinking" || phase === "heard") {
        // Should the server never answer, the button comes back.
        thinkingTimer = setTimeout(() => panel.setPhase("idle"), TRANSCRIBE_TIMEOUT_MS);
      }
      const mic = $("mic");
      const recording = phase === "recording";
      const busy = phase !== "idle" && !recording;
      mic.dataset.state = recording ? "recording" : busy ? "busy" : "idle";
      mic.disabled = busy;
      const label = recording ? MIC_LABELS.recording : busy ? MIC_LABELS.busy : MIC_LABELS.idle;
      mic.setAttribute("aria-label", label);
      mic.title = label;
      $("voice-panel").classList.toggle("recording", recording);
      if (phase !== "idle") $("voice-panel").hidden = false;
    },

    showStatus(text) {
      $("voice-panel").hidden = false;
      if ($("voice-status").textContent !== text) $("voice-status").textContent = text;
    },

    showTranscript(text, interim) {
      stats.transcript = text;
      const element = $("voice-transcript");
      element.textContent = text;
      element.classList.toggle("interim", interim);
    },

    showClock(ms) {
      const shown = clock(ms);
      if ($("voice-clock").textContent !== shown) $("voice-clock").textContent = shown;
    },

    showLevel(level) {
      // RMS to a 0..1 bar, on a decibel scale from -60 dBFS.
      const db = 20 * Math.log10(Math.max(level, 1e-6));
      const fill = Math.max(0, Math.min(1, (db + 60) / 60));
      $("voice-level").style.setProperty("--level", fill.toFixed(3));
    },

    showError(message) {
      $("voice-panel").hidden = false;
      $("voice-error").textContent = message;
      if (panel.phase === "idle") $("voice-status").textContent = "";
    },

    clearError() {
      $("voice-error").textContent = "";
    },

    hide() {
      if (panel.phase !== "idle") return;
      $("voice-panel").hidden = true;
      $("voice-status").textContent = "";
      $("voice-transcript").textContent = "";
      panel.clearError();
    },
  };
  return panel;
}

// A server error message as a sentence: capitalised, with its full stop.
export function sentence(text) {
  return text ? text[0].toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".") : "Something went wrong.";
}

export function clock(ms) {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}
