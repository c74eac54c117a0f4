-- Chats and the exact log of their turns. A chat id names a chat within its user's chats.
create extension if not exists vector;

create table chats (
    user_id    text not null,
    chat_id    text not null,
    title      text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (user_id, chat_id)
);
create index chats_user_updated on chats (user_id, updated_at desc);

create table chat_turns (
    id            bigserial primary key,
    user_id       text not null,
    chat_id       text not null,
    role          text not null check (role in ('user', 'assistant')),
    content       text not null,
    created_at    timestamptz not null default now(),
    -- The client's id for a user message: a retried message is stored and answered once.
    client_msg_id text,
    -- For an assistant turn, the user turn it answers: at most one answer per message.
    reply_to      bigint references chat_turns (id) on delete cascade,
    metadata      jsonb not null default '{}'::jsonb,
    foreign key (user_id, chat_id) references chats (user_id, chat_id) on delete cascade
);
create unique index chat_turns_chat_client_msg on chat_turns (user_id, chat_id, client_msg_id);
create unique index chat_turns_reply_to on chat_turns (reply_to);
create index chat_turns_user_chat_id on chat_turns (user_id, chat_id, id);
