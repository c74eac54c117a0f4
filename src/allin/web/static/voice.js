// Talking to Allin: the microphone button records a question (an AudioWorklet turns it into 16 kHz
// pcm16, sent as binary frames on the chat's WebSocket between `audio_start` and `audio_end`), the
// transcript shows while it is heard, the answer streams as text and plays as audio, and speaking
// again or pressing Stop cuts the answer short (barge-in). Hands-free (a toggle, kept per browser):
// while an answer plays the microphone listens, and talking over it interrupts it and becomes the
// next question; a recording ends by itself once the speaker has been quiet for a second. Spoken
// turns in the history get a play button. app.js owns the socket and hands this module the voice
// frames.

const $ = (id) => document.getElementById(id);

const WORKLET_URL = "/static/pcm-capture-worklet.js";
const RATE = 16000; // what the server takes: 16-bit mono PCM at 16 kHz
const CHUNK_MS = 100;
const MAX_RECORDING_MS = 55_000; // the server's default limit is 60 s
const FLUSH_TIMEOUT_MS = 500;
const TRANSCRIBE_TIMEOUT_MS = 60_000;
// Audio scheduled this far ahead of "now" absorbs the jitter of frames arriving on the socket.
const PLAYBACK_LEAD_S = 0.08;
// A spoken answer's audio is stored just after its `audio_end`: look for it again a few times.
const LIST_RETRIES_MS = [300, 600, 1200, 2400, 4800, 9600];
// Errors that follow a failed recording (its frames still in flight) are not news.
const AFTERMATH_MS = 1500;
// Hands-free. A chunk is speech when louder than this (RMS; about -30 dBFS, well over a quiet
// room once the browser's echo cancellation has taken the answer's own sound out).
const SPEECH_LEVEL = 0.03;
const BARGE_IN_CHUNKS = 3; // this much speech in a row over an answer interrupts it (300 ms)
const PRE_ROLL_CHUNKS = 5; // and the half second before it is sent as the start of the question
const END_QUIET_CHUNKS = 10; // a second of quiet after speech ends a hands-free recording
const HANDS_FREE_KEY = "allin.handsFree";

const MIC_LABELS = {
  idle: "Speak your question",
  recording: "Stop recording and send",
  busy: "Working on your recording…",
};

export function setupVoice(hooks) {
  return new Voice(hooks);
}

class Voice {
  // hooks: {api, session(), chatId(), socket(), cancel(), activity()}
  constructor(hooks) {
    this.hooks = hooks;
    this.context = null;
    this.worklet = null; // the promise of the capture worklet's module, per context
    this.phase = "idle"; // idle | starting | recording | stopping | thinking | heard
    this.capture = null; // {stream, source, node, socket, samples, heard, quiet}
    this.listener = null; // hands-free, while an answer plays: {microphone, recent, loud}
    this.handsFree = localStorage.getItem(HANDS_FREE_KEY) === "on";
    this.playback = null; // {turnId, rate, nextTime, sources, ended}
    this.thinkingTimer = null;
    this.aftermathUntil = 0;
    this.spoken = new Map(); // turn id -> {turn_id, duration_ms, ...} of the open chat
    this.watching = new Set(); // turn ids whose audio is expected in the list soon
    this.clips = new Map(); // turn id -> blob URL of its WAV
    this.clip = null; // {audio, button}: the history audio playing
    // What the page did, for people debugging and for the browser tests.
    this.stats = {
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
    Object.defineProperty(this.stats, "audioTime", {
      enumerable: true,
      get: () => this.context?.currentTime ?? 0, // seconds the audio context has played
    });
    window.allinVoice = this.stats;
    $("mic").addEventListener("click", () => this.toggle());
    $("hands-free").addEventListener("click", () => this.setHandsFree(!this.handsFree));
    this.showHandsFree();
    $("composer-input").addEventListener("input", () => {
      if (this.phase === "idle") this.hidePanel();
    });
  }

  // ------------------------------------------------------------ hooks for app.js

  get playing() {
    return this.playback !== null;
  }

  frame(frame) {
    if (frame.type === "transcript") this.transcript(frame);
    else if (frame.type === "audio_start") this.audioStart(frame);
    else if (frame.type === "audio_end") this.audioEnd(frame);
  }

  audio(buffer) {
    const playback = this.playback;
    if (!playback || !(buffer instanceof ArrayBuffer)) return; // stopped, or not ours any more
    const context = this.context;
    const view = new DataView(buffer);
    const count = buffer.byteLength >> 1;
    if (count === 0) return;
    const audio = context.createBuffer(1, count, playback.rate);
    const samples = audio.getChannelData(0);
    for (let i = 0; i < count; i += 1) samples[i] = view.getInt16(i * 2, true) / 32768;
    const source = context.createBufferSource();
    source.buffer = audio;
    source.connect(context.destination);
    // Gapless: each chunk starts where the previous one ends, unless the audio ran dry.
    const startAt = Math.max(playback.nextTime, context.currentTime + PLAYBACK_LEAD_S);
    if (playback.nextTime > 0 && startAt > playback.nextTime) this.stats.gaps += 1;
    source.start(startAt);
    playback.nextTime = startAt + audio.duration;
    playback.sources.add(source);
    source.addEventListener("ended", () => {
      playback.sources.delete(source);
      const over = playback.ended && playback.sources.size === 0;
      if (over && this.playback === playback) this.endPlayback("ended");
    });
    this.stats.chunksScheduled += 1;
    this.setPlayback("playing");
  }

  error(frame) {
    // A socket error with no message id: is it about the recording? Then it is shown here.
    const aftermath = performance.now() < this.aftermathUntil;
    if (aftermath && (frame.code === "bad_request" || frame.code === "too_large")) {
      this.stats.errorsQuieted += 1;
      return true;
    }
    if (this.phase === "recording" || this.phase === "stopping") {
      this.abortRecording(sentence(frame.message));
      return true;
    }
    if (this.phase === "thinking" || this.phase === "heard") {
      this.setPhase("idle");
      this.showError(sentence(frame.message));
      return true;
    }
    return false;
  }

  claims(turn) {
    // The question heard in this page's recording arrives as an ack like any other: it is ours.
    if (this.phase !== "heard" || !turn.client_msg_id?.startsWith("voice-")) return false;
    this.setPhase("idle");
    return true;
  }

  historyLoaded(firstPage) {
    if (firstPage) this.refreshSpoken();
    else this.decorate();
  }

  answerDone(turn) {
    this.decorate();
    // The question's audio is listed by now; the answer's once it has been spoken in full.
    this.refreshSpoken().then(() => {
      if (this.spoken.has(turn.reply_to)) this.watch(turn.id);
    });
  }

  stopPlayback() {
    if (this.playback) this.endPlayback("stopped");
  }

  reset() {
    // Another chat: what was recorded, played or listed here is dropped.
    this.dropCapture();
    this.stopListening();
    this.setPhase("idle");
    this.stopPlayback();
    this.stopClip();
    for (const url of this.clips.values()) URL.revokeObjectURL(url);
    this.clips.clear();
    this.spoken.clear();
    this.watching.clear();
    this.aftermathUntil = 0;
    this.hidePanel();
  }

  disconnected() {
    this.stopListening();
    if (["starting", "recording", "stopping"].includes(this.phase)) {
      this.abortRecording("The connection dropped while recording, so the recording was lost. Please try again.");
    } else if (this.phase === "thinking" || this.phase === "heard") {
      // The turn goes on on the server; its ack comes with the resume.
      this.setPhase("idle");
    }
  }

  // ------------------------------------------------------------ recording

  async toggle() {
    if (this.phase === "recording") this.finishRecording();
    else if (this.phase === "idle") await this.startRecording();
  }

  async startRecording() {
    this.clearError();
    if (!navigator.mediaDevices?.getUserMedia || !window.AudioWorkletNode) {
      this.showError(
        "This browser cannot record here: the microphone needs a secure page (https or localhost) and a recent browser.",
      );
      return;
    }
    const socket = this.hooks.socket();
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      this.showError("Not connected to Allin yet. Try again once the connection is back.");
      return;
    }
    if (this.playing) this.bargeIn(); // speaking over the answer stops it
    this.setPhase("starting");
    this.showStatus("Asking for the microphone…");
    let microphone;
    try {
      const context = this.audioContext(); // made in the click, so that it may play later
      await context.resume();
      microphone = await this.openMicrophone();
      if (this.phase !== "starting") throw new Cancelled();
      if (socket !== this.hooks.socket() || socket.readyState !== WebSocket.OPEN) {
        throw new Error("The connection dropped. Try again once it is back.");
      }
    } catch (error) {
      if (microphone) closeMicrophone(microphone);
      if (error instanceof Cancelled) return;
      this.setPhase("idle");
      this.showError(microphoneError(error));
      return;
    }
    this.record(microphone, socket, []);
    microphone.source.connect(microphone.node);
  }

  async openMicrophone() {
    // The worklet first, so that nothing said once the microphone is on is lost.
    const context = this.audioContext();
    this.worklet ||= context.audioWorklet.addModule(WORKLET_URL).catch((error) => {
      this.worklet = null; // tried again on the next press
      throw error;
    });
    await this.worklet;
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    try {
      const source = context.createMediaStreamSource(stream);
      const node = new AudioWorkletNode(context, "pcm-capture", {
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
  }

  record(microphone, socket, earlier) {
    // A recording from `microphone` starts now, with the `earlier` chunks it already heard.
    this.capture = { ...microphone, socket, samples: 0, flushTimer: null, heard: false, quiet: 0 };
    microphone.node.port.onmessage = (event) => this.captured(event.data);
    // A microphone unplugged (or taken away) ends the recording: what was heard is sent.
    microphone.stream.getAudioTracks()[0]?.addEventListener("ended", () => this.finishRecording());
    socket.send(JSON.stringify({ type: "audio_start", format: "pcm16", sample_rate: RATE }));
    this.aftermathUntil = 0;
    this.stats.transcript = "";
    $("voice-transcript").textContent = "";
    this.setPhase("recording");
    this.showStatus(this.handsFree ? "Listening… (it ends when you stop talking)" : "Listening…");
    $("voice-clock").textContent = clock(0);
    for (const chunk of earlier) this.captured(chunk);
  }

  captured(message) {
    const capture = this.capture;
    if (!capture) return;
    if (message.type === "flushed") {
      if (this.phase === "stopping") this.sendRecording();
      return;
    }
    if (!this.sendFrame(message.pcm)) {
      this.abortRecording("The connection dropped while recording, so the recording was lost. Please try again.");
      return;
    }
    this.stats.chunksSent += 1;
    capture.samples += message.pcm.byteLength >> 1;
    this.showLevel(message.level);
    const speech = message.level > SPEECH_LEVEL;
    capture.heard ||= speech;
    capture.quiet = speech ? 0 : capture.quiet + 1;
    const ms = (capture.samples / RATE) * 1000;
    if (this.phase === "recording") {
      const shown = clock(ms);
      if ($("voice-clock").textContent !== shown) $("voice-clock").textContent = shown;
      if (ms >= MAX_RECORDING_MS) this.finishRecording();
      else if (this.handsFree && capture.heard && capture.quiet >= END_QUIET_CHUNKS) {
        this.stats.endedByQuiet += 1;
        this.finishRecording();
      }
    }
  }

  finishRecording() {
    const capture = this.capture;
    if (!capture || this.phase !== "recording") return;
    this.setPhase("stopping");
    capture.source.disconnect();
    stopTracks(capture.stream);
    // What the worklet still holds comes first, then the end of the recording.
    capture.node.port.postMessage("flush");
    capture.flushTimer = setTimeout(() => this.sendRecording(), FLUSH_TIMEOUT_MS);
  }

  sendRecording() {
    if (this.phase !== "stopping") return;
    const sent = this.sendFrame(JSON.stringify({ type: "audio_end" }));
    this.dropCapture();
    if (!sent) {
      this.setPhase("idle");
      this.showError("The connection dropped while recording, so the recording was lost. Please try again.");
      return;
    }
    this.setPhase("thinking");
    this.showLevel(0);
    this.showStatus("Transcribing…");
  }

  sendFrame(data) {
    const socket = this.capture?.socket;
    if (!socket || socket !== this.hooks.socket() || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(data);
    return true;
  }

  abortRecording(message) {
    // The server dropped the recording (or never got it): no audio_end.
    this.dropCapture();
    this.setPhase("idle");
    this.aftermathUntil = performance.now() + AFTERMATH_MS;
    this.showError(message);
  }

  dropCapture() {
    const capture = this.capture;
    this.capture = null;
    if (!capture) return;
    clearTimeout(capture.flushTimer);
    closeMicrophone(capture);
    this.showLevel(0);
  }

  // ------------------------------------------------------------ hands-free

  async setHandsFree(on) {
    this.clearError();
    if (on) {
      // Asked now, on the click, rather than by surprise when the next answer starts playing.
      try {
        closeMicrophone(await this.openMicrophone());
      } catch (error) {
        this.showError(microphoneError(error));
        return;
      }
    }
    this.handsFree = on;
    localStorage.setItem(HANDS_FREE_KEY, on ? "on" : "off");
    this.showHandsFree();
    if (!on) this.stopListening();
    else if (this.playing) this.listen();
  }

  showHandsFree() {
    const toggle = $("hands-free");
    toggle.setAttribute("aria-pressed", String(this.handsFree));
    toggle.title = this.handsFree
      ? "Hands-free is on: talk over an answer to interrupt it; recordings end when you stop talking"
      : "Hands-free is off: press the microphone to speak, and again to send";
  }

  async listen() {
    // While an answer plays, hear whether the user talks over it.
    if (!this.handsFree || this.listener || this.capture || !this.playing) return;
    const listener = { microphone: null, recent: [], loud: 0 };
    this.listener = listener;
    let microphone;
    try {
      microphone = await this.openMicrophone();
    } catch (error) {
      if (this.listener === listener) this.listener = null;
      this.showError(microphoneError(error));
      return;
    }
    if (this.listener !== listener) {
      closeMicrophone(microphone); // the answer ended meanwhile
      return;
    }
    listener.microphone = microphone;
    microphone.node.port.onmessage = (event) => this.overheard(listener, event.data);
    microphone.source.connect(microphone.node);
    this.stats.listening = true;
  }

  overheard(listener, message) {
    if (message.type !== "chunk" || this.listener !== listener) return;
    listener.recent.push(message);
    if (listener.recent.length > PRE_ROLL_CHUNKS + BARGE_IN_CHUNKS) listener.recent.shift();
    listener.loud = message.level > SPEECH_LEVEL ? listener.loud + 1 : 0;
    if (listener.loud < BARGE_IN_CHUNKS || this.phase !== "idle") return;
    const socket = this.hooks.socket();
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    // The user is talking over the answer: it stops, and what they say is the next question,
    // from the same microphone, so that its first words are not lost.
    this.listener = null;
    this.stats.listening = false;
    this.stats.bargeIns += 1;
    this.bargeIn();
    this.clearError();
    this.record(listener.microphone, socket, listener.recent);
  }

  stopListening() {
    const listener = this.listener;
    this.listener = null;
    this.stats.listening = false;
    if (listener?.microphone) closeMicrophone(listener.microphone);
  }

  transcript(frame) {
    if (!["recording", "stopping", "thinking"].includes(this.phase)) return;
    if (!frame.final) {
      this.showTranscript(frame.text, true);
      return;
    }
    if (!frame.text) {
      // The `bad_request` error that follows says so; it is shown then.
      this.showTranscript("", false);
      this.showStatus("No speech was heard.");
      return;
    }
    this.setPhase("heard");
    this.showStatus("You said:");
    this.showTranscript(frame.text, false);
  }

  // ------------------------------------------------------------ the answer's audio

  audioContext() {
    if (!this.context || this.context.state === "closed") {
      this.context = new AudioContext({ latencyHint: "interactive" });
      this.worklet = null;
    }
    return this.context;
  }

  audioStart(frame) {
    this.stopPlayback(); // a newer answer replaces an older one still playing
    this.stats.audioStarts += 1;
    let context;
    try {
      context = this.audioContext();
    } catch (error) {
      this.showError(`The answer cannot be played: ${error.message}`);
      return;
    }
    if (context.state === "suspended") context.resume().catch(() => {});
    this.playback = { turnId: frame.turn_id, rate: frame.sample_rate, nextTime: 0, sources: new Set(), ended: false };
    this.setPlayback("waiting");
    this.hooks.activity();
    this.listen();
  }

  audioEnd(frame) {
    this.stats.audioEnds.push({ turn_id: frame.turn_id, stopped: frame.stopped });
    if (!frame.stopped) this.watch(frame.turn_id); // its audio is being stored
    const playback = this.playback;
    if (!playback || playback.turnId !== frame.turn_id) return;
    if (frame.stopped) {
      this.endPlayback("stopped");
      return;
    }
    playback.ended = true; // what was scheduled plays to its end
    if (playback.sources.size === 0) this.endPlayback("ended");
  }

  bargeIn() {
    this.stopPlayback();
    this.hooks.cancel(); // the server stops speaking (and writing) too
  }

  endPlayback(how) {
    const playback = this.playback;
    if (!playback) return;
    this.playback = null;
    this.stopListening();
    for (const source of playback.sources) {
      try {
        source.stop();
      } catch {
        // not started yet, or over
      }
    }
    playback.sources.clear();
    this.setPlayback(how);
    this.hooks.activity();
  }

  setPlayback(state) {
    this.stats.playback = state;
    $("composer").dataset.playback = state;
  }

  // ------------------------------------------------------------ spoken turns in the history

  async refreshSpoken() {
    const session = this.hooks.session();
    const chatId = this.hooks.chatId();
    if (!session || !chatId) return;
    let turns;
    try {
      ({ turns } = await this.hooks.api(`/api/v1/voice/${session.userId}/${encodeURIComponent(chatId)}`));
    } catch {
      return; // a new chat (404), or offline: no play buttons yet
    }
    if (chatId !== this.hooks.chatId()) return;
    for (const turn of turns) this.spoken.set(turn.turn_id, turn);
    this.decorate();
  }

  watch(turnId) {
    // Poll the list until the turn's audio is in it, with growing pauses.
    if (this.spoken.has(turnId) || this.watching.has(turnId)) return;
    this.watching.add(turnId);
    const chatId = this.hooks.chatId();
    const attempt = (index) => {
      if (!this.watching.has(turnId) || chatId !== this.hooks.chatId()) return;
      if (this.spoken.has(turnId) || index >= LIST_RETRIES_MS.length) {
        this.watching.delete(turnId);
        return;
      }
      setTimeout(() => this.refreshSpoken().then(() => attempt(index + 1)), LIST_RETRIES_MS[index]);
    };
    this.refreshSpoken().then(() => attempt(0));
  }

  decorate() {
    for (const element of $("messages").querySelectorAll(".msg[data-turn-id]")) {
      const spoken = this.spoken.get(Number(element.dataset.turnId));
      if (!spoken || element.querySelector(".voice-row")) continue;
      const row = document.createElement("div");
      row.className = "voice-row";
      const play = document.createElement("button");
      play.type = "button";
      play.className = "play-audio";
      play.dataset.testid = "play-audio";
      play.dataset.turnId = String(spoken.turn_id);
      const length = document.createElement("span");
      length.className = "muted";
      length.textContent = clock(spoken.duration_ms);
      const what = element.classList.contains("user") ? "your recording" : "the spoken answer";
      setClipButton(play, false, what);
      play.addEventListener("click", () => this.playClip(spoken.turn_id, play, what));
      row.append(play, length);
      element.insertBefore(row, element.querySelector(".meta"));
    }
  }

  async playClip(turnId, button, what) {
    if (this.clip?.button === button) {
      this.stopClip();
      return;
    }
    this.stopClip();
    const clip = { audio: null, button };
    this.clip = clip;
    button.setAttribute("aria-busy", "true");
    try {
      const url = await this.clipUrl(turnId);
      if (this.clip !== clip) return;
      clip.audio = new Audio(url);
      clip.audio.addEventListener("playing", () => (this.stats.clipsPlayed += 1));
      clip.audio.addEventListener("ended", () => this.clip === clip && this.stopClip());
      setClipButton(button, true, what);
      await clip.audio.play();
    } catch (error) {
      if (this.clip === clip) this.stopClip();
      this.showError(`Could not play ${what}: ${error.message}`);
    } finally {
      button.removeAttribute("aria-busy");
    }
  }

  async clipUrl(turnId) {
    if (this.clips.has(turnId)) return this.clips.get(turnId);
    const session = this.hooks.session();
    const chatId = this.hooks.chatId();
    const response = await fetch(`/api/v1/voice/${session.userId}/${encodeURIComponent(chatId)}/${turnId}/audio`, {
      headers: { Authorization: `Bearer ${session.token}` },
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error(body.detail || `HTTP ${response.status}`);
    }
    const url = URL.createObjectURL(await response.blob());
    if (chatId === this.hooks.chatId()) this.clips.set(turnId, url);
    return url;
  }

  stopClip() {
    const clip = this.clip;
    this.clip = null;
    if (!clip) return;
    clip.audio?.pause();
    setClipButton(clip.button, false);
  }

  // ------------------------------------------------------------ what the page shows

  setPhase(phase) {
    this.phase = phase;
    this.stats.phase = phase;
    $("composer").dataset.voice = phase;
    clearTimeout(this.thinkingTimer);
    if (phase === "thinking" || phase === "heard") {
      // Should the server never answer, the button comes back.
      this.thinkingTimer = setTimeout(() => this.setPhase("idle"), TRANSCRIBE_TIMEOUT_MS);
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
  }

  showStatus(text) {
    $("voice-panel").hidden = false;
    if ($("voice-status").textContent !== text) $("voice-status").textContent = text;
  }

  showTranscript(text, interim) {
    this.stats.transcript = text;
    const element = $("voice-transcript");
    element.textContent = text;
    element.classList.toggle("interim", interim);
  }

  showLevel(level) {
    // RMS to a 0..1 bar, on a decibel scale from -60 dBFS.
    const db = 20 * Math.log10(Math.max(level, 1e-6));
    const fill = Math.max(0, Math.min(1, (db + 60) / 60));
    $("voice-level").style.setProperty("--level", fill.toFixed(3));
  }

  showError(message) {
    $("voice-panel").hidden = false;
    $("voice-error").textContent = message;
    if (this.phase === "idle") $("voice-status").textContent = "";
  }

  clearError() {
    $("voice-error").textContent = "";
  }

  hidePanel() {
    if (this.phase !== "idle") return;
    $("voice-panel").hidden = true;
    $("voice-status").textContent = "";
    $("voice-transcript").textContent = "";
    this.clearError();
  }
}

class Cancelled extends Error {}

function closeMicrophone({ stream, source, node }) {
  source.disconnect();
  node.port.onmessage = null;
  node.port.postMessage("stop");
  stopTracks(stream);
}

function setClipButton(button, playing, what = button.dataset.what) {
  button.dataset.what = what;
  button.dataset.state = playing ? "playing" : "idle";
  button.textContent = playing ? "■" : "▶";
  button.setAttribute("aria-label", playing ? "Stop audio" : "Play audio");
  button.title = playing ? `Stop ${what}` : `Play ${what}`;
}

function microphoneError(error) {
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

function sentence(text) {
  return text ? text[0].toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".") : "Something went wrong.";
}

function clock(ms) {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

function stopTracks(stream) {
  for (const track of stream.getTracks()) track.stop();
}
