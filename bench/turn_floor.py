"""The floor of a chat turn: the work no implementation of Allin's turn can skip, done bare in a
server process set up like Allin's (uvicorn, the same embedded Postgres, the same embedder), so
`chat_overhead.py` can say how far above it Allin is.

Per `message` frame, and nothing else: store the user turn (the chat's row and the turn, in one
transaction), send `ack`; embed the question once; in parallel, read the recent history, one
pgvector k-NN over the user's memories (mem0's table, as Allin ranks them: exactly, by user) and
one over the documents' chunks (the HNSW index); send the same token frames as a real answer;
store the answer; send `done`. No prompt, no model, no learning, no relay.
"""

from __future__ import annotations

import asyncio
import json
import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

ENV_DATABASE_URL = "ALLIN_BENCH_DATABASE_URL"
HISTORY_TURNS = 20
TOP_K = 5


def floor_app(tokens: list[str], data_dir: Path) -> Starlette:
    """The floor server; it attaches to the Postgres Allin's server already started and migrated."""
    from allin.config import Settings
    from allin.embeddings.registry import build_embedder
    from allin.memory.build import collection_name
    from allin.storage.db import Database

    settings = Settings(
        _env_file=None, data_dir=data_dir, database_url=os.environ[ENV_DATABASE_URL]
    )
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        db = await Database.open(settings, run_migrations=False)
        embedder = build_embedder(settings)
        await embedder.warm_up()
        state.update(db=db, embedder=embedder, memories=collection_name(embedder))
        try:
            yield
        finally:
            await embedder.aclose()
            await db.close()

    async def endpoint(websocket: WebSocket) -> None:
        await _turns(websocket, tokens, state)

    return Starlette(
        routes=[WebSocketRoute("/ws/{user_id}/{chat_id}", endpoint)], lifespan=lifespan
    )


async def _turns(websocket: WebSocket, tokens: list[str], state: dict[str, Any]) -> None:
    user_id = websocket.path_params["user_id"]
    chat_id = websocket.path_params["chat_id"]
    db, embedder = state["db"], state["embedder"]
    await websocket.accept()
    try:
        while True:
            frame = json.loads(await websocket.receive_text())
            if frame.get("type") != "message":
                await websocket.send_text('{"type":"pong"}')
                continue
            question = await _store_question(db, user_id, chat_id, frame["id"], frame["content"])
            await websocket.send_text(json.dumps({"type": "ack", "turn": question}, default=str))
            vector = await embedder.embed_query(frame["content"])
            await asyncio.gather(
                _history(db, user_id, chat_id, question["id"]),
                _memories_knn(db, state["memories"], user_id, vector, embedder.dimension),
                _documents_knn(db, embedder.name, user_id, vector, embedder.dimension),
            )
            for text in tokens:
                token = {"type": "token", "turn_id": 0, "reply_to": question["id"], "text": text}
                await websocket.send_text(json.dumps(token))
                await asyncio.sleep(0)
            answer = await _store_answer(db, question, "".join(tokens))
            done = {"type": "done", "turn": answer, "citations": []}
            await websocket.send_text(json.dumps(done, default=str))
    except WebSocketDisconnect:
        pass


async def _store_question(
    db: Any, user_id: str, chat_id: str, message_id: str, content: str
) -> dict[str, Any]:
    async with db.transaction() as conn:
        await conn.execute(
            "insert into chats (user_id, chat_id) values (%s, %s) on conflict do nothing",
            (user_id, chat_id),
        )
        cursor = await conn.execute(
            "insert into chat_turns (user_id, chat_id, role, content, client_msg_id)"
            " values (%s, %s, 'user', %s, %s) returning *",
            (user_id, chat_id, content, message_id),
        )
        row: dict[str, Any] = await cursor.fetchone()
    return row


async def _store_answer(db: Any, question: dict[str, Any], content: str) -> dict[str, Any]:
    async with db.pool.connection() as conn:
        cursor = await conn.execute(
            "insert into chat_turns (user_id, chat_id, role, content, reply_to, metadata)"
            " values (%s, %s, 'assistant', %s, %s, %s) returning *",
            (question["user_id"], question["chat_id"], content, question["id"], Jsonb({})),
        )
        row: dict[str, Any] = await cursor.fetchone()
    return row


async def _history(db: Any, user_id: str, chat_id: str, before: int) -> list[Any]:
    async with db.pool.connection() as conn:
        cursor = await conn.execute(
            "select * from chat_turns where user_id = %s and chat_id = %s and id < %s"
            " order by id desc limit %s",
            (user_id, chat_id, before, HISTORY_TURNS),
        )
        return await cursor.fetchall()


async def _memories_knn(
    db: Any, table: str, user_id: str, vector: list[float], dimension: int
) -> list[Any]:
    statement = sql.SQL(
        "select id, payload, vector <=> %s::vector({dim}) as distance from {table}"
        " where payload->>'user_id' = %s order by distance limit %s"
    ).format(table=sql.Identifier(table), dim=dimension)
    async with db.pool.connection() as conn:
        cursor = await conn.execute(statement, (vector, user_id, TOP_K))
        return await cursor.fetchall()


async def _documents_knn(
    db: Any, embedder: str, user_id: str, vector: list[float], dimension: int
) -> list[Any]:
    statement = sql.SQL(
        "select c.id, c.content from document_chunks c join documents d on d.id = c.document_id"
        " where c.embedder = %(embedder)s and (d.owner_id = %(owner)s or d.shared)"
        " order by c.embedding::vector({dim}) <=> %(vector)s::vector({dim}) limit %(k)s"
    ).format(dim=dimension)
    params = {"embedder": embedder, "owner": user_id, "vector": vector, "k": TOP_K}
    async with db.pool.connection() as conn:
        cursor = await conn.execute(statement, params)
        return await cursor.fetchall()
