// The open chat's WebSocket: connecting (the token as a subprotocol), resuming after the last
// frame applied (`resume`, then the server sends exactly the frames after it), dropping frames
// seen already, and reconnecting with backoff. The connection state is shown in the header.

const $ = (id) => document.getElementById(id);
const RECONNECT_BASE_MS = 250;
const MAX_RECONNECT_DELAY_MS = 10_000;
// A connection that stayed open this long was a success: the next drop starts the backoff again.
const STABLE_CONNECTION_MS = 2_000;

// hooks: {endpoint(): {path, token} or null, connecting(), opened(), frame(frame), audio(data),
//         closed(), refused()}
export function createConnection(hooks) {
  let socket = null;
  let reconnectTimer = null;
  let retries = 0;
  let lastSeq = 0; // the highest chat frame seq applied in this chat: a reconnect resumes after it

  function show(status) {
    const element = $("conn-state");
    element.dataset.state = status;
    element.textContent = status === "reconnecting" ? "reconnecting…" : status;
  }

  function close() {
    clearTimeout(reconnectTimer);
    const closing = socket;
    socket = null;
    if (closing && closing.readyState <= WebSocket.OPEN) closing.close(1000);
  }

  function connect() {
    close();
    const endpoint = hooks.endpoint();
    if (!endpoint) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // Browsers cannot set headers on a WebSocket: the token travels as the second subprotocol.
    const current = new WebSocket(`${scheme}://${location.host}${endpoint.path}`, ["bearer", endpoint.token]);
    current.binaryType = "arraybuffer"; // binary frames are the answer's audio (pcm16)
    socket = current;
    hooks.connecting();
    show(retries ? "reconnecting" : "connecting");
    let openedAt = null;
    current.addEventListener("open", () => {
      openedAt = Date.now();
      show("connected");
      // The first frame says what this client has: the server sends exactly the frames after it.
      current.send(JSON.stringify({ type: "resume", last_seq: lastSeq }));
      hooks.opened();
    });
    current.addEventListener("message", (event) => {
      if (current !== socket) return;
      if (typeof event.data === "string") receive(JSON.parse(event.data));
      else hooks.audio(event.data);
    });
    current.addEventListener("close", (event) => {
      if (current !== socket) return; // replaced on purpose
      hooks.closed();
      // Reset the backoff only after a connection that lasted: one closed as soon as it opened
      // (a server failing on every connection) must not be retried in a tight loop.
      if (openedAt !== null && Date.now() - openedAt >= STABLE_CONNECTION_MS) retries = 0;
      if (event.code === 4401 || event.code === 4403) {
        hooks.refused();
        return;
      }
      if (event.code === 4400) {
        show("offline");
        return;
      }
      scheduleReconnect();
    });
  }

  function receive(frame) {
    if (typeof frame.seq === "number") {
      if (frame.seq <= lastSeq) {
        // Seen already, or a stored ack/done sent again for a retried message (they keep their old
        // seq): those are applied once by turn id, anything else is dropped.
        if (frame.type === "ack" || frame.type === "done") hooks.frame(frame);
        return;
      }
      lastSeq = frame.seq;
    }
    hooks.frame(frame);
  }

  function scheduleReconnect() {
    show("reconnecting");
    // Exponential backoff with full jitter, so that many clients dropped at once do not all come back
    // at once (the server closes a client that reads too slowly with 1013: it comes back too).
    const delay = Math.random() * Math.min(MAX_RECONNECT_DELAY_MS, RECONNECT_BASE_MS * 2 ** retries);
    retries += 1;
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, delay);
  }

  return {
    connect,
    close,
    get socket() {
      return socket; // voice.js sends a recording's frames on it
    },
    get open() {
      return socket?.readyState === WebSocket.OPEN;
    },
    send(frame) {
      socket.send(JSON.stringify(frame));
    },
    // Another chat: nothing of it applied yet, and no failed attempts.
    reset() {
      close();
      retries = 0;
      lastSeq = 0;
    },
    // The chat's history covers the frames up to `seq`.
    resumeAfter(seq) {
      lastSeq = seq;
    },
  };
}
