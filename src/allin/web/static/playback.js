// The spoken answer: pcm16 chunks arriving as binary frames on the chat's socket between its
// `audio_start` and `audio_end`, scheduled back to back on the audio context.

const $ = (id) => document.getElementById(id);

// Audio scheduled this far ahead of "now" absorbs the jitter of frames arriving on the socket.
const PLAYBACK_LEAD_S = 0.08;

// hooks: {started(), ending(), activity(), showError(message)}
export function createPlayback({ audio, stats, hooks }) {
  let current = null; // {turnId, rate, nextTime, sources, ended}

  function setState(state) {
    stats.playback = state; // idle | waiting | playing | ended | stopped
    $("composer").dataset.playback = state;
  }

  function end(how) {
    const playback = current;
    if (!playback) return;
    current = null;
    hooks.ending();
    for (const source of playback.sources) {
      try {
        source.stop();
      } catch {
        // not started yet, or over
      }
    }
    playback.sources.clear();
    setState(how);
    hooks.activity();
  }

  return {
    get playing() {
      return current !== null;
    },

    start(frame) {
      if (current) end("stopped"); // a newer answer replaces an older one still playing
      stats.audioStarts += 1;
      let context;
      try {
        context = audio.context();
      } catch (error) {
        hooks.showError(`The answer cannot be played: ${error.message}`);
        return;
      }
      if (context.state === "suspended") context.resume().catch(() => {});
      current = { turnId: frame.turn_id, rate: frame.sample_rate, nextTime: 0, sources: new Set(), ended: false };
      setState("waiting");
      hooks.activity();
      hooks.started();
    },

    chunk(buffer) {
      const playback = current;
      if (!playback || !(buffer instanceof ArrayBuffer)) return; // stopped, or not ours any more
      const context = audio.context();
      const view = new DataView(buffer);
      const count = buffer.byteLength >> 1;
      if (count === 0) return;
      const clip = context.createBuffer(1, count, playback.rate);
      const samples = clip.getChannelData(0);
      for (let i = 0; i < count; i += 1) samples[i] = view.getInt16(i * 2, true) / 32768;
      const source = context.createBufferSource();
      source.buffer = clip;
      source.connect(context.destination);
      // Gapless: each chunk starts where the previous one ends, unless the audio ran dry.
      const startAt = Math.max(playback.nextTime, context.currentTime + PLAYBACK_LEAD_S);
      if (playback.nextTime > 0 && startAt > playback.nextTime) stats.gaps += 1;
      source.start(startAt);
      playback.nextTime = startAt + clip.duration;
      playback.sources.add(source);
      source.addEventListener("ended", () => {
        playback.sources.delete(source);
        const over = playback.ended && playback.sources.size === 0;
        if (over && current === playback) end("ended");
      });
      stats.chunksScheduled += 1;
      setState("playing");
    },

    finish(frame) {
      const playback = current;
      if (!playback || playback.turnId !== frame.turn_id) return;
      if (frame.stopped) {
        end("stopped");
        return;
      }
      playback.ended = true; // what was scheduled plays to its end
      if (playback.sources.size === 0) end("ended");
    },

    stop() {
      end("stopped");
    },
  };
}
