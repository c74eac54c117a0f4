-- Voice (README "Voice"). A spoken turn is an ordinary `chat_turns` row (the question holds the
-- transcript, the answer its text) plus one `voice_turns` row with its audio: the user's
-- recording for a question, the spoken answer for an answer. The audio itself is in the blob
-- store (bucket `audio`); `audio_path` is its path there.
create table voice_turns (
    turn_id     bigint primary key references chat_turns (id) on delete cascade,
    user_id     text not null,
    chat_id     text not null,
    audio_path  text not null,
    duration_ms integer not null check (duration_ms >= 0),
    sample_rate integer not null check (sample_rate > 0),
    transcript  text not null,
    -- What heard or spoke it: the speech-to-text or text-to-speech engine, or the live model.
    engine      text not null,
    created_at  timestamptz not null default now(),
    foreign key (user_id, chat_id) references chats (user_id, chat_id) on delete cascade
);
create index voice_turns_chat on voice_turns (user_id, chat_id, turn_id);

-- The newest Gemini Live session-resumption handle of each chat: a voice session that ends (or is
-- told to go away) reconnects with it and keeps its context. Handles are valid for 2 hours.
create table voice_sessions (
    user_id    text not null,
    chat_id    text not null,
    handle     text not null,
    updated_at timestamptz not null default now(),
    primary key (user_id, chat_id),
    foreign key (user_id, chat_id) references chats (user_id, chat_id) on delete cascade
);

select allin_enable_owner_rls('voice_turns', 'user_id');
select allin_enable_owner_rls('voice_sessions', 'user_id');
