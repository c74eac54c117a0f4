// Hands-free (a toggle, kept per browser): while an answer plays the microphone listens, and
// talking over it interrupts it and becomes the next question, its first words included.
import { closeMicrophone, isSpeech, microphoneError } from "/static/microphone.js";

const $ = (id) => document.getElementById(id);

const BARGE_IN_CHUNKS = 3; // this much speech in a row over an answer interrupts it (300 ms)
const PRE_ROLL_CHUNKS = 5; // and the half second before it is sent as the start of the question
const HANDS_FREE_KEY = "allin.handsFree";

// hooks: {socket(), playing(), bargeIn()}
export function createHandsFree({ audio, panel, recorder, stats, hooks }) {
  let on = localStorage.getItem(HANDS_FREE_KEY) === "on";
  let listener = null; // while an answer plays: {microphone, recent, loud}

  function show() {
    const toggle = $("hands-free");
    toggle.setAttribute("aria-pressed", String(on));
    toggle.title = on
      ? "Hands-free is on: talk over an answer to interrupt it; recordings end when you stop talking"
      : "Hands-free is off: press the microphone to speak, and again to send";
  }

  async function set(wanted) {
    panel.clearError();
    if (wanted) {
      // Asked now, on the click, rather than by surprise when the next answer starts playing.
      try {
        closeMicrophone(await audio.openMicrophone());
      } catch (error) {
        panel.showError(microphoneError(error));
        return;
      }
    }
    on = wanted;
    localStorage.setItem(HANDS_FREE_KEY, on ? "on" : "off");
    show();
    if (!on) stopListening();
    else if (hooks.playing()) listen();
  }

  async function listen() {
    // While an answer plays, hear whether the user talks over it.
    if (!on || listener || recorder.capturing || !hooks.playing()) return;
    const current = { microphone: null, recent: [], loud: 0 };
    listener = current;
    let microphone;
    try {
      microphone = await audio.openMicrophone();
    } catch (error) {
      if (listener === current) listener = null;
      panel.showError(microphoneError(error));
      return;
    }
    if (listener !== current) {
      closeMicrophone(microphone); // the answer ended meanwhile
      return;
    }
    current.microphone = microphone;
    microphone.node.port.onmessage = (event) => overheard(current, event.data);
    microphone.source.connect(microphone.node);
    stats.listening = true;
  }

  function overheard(current, message) {
    if (message.type !== "chunk" || listener !== current) return;
    current.recent.push(message);
    if (current.recent.length > PRE_ROLL_CHUNKS + BARGE_IN_CHUNKS) current.recent.shift();
    current.loud = isSpeech(message.level) ? current.loud + 1 : 0;
    if (current.loud < BARGE_IN_CHUNKS || panel.phase !== "idle") return;
    const socket = hooks.socket();
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    // The user is talking over the answer: it stops, and what they say is the next question,
    // from the same microphone, so that its first words are not lost.
    listener = null;
    stats.listening = false;
    stats.bargeIns += 1;
    hooks.bargeIn();
    panel.clearError();
    recorder.record(current.microphone, socket, current.recent);
  }

  function stopListening() {
    const current = listener;
    listener = null;
    stats.listening = false;
    if (current?.microphone) closeMicrophone(current.microphone);
  }

  $("hands-free").addEventListener("click", () => set(!on));
  show();
  return {
    get on() {
      return on;
    },
    listen,
    stopListening,
  };
}
