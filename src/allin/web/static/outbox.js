// Messages the server has not acknowledged yet, kept per chat in localStorage: they survive a
// switch to another chat and a reload, and are sent (with their ids, so only once) when the
// connection returns.

const key = (userId, chatId) => `allin.outbox.${userId}.${chatId}`;

// The chat's unacknowledged messages, oldest first: [{id, content}].
export function queued(userId, chatId) {
  try {
    return JSON.parse(localStorage.getItem(key(userId, chatId)) || "[]");
  } catch {
    return []; // written by hand or by an older version: nothing we can send
  }
}

export function saveQueued(userId, chatId, id, content) {
  const messages = queued(userId, chatId).filter((message) => message.id !== id);
  messages.push({ id, content });
  localStorage.setItem(key(userId, chatId), JSON.stringify(messages));
}

export function forgetQueued(userId, chatId, id) {
  const messages = queued(userId, chatId).filter((message) => message.id !== id);
  if (messages.length) localStorage.setItem(key(userId, chatId), JSON.stringify(messages));
  else localStorage.removeItem(key(userId, chatId));
}
