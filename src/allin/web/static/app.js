// Allin's browser client: log in, list chats, stream answers over the chat WebSocket. This entry
// point only wires the modules together: each owns its state (the account its session,
// chat-view.js the open chat, connection.js the socket and resume point, outgoing.js the messages
// on their way, answers.js the answers being written) and is handed the others it needs.
// Plain ES modules, no build step; the vendored libraries live in ./vendor.
import { setupAccount } from "/static/account.js";
import { createAnswers } from "/static/answers.js";
import { setupAttach } from "/static/attach.js";
import { createChatView } from "/static/chat-view.js";
import { createChats, newChatId } from "/static/chats.js";
import { setupCodeView } from "/static/codeview.js";
import { setComposer, setupComposer } from "/static/composer.js";
import { createConnection } from "/static/connection.js";
import { setupDocuments } from "/static/documents.js";
import { setupDrawer } from "/static/drawer.js";
import { createFrameHandler } from "/static/frames.js";
import { setupGaps } from "/static/gaps.js";
import { createApi } from "/static/http.js";
import { setupMemories } from "/static/memories.js";
import { setupOnboarding } from "/static/onboarding.js";
import { createOutgoing } from "/static/outgoing.js";
import { setupRepositories } from "/static/repositories.js";
import { showSetupBanner } from "/static/setup-banner.js";
import { setupChatSearch } from "/static/sidebar.js";
import { setupTokens } from "/static/tokens.js";
import { setupVoice } from "/static/voice.js";

const $ = (id) => document.getElementById(id);
const SESSION_ENDED = "Your session has ended. Please log in again.";

const session = () => account.session;
const chatId = () => view.id;
const send = (content) => outgoing.send(content);

const api = createApi({ token: () => session()?.token, expired: () => account.end(SESSION_ENDED) });
const account = setupAccount({
  api,
  hooks: {
    started: async () => {
      await chats.refresh().catch(() => {}); // it shows its own error
      view.route();
    },
    ended: () => {
      voice.reset();
      chatSearch.clear(); // the next user must not see this one's search
      view.close();
    },
  },
});
const chats = createChats({ api, session, chatId });
const connection = createConnection({
  endpoint: () =>
    session() && chatId()
      ? { path: `/ws/${session().userId}/${encodeURIComponent(chatId())}`, token: session().token }
      : null,
  connecting: () => {
    outgoing.connecting();
    answers.connecting();
  },
  opened: () => {
    view.connected();
    chats.refreshIfFailed();
    outgoing.flush();
  },
  frame: (frame) => handleFrame(frame),
  audio: (data) => voice.audio(data),
  closed: () => voice.disconnected(),
  refused: () => account.end(SESSION_ENDED),
});
const outgoing = createOutgoing({ connection, hooks: { session, chatId, changed: () => answers.refreshActions() } });
const answers = createAnswers({
  connection,
  hooks: {
    playing: () => voice.playing,
    pending: () => outgoing.pending,
    edit: setComposer,
    send,
    stopSpeaking: () => voice.stopPlayback(),
  },
});
// Recordings go out, and spoken answers come in, on the chat's socket; voice.js does the audio.
const voice = setupVoice({
  api,
  session,
  chatId,
  socket: () => connection.socket,
  cancel: () => answers.stop(),
  activity: () => answers.showStop(),
});
// What a rendered answer's buttons do: rate it, ask its question again, show what it taught.
const answer = {
  api,
  feedbackPath: (turnId) => `/api/v1/chat/feedback/${session().userId}/${encodeURIComponent(chatId())}/${turnId}`,
  retry: send,
  openMemories: () => memories.open(),
};
const view = createChatView({
  api,
  session,
  connection,
  outgoing,
  voice,
  answer,
  hooks: {
    opening: () => {
      outgoing.reset();
      answers.reset();
      voice.reset();
      answers.showStop();
      chats.markCurrent();
      chats.showTitle();
    },
    loaded: () => answers.refreshActions(),
  },
});
const handleFrame = createFrameHandler({ outgoing, answers, voice, chats, answer });

setupDocuments(api, () => session()?.token);
setupRepositories(api);
setupGaps(api);
setupTokens(api);
setupCodeView(api);
setupAttach({ token: () => session()?.token, focusComposer: () => $("composer-input").focus() });
const chatSearch = setupChatSearch({
  api,
  userId: () => session().userId,
  onOpen: () => setTimeout(() => chatSearch.clear()), // once the link has been followed
});
setupOnboarding({ api, session, chatId, send });
const memories = setupMemories({ api, session });
setupComposer({ limit: () => account.config.max_message_bytes, send });
setupDrawer();
$("new-chat").addEventListener("click", () => (location.hash = `#/c/${newChatId()}`));
$("rename-chat").addEventListener("click", () => chats.rename().catch((error) => outgoing.showError(error.message)));
$("delete-chat").addEventListener("click", () => chats.remove().catch((error) => outgoing.showError(error.message)));
for (const starter of document.querySelectorAll(".starter")) {
  starter.addEventListener("click", () => send(starter.textContent));
}
$("stop").addEventListener("click", () => answers.stop());
window.addEventListener("online", () => {
  if (session() && !connection.open) connection.connect();
});

const BOOT_RETRY_MAX_MS = 10_000;

// The server's config, however long it takes: a server that is down or restarting (a proxy's 502)
// is said on the page and tried again, instead of leaving it blank.
async function serverConfig() {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const response = await fetch("/api/v1/config");
      if (response.ok) {
        const config = await response.json();
        $("boot-error").hidden = true;
        return config;
      }
    } catch {
      // unreachable: said below, tried again
    }
    $("boot-error").hidden = false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(BOOT_RETRY_MAX_MS, 1000 * 2 ** attempt)));
  }
}

async function boot() {
  const config = await serverConfig();
  // A server with voice off would refuse every recording.
  for (const id of ["mic", "hands-free"]) $(id).hidden = !config.voice;
  showSetupBanner(config);
  await account.boot(config);
}

boot();
