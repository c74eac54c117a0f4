"""All settings in one place, read from the environment and `.env`.

Unprefixed names (`DATABASE_URL`, `GEMINI_API_KEY`, `HOST`, `PORT`) are the ones every deployment
tool already uses; everything specific to Allin is prefixed `ALLIN_`.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class LLMProvider(StrEnum):
    GEMINI = "gemini"
    OPENAI = "openai"
    OFFLINE = "offline"


class EmbedderProvider(StrEnum):
    GEMINI = "gemini"
    MINILM = "minilm"


class RerankerKind(StrEnum):
    OFF = "off"
    LATE_INTERACTION = "late-interaction"


class AuthMode(StrEnum):
    LOCAL = "local"
    SUPABASE = "supabase"


class BlobBackend(StrEnum):
    LOCAL = "local"
    SUPABASE = "supabase"


class ChatStoreBackend(StrEnum):
    POSTGRES = "postgres"
    SUPABASE = "supabase"


class VoiceMode(StrEnum):
    OFFLINE = "offline"
    LIVE = "live"
    OFF = "off"


class SignupMode(StrEnum):
    OPEN = "open"
    INVITE = "invite"


class ConfigError(ValueError):
    """A setting combination that cannot work; raised at start-up, never mid-request."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_prefix="ALLIN_", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Path(".allin")
    host: str = Field("127.0.0.1", validation_alias=AliasChoices("HOST", "ALLIN_HOST"))
    port: int = Field(8000, validation_alias=AliasChoices("PORT", "ALLIN_PORT"))
    log_level: str = "INFO"

    database_url: str | None = Field(
        None, validation_alias=AliasChoices("DATABASE_URL", "ALLIN_DATABASE_URL")
    )
    db_pool_min: int = 1
    db_pool_max: int = 10
    # How long a request waits for a database connection before failing as `unavailable`.
    db_wait_s: float = Field(5.0, gt=0)

    # None means "pick for me": Gemini when a key is set, otherwise the offline model.
    llm: LLMProvider | None = None
    llm_timeout_s: float = Field(60.0, gt=0)
    # Longest silence tolerated between two streamed chunks before the turn fails as unavailable.
    llm_stall_timeout_s: float = Field(30.0, gt=0)

    gemini_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("GEMINI_API_KEY", "GOOGLE_API_KEY", "ALLIN_GEMINI_API_KEY"),
    )
    gemini_model: str = "gemini-2.0-flash"
    gemini_base_url: str | None = None

    openai_base_url: str = "http://127.0.0.1:11434/v1"
    openai_model: str = "llama3.2"
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("ALLIN_OPENAI_API_KEY", "OPENAI_API_KEY")
    )

    # None means "pick for me": Gemini when a key is set, otherwise the local MiniLM model.
    embedder: EmbedderProvider | None = None
    gemini_embedding_model: str = "gemini-embedding-001"
    gemini_embedding_dimension: int = Field(768, gt=0, le=3072)

    # Pause between offline tokens so the UI visibly streams; 0 for tests and benchmarks.
    offline_token_delay_ms: float = Field(12.0, ge=0)

    auth_mode: AuthMode = AuthMode.LOCAL
    # Local mode signs its tokens with this; generated on first start into the data dir if unset.
    jwt_secret: SecretStr | None = None
    token_ttl_s: int = Field(12 * 3600, gt=0)
    # How often an open chat socket checks that its token is still valid (not logged out, not
    # expired); one that is not is closed with 4401.
    socket_reauth_s: float = Field(30.0, gt=0)

    # Guards against guessing and floods (README "Security"), shared by every process through
    # the database; 0 turns one off. Failed log-ins an account, and an address, may have before
    # each further attempt waits: `auth_backoff_s`, doubling per failure up to the maximum. A
    # success ends the account's streak; a streak is forgotten after `auth_forget_s` of quiet.
    login_failures_per_account: int = Field(5, ge=0)
    login_failures_per_address: int = Field(20, ge=0)
    # Sign-ups from one address before each further one waits (successful ones count too).
    signups_per_address: int = Field(10, ge=0)
    auth_backoff_s: float = Field(1.0, gt=0)
    auth_backoff_max_s: float = Field(900.0, gt=0)
    auth_forget_s: float = Field(3600.0, gt=0)
    # Who may sign up: `open` (anyone) or `invite` (an admin's invitation). With
    # `signup_domains` set, addresses in those domains need no invitation, and in `open` mode
    # only they may sign up. The first account (the admin) is always allowed.
    signup: SignupMode = SignupMode.OPEN
    signup_domains: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Chat sockets one user may hold open at once, across processes.
    max_sockets_per_user: int = Field(20, ge=0)
    # `ping` and `cancel` frames per user per minute (a quarter of it at once), across processes.
    control_frames_per_minute: int = Field(120, ge=0)

    supabase_url: str | None = Field(
        None, validation_alias=AliasChoices("SUPABASE_URL", "ALLIN_SUPABASE_URL")
    )
    supabase_anon_key: str | None = Field(
        None, validation_alias=AliasChoices("SUPABASE_ANON_KEY", "ALLIN_SUPABASE_ANON_KEY")
    )
    # Legacy HS256 secret; projects on asymmetric signing keys are verified from their JWKS.
    supabase_jwt_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SUPABASE_JWT_SECRET", "ALLIN_SUPABASE_JWT_SECRET")
    )

    # The knowledge base. Chunk sizes are in the local embedding model's tokens. It embeds only
    # a chunk's first 256, but full text sees all of it, and on eval/questions.jsonl 512-token
    # chunks found the answer in the top 5 more often than 256 or 400 (0.92 vs 0.83 and 0.88).
    rag_chunk_tokens: int = Field(512, ge=32, le=4096)
    rag_chunk_overlap: int = Field(64, ge=0)
    rag_top_k: int = Field(5, ge=1, le=50)
    # Nearest chunks and full-text matches each fetched before fusion; HNSW's ef_search.
    rag_candidates: int = Field(40, ge=1, le=1000)
    rag_ef_search: int = Field(100, ge=1, le=1000)
    # Reciprocal-rank fusion of the two lists: a chunk scores weight / (rrf_k + rank) in each.
    # On eval/docs-dev.jsonl the vector list is the better one (alone 0.86 hit@5 / 0.74 MRR@10,
    # full text alone 0.70 / 0.53), so it weighs twice; k=10 rather than the usual 60 lets a top
    # rank count. 2 / 1 / 10 moved docs-dev from 0.88 / 0.66 (1 / 1 / 60) to 0.94 / 0.74, and
    # questions.jsonl from 0.92 / 0.77 to 0.93 / 0.83; weights 1.5-3 and k 10-30 all do better
    # than before.
    rag_vector_weight: float = Field(2.0, ge=0)
    rag_text_weight: float = Field(1.0, ge=0)
    rag_rrf_k: int = Field(10, ge=1, le=1000)
    # Code is then reordered among itself by scores, not ranks: its similarity and its full-text
    # relevance, each scaled to 0-1 over the code candidates, this share of similarity. A code
    # chunk's vector reads only its first 256 tokens, and a rank forgets by how much the best full
    # text match leads. Over eval/code-dev.jsonl and code-dev2.jsonl (75 questions) MRR@10 0.535
    # → 0.548, and by file 0.668 → 0.721; shares 0.35-0.5 do as well, 0.2 and 0.6 worse.
    rag_code_by_scores: bool = True
    rag_code_vector_share: float = Field(0.45, ge=0, le=1)
    # Reranking of the fused candidates (allin.rag.rerank): `late-interaction` matches the
    # question's token vectors with each passage's (MiniLM's, stored at ingestion), or `off`.
    # It reorders the best `rag_rerank_depth`, mixing its score `rag_rerank_weight` with the
    # fused rank `1 - weight`.
    reranker: RerankerKind = RerankerKind.LATE_INTERACTION
    rag_rerank_depth: int = Field(20, ge=2, le=200)
    rag_rerank_weight: float = Field(0.7, ge=0, le=1)
    # Code and prose take turns in the ranking, so a repository's docs cannot push its code out of
    # the first passages: on eval/code-dev.jsonl hit@5 0.700 → 0.800, MRR@10 0.411 → 0.462.
    rag_mix_code_and_prose: bool = True
    # ... with the best code passage first, rather than the better kind first: a newcomer asking
    # about a repository wants where the code is, and its docs still come second. On
    # eval/code-dev.jsonl hit@5 0.800 → 0.833, MRR@10 0.462 → 0.610 (code-test 0.525 → 0.550,
    # 0.287 → 0.374); scopes of one kind (the docs sets) are left as they are.
    rag_code_first: bool = True
    # ... if a code passage is among the first this many fused candidates (0: whenever code is
    # found); otherwise the better kind leads. A question about using a tool whose code is in
    # the scope too finds its best code far down, and its docs page first. With the docs corpus
    # and the Flask repository in one scope: docs-dev MRR@10 0.567 → 0.617, docs-dev2 0.577 →
    # 0.645, the code dev sets unchanged there and in the repository alone (8-10 the same; 5-7
    # cost the code sets, 12-15 give back the docs' gain).
    rag_code_leads_within: int = Field(10, ge=0, le=200)
    # ... and a repository's tests after the code they test, unless the question is about tests
    # (`allin.sources.roles`): on eval/code-dev.jsonl hit@5 0.833 → 0.867, MRR@10 0.610 → 0.662.
    rag_tests_after_code: bool = True
    # A retrieved part of a function cut into several comes back with its sibling parts, nearest
    # first, up to this many tokens in all (0: each part alone), and the parts it took in leave
    # the ranking: the part matching the question best is often not the one holding the answer.
    # On eval/code-dev.jsonl and code-dev2.jsonl (75 questions) hit@5 0.720 → 0.733, MRR@10
    # 0.548 → 0.581; 3,072 to 8,192 give the same, 1,024 (one part, as code chunks are cut at
    # 1,024) nothing. Five such passages make a prompt of up to ~10,000 tokens.
    rag_whole_definition_tokens: int = Field(2048, ge=0, le=16384)
    # After a change of embedder, re-embed the chunks the old one made in the background when the
    # app starts (they are found by full text only until then); `allin reembed` does it with a
    # progress bar instead.
    reembed_on_start: bool = True
    # Passages less similar to the question than this (cosine) are not shown to the model.
    rag_min_similarity: float = Field(0.3, ge=-1, le=1)
    max_document_bytes: int = Field(20 * 1024 * 1024, gt=0)
    # What reading one document may cost, whatever its upload size: bytes once inflated (DOCX zip
    # members, PDF content streams), the inflated-to-compressed ratio, pages, characters of text
    # and chunks; and the parser process's wall time and address space. Over one: `too_large`.
    max_document_uncompressed_bytes: int = Field(64 * 1024 * 1024, gt=0)
    max_document_compression_ratio: int = Field(100, gt=1)
    max_document_pages: int = Field(2000, gt=0)
    max_document_chars: int = Field(2_000_000, gt=0)
    max_document_chunks: int = Field(2000, gt=0)
    document_parse_timeout_s: float = Field(60.0, gt=0)
    document_parser_memory_bytes: int = Field(1024 * 1024 * 1024, ge=128 * 1024 * 1024)
    # Request bodies: an upload (several documents and their multipart framing), any other route.
    max_upload_bytes: int = Field(100 * 1024 * 1024, gt=0)
    max_request_bytes: int = Field(1024 * 1024, gt=0)
    # Where uploaded files live, and which API chats are stored through (Postgres directly, or
    # Supabase's REST API for deployments with no database connection).
    blobs: BlobBackend = BlobBackend.LOCAL
    chat_store: ChatStoreBackend = ChatStoreBackend.POSTGRES
    # Server-side only: Storage and the REST API act with it, bypassing row-level security.
    supabase_service_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices(
            "SUPABASE_SERVICE_KEY", "SUPABASE_SERVICE_ROLE_KEY", "ALLIN_SUPABASE_SERVICE_KEY"
        ),
    )
    # Long-term memory (mem0 over the app's Postgres): `on` or `off`.
    memory: bool = True
    # Memories put in a turn's prompt, and the least cosine similarity to the question they need.
    memory_top_k: int = Field(5, ge=1, le=50)
    memory_threshold: float = Field(0.25, ge=0, le=1)
    # How long a turn waits for the memory search before answering without it.
    memory_timeout_s: float = Field(5.0, gt=0)
    # Onboarding paths: a member waiting this long on their next step counts as stuck on it.
    onboarding_stuck_after_s: float = Field(3 * 24 * 3600, gt=0)

    # Resumption (README "Never lose a turn"). Relay the chats' frames between app processes
    # through Postgres LISTEN/NOTIFY; `allin serve --workers N` turns it on for N > 1.
    relay: bool = False
    # Frames each chat keeps in memory for clients that reconnect; older ones come from the table.
    resume_buffer_frames: int = Field(4096, gt=0)
    # Frames queued for one socket before it counts as too slow and is closed (it may resume).
    socket_queue_frames: int = Field(2048, gt=0)
    # An answer whose process sent no heartbeat for this long is stored as interrupted.
    run_stale_s: float = Field(30.0, gt=0)
    # Messages (recordings, MCP calls) per user per minute, across processes; 0: no limit.
    rate_limit_per_minute: int = Field(120, ge=0)
    # Turns a process answers at once; more wait in order, their clients told `busy`, and
    # /readyz answers 503 while any wait (chat/admission.py). A turn mostly waits on the
    # embedder, the database pool (`db_pool_max`) and the cores: a few at a time keeps each fast.
    max_concurrent_turns: int = Field(8, ge=1)

    # Voice (README "Voice"): `offline` speech models (the default), `live` (Gemini Live, needs
    # GEMINI_API_KEY), or `off`.
    voice: VoiceMode = VoiceMode.OFFLINE
    gemini_live_model: str = "gemini-2.0-flash-live-001"
    gemini_live_voice: str | None = None
    # Certificate authorities (PEM) the Live connection trusts besides the usual ones: a
    # TLS-inspecting proxy's, or the tests' local Live server's.
    gemini_live_ca_file: Path | None = None
    # Longest recording accepted; longer ones are refused as too large and not stored.
    voice_max_seconds: float = Field(60.0, gt=0, le=600)
    # A recording with less speech than this (voice-activity detection) is treated as silence.
    voice_min_speech_ms: float = Field(200.0, ge=0)
    # While the user speaks, a transcript so far is sent after each this much new audio; 0: never.
    voice_partial_every_s: float = Field(1.5, ge=0)
    # Threads the offline speech-to-text model uses (0: one per core).
    voice_stt_threads: int = Field(0, ge=0)

    # Repositories (README "Repositories"). A token for private https remotes, sent as git's
    # HTTP basic credentials; never logged, never returned by the API.
    git_token: SecretStr | None = None
    # Files over this many bytes are skipped (and reported) rather than indexed.
    repo_max_file_bytes: int = Field(1024 * 1024, gt=0)
    # A repository with more indexable files than this is refused with `too_large`.
    repo_max_files: int = Field(50_000, gt=0)
    # Code chunks' size in the local model's tokens (documents use ALLIN_RAG_CHUNK_TOKENS): on
    # eval/code-dev.jsonl, 1024 found the answering lines in the top 5 more often than 512.
    repo_code_chunk_tokens: int = Field(1024, ge=64, le=8192)
    # A code chunk that the same cut at this size splits into pieces also gets one vector per
    # piece, and code is ordered by the nearest: the local model reads 256 tokens of a chunk.
    # 0: none. Changing it indexes each file again at its next sync.
    repo_piece_tokens: int = Field(256, ge=0, le=8192)
    # Every repository is synced again this often (by whichever worker gets there); 0: never.
    repo_sync_interval_s: float = Field(3600.0, ge=0)
    # Run a job worker inside the app process (so `make run` alone syncs repositories); turn it
    # off where dedicated `allin worker` processes serve the queue.
    jobs_worker: bool = True
    jobs_concurrency: int = Field(1, ge=1, le=32)
    # A worker silent this long counts as dead, and its jobs are queued again.
    jobs_stalled_after_s: float = Field(30.0, ge=1)
    # Uploads are ingested by jobs. The app ingests them itself (a worker on the `documents`
    # queue) even with ALLIN_JOBS_WORKER off, since an upload must be ingested somewhere; turn
    # this off too where dedicated `allin worker`s ingest.
    ingest_worker: bool = True
    # Uploads one worker ingests at once, for all users; more than ALLIN_INGEST_PER_USER, so that
    # one busy user leaves room for the next upload of someone else.
    ingest_concurrency: int = Field(4, ge=1, le=32)
    # A user's uploads ingested at once, across all workers (the rest wait their turn).
    ingest_per_user: int = Field(2, ge=1, le=16)
    # How long an upload request waits for its ingestion before answering 202 (the documents then
    # say how it goes: GET /api/v1/documents/{id}); a request may ask for less (`?wait=`).
    upload_wait_s: float = Field(20.0, ge=0, le=300)

    # Trust (README "Answers you can trust"). A question whose best passage is less similar than
    # this (cosine) is answered "not found, ask these people" instead of from weak passages...
    trust_abstain_below: float = Field(0.268, ge=-1, le=1)
    # ...or less similar than this while the question has a word no document contains. Both
    # chosen by `allin eval-abstention` on the dev sets (eval/README.md: on test, precision
    # 0.667, recall 0.50, answerable questions still answered 0.971).
    trust_unknown_word_below: float = Field(0.36, ge=-1, le=1)
    # A commit's weight in "who knows about X" halves every this many days.
    trust_owner_half_life_days: float = Field(180.0, gt=0)

    max_message_bytes: int = Field(32 * 1024, gt=0)
    history_turns: int = Field(20, ge=0)
    history_page_max: int = Field(200, gt=0)

    @field_validator("signup_domains", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """`ALLIN_SIGNUP_DOMAINS=team8.dev, example.com`: lower case, no `@`."""
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            return [str(d).strip().lower().lstrip("@") for d in value if str(d).strip()]
        return value

    @model_validator(mode="after")
    def _check_combinations(self) -> Settings:
        if self.llm is LLMProvider.GEMINI and self.gemini_api_key is None:
            raise ConfigError("ALLIN_LLM=gemini needs GEMINI_API_KEY (or GOOGLE_API_KEY)")
        if self.embedder is EmbedderProvider.GEMINI and self.gemini_api_key is None:
            raise ConfigError("ALLIN_EMBEDDER=gemini needs GEMINI_API_KEY (or GOOGLE_API_KEY)")
        if self.voice is VoiceMode.LIVE and self.gemini_api_key is None:
            raise ConfigError("ALLIN_VOICE=live needs GEMINI_API_KEY (or GOOGLE_API_KEY)")
        if self.max_upload_bytes < self.max_document_bytes:
            raise ConfigError("ALLIN_MAX_UPLOAD_BYTES must be at least ALLIN_MAX_DOCUMENT_BYTES")
        if self.rag_chunk_overlap >= self.rag_chunk_tokens:
            raise ConfigError("ALLIN_RAG_CHUNK_OVERLAP must be smaller than ALLIN_RAG_CHUNK_TOKENS")
        if self.auth_mode is AuthMode.SUPABASE and not (
            self.supabase_url or self.supabase_jwt_secret
        ):
            raise ConfigError(
                "ALLIN_AUTH_MODE=supabase needs SUPABASE_URL (for its signing keys)"
                " or SUPABASE_JWT_SECRET (legacy)"
            )
        on_supabase = [
            setting
            for setting, chosen in (
                ("ALLIN_BLOBS=supabase", self.blobs is BlobBackend.SUPABASE),
                ("ALLIN_CHAT_STORE=supabase", self.chat_store is ChatStoreBackend.SUPABASE),
            )
            if chosen
        ]
        if on_supabase and not (self.supabase_url and self.supabase_service_key):
            raise ConfigError(
                f"{' and '.join(on_supabase)} needs SUPABASE_URL and SUPABASE_SERVICE_KEY"
                " (the service role key)"
            )
        return self

    @cached_property
    def llm_provider(self) -> LLMProvider:
        if self.llm is not None:
            return self.llm
        return LLMProvider.GEMINI if self.gemini_api_key else LLMProvider.OFFLINE

    @cached_property
    def embedder_provider(self) -> EmbedderProvider:
        if self.embedder is not None:
            return self.embedder
        return EmbedderProvider.GEMINI if self.gemini_api_key else EmbedderProvider.MINILM

    @property
    def embedded_pg_dir(self) -> Path:
        return self.data_dir.resolve() / "pg"


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # pgserver logs every initdb/pg_ctl command line at INFO.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    # It logs every model load at INFO.
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
