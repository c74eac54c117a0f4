// Spoken turns in the chat's history: a play button (and the length) on each question recorded
// and each answer spoken, playing the WAV the server stored.
import { clock } from "/static/voice-panel.js";

const $ = (id) => document.getElementById(id);

// A spoken answer's audio is stored just after its `audio_end`: look for it again a few times.
const LIST_RETRIES_MS = [300, 600, 1200, 2400, 4800, 9600];

// hooks: {api, session(), chatId(), showError(message)}
export function createClips({ stats, hooks }) {
  const spoken = new Map(); // turn id -> {turn_id, duration_ms, ...} of the open chat
  const watching = new Set(); // turn ids whose audio is expected in the list soon
  const urls = new Map(); // turn id -> blob URL of its WAV
  let playing = null; // {audio, button}: the history audio playing

  async function refresh() {
    const session = hooks.session();
    const chatId = hooks.chatId();
    if (!session || !chatId) return;
    let turns;
    try {
      ({ turns } = await hooks.api(`/api/v1/voice/${session.userId}/${encodeURIComponent(chatId)}`));
    } catch {
      return; // a new chat (404), or offline: no play buttons yet
    }
    if (chatId !== hooks.chatId()) return;
    for (const turn of turns) spoken.set(turn.turn_id, turn);
    decorate();
  }

  function watch(turnId) {
    // Poll the list until the turn's audio is in it, with growing pauses.
    if (spoken.has(turnId) || watching.has(turnId)) return;
    watching.add(turnId);
    const chatId = hooks.chatId();
    const attempt = (index) => {
      if (!watching.has(turnId) || chatId !== hooks.chatId()) return;
      if (spoken.has(turnId) || index >= LIST_RETRIES_MS.length) {
        watching.delete(turnId);
        return;
      }
      setTimeout(() => refresh().then(() => attempt(index + 1)), LIST_RETRIES_MS[index]);
    };
    refresh().then(() => attempt(0));
  }

  function decorate() {
    for (const element of $("messages").querySelectorAll(".msg[data-turn-id]")) {
      const turn = spoken.get(Number(element.dataset.turnId));
      if (!turn || element.querySelector(".voice-row")) continue;
      const row = document.createElement("div");
      row.className = "voice-row";
      const play = document.createElement("button");
      play.type = "button";
      play.className = "play-audio";
      play.dataset.testid = "play-audio";
      play.dataset.turnId = String(turn.turn_id);
      const length = document.createElement("span");
      length.className = "muted";
      length.textContent = clock(turn.duration_ms);
      const what = element.classList.contains("user") ? "your recording" : "the spoken answer";
      setClipButton(play, false, what);
      play.addEventListener("click", () => playClip(turn.turn_id, play, what));
      row.append(play, length);
      element.insertBefore(row, element.querySelector(".meta"));
    }
  }

  async function playClip(turnId, button, what) {
    if (playing?.button === button) {
      stop();
      return;
    }
    stop();
    const clip = { audio: null, button };
    playing = clip;
    button.setAttribute("aria-busy", "true");
    try {
      const url = await clipUrl(turnId);
      if (playing !== clip) return;
      clip.audio = new Audio(url);
      clip.audio.addEventListener("playing", () => (stats.clipsPlayed += 1));
      clip.audio.addEventListener("ended", () => playing === clip && stop());
      setClipButton(button, true, what);
      await clip.audio.play();
    } catch (error) {
      if (playing === clip) stop();
      hooks.showError(`Could not play ${what}: ${error.message}`);
    } finally {
      button.removeAttribute("aria-busy");
    }
  }

  async function clipUrl(turnId) {
    if (urls.has(turnId)) return urls.get(turnId);
    const session = hooks.session();
    const chatId = hooks.chatId();
    const response = await fetch(`/api/v1/voice/${session.userId}/${encodeURIComponent(chatId)}/${turnId}/audio`, {
      headers: { Authorization: `Bearer ${session.token}` },
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error(body.detail || `HTTP ${response.status}`);
    }
    const url = URL.createObjectURL(await response.blob());
    if (chatId === hooks.chatId()) urls.set(turnId, url);
    return url;
  }

  function stop() {
    const clip = playing;
    playing = null;
    if (!clip) return;
    clip.audio?.pause();
    setClipButton(clip.button, false);
  }

  return {
    refresh,
    watch,
    decorate,
    has: (turnId) => spoken.has(turnId),
    reset() {
      // Another chat: what was listed or fetched here is dropped.
      stop();
      for (const url of urls.values()) URL.revokeObjectURL(url);
      urls.clear();
      spoken.clear();
      watching.clear();
    },
  };
}

function setClipButton(button, playing, what = button.dataset.what) {
  button.dataset.what = what;
  button.dataset.state = playing ? "playing" : "idle";
  button.textContent = playing ? "■" : "▶";
  button.setAttribute("aria-label", playing ? "Stop audio" : "Play audio");
  button.title = playing ? `Stop ${what}` : `Play ${what}`;
}
