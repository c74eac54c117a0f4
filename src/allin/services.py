"""The app's services, built once from settings: the only place concrete providers are chosen."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

import httpx

from allin.auth.personal import PersonalTokens, WithPersonalTokens
from allin.auth.principal import TokenVerifier
from allin.auth.service import AuthService
from allin.auth.tokens import LocalTokens, SupabaseTokens
from allin.chat.admission import TurnAdmission
from allin.chat.interaction import InteractionManager
from allin.chat.memory_notices import MemoryNotices
from allin.chat.recovery import RunKeeper
from allin.chat.relay import Relay
from allin.chat.runs import Runs
from allin.chat.service import ChatService
from allin.chat.streams import Streams
from allin.config import AuthMode, Settings
from allin.embeddings.base import Embedder
from allin.embeddings.registry import build_embedder
from allin.guard.auth_throttle import AuthThrottle
from allin.guard.rates import UserRates
from allin.guard.signup import SignupPolicy
from allin.guard.sockets import SocketGuard
from allin.guard.upkeep import keep_guards
from allin.jobs.options import app_worker
from allin.jobs.queue import JobQueue
from allin.llm.base import ChatModel
from allin.llm.registry import build_chat_model
from allin.memory.build import start_memory
from allin.memory.manager import MemoryManager
from allin.memory.pipeline import MemoryContext, MemoryListener
from allin.onboarding.evidence import EvidenceListener
from allin.onboarding.paths import PathSync
from allin.onboarding.pitch import PitchContext
from allin.onboarding.service import OnboardingService
from allin.policies import chunking_policy, retrieval_policy, source_policy
from allin.rag.ingest import Ingestor
from allin.rag.library import DocumentLibrary
from allin.rag.rerank import build_reranker
from allin.rag.retrieval import Retriever
from allin.rag.uploads import UploadIngestion
from allin.sources.service import RepositoryService
from allin.sources.sync import RepositorySync
from allin.storage.blobs import BlobStore
from allin.storage.chat_store import ChatStore
from allin.storage.db import Database
from allin.storage.described import DescribedStore
from allin.storage.documents import DocumentStore
from allin.storage.feedback import FeedbackStore
from allin.storage.folders import private_dir
from allin.storage.frame_log import FrameLog
from allin.storage.invites import InviteStore
from allin.storage.local_secrets import load_or_create_secret
from allin.storage.onboarding import OnboardingStore
from allin.storage.personal_tokens import PersonalTokenStore
from allin.storage.registry import (
    build_blob_store,
    build_chat_store,
    open_supabase,
    uploads_queue,
)
from allin.storage.repositories import RepositoryStore
from allin.storage.runs import RunLog
from allin.storage.supabase_client import SupabaseConnection
from allin.storage.throttle import ThrottleStore
from allin.storage.trust import TrustStore
from allin.storage.uploads import UploadStore
from allin.storage.users import UserRepository
from allin.trust.answering import AbstentionPolicy, TrustedKnowledgeSource
from allin.trust.described import DescribedDocuments
from allin.trust.experts import ExpertFinder
from allin.trust.refresh import TrustRefresher
from allin.trust.warnings import StaleWarnings
from allin.voice.archive import VoiceArchive
from allin.voice.conversation import VoiceApp, VoiceEngine
from allin.voice.registry import build_voice

logger = logging.getLogger(__name__)

# How long shutdown waits for answers being written, so they are stored rather than cut off.
_DRAIN_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    http: httpx.AsyncClient
    chats: ChatStore
    blobs: BlobStore
    # The Supabase client behind the Supabase-backed stores, when one is chosen.
    supabase: SupabaseConnection | None
    tokens: TokenVerifier
    auth: AuthService
    personal_tokens: PersonalTokens
    model: ChatModel
    runs: Runs
    streams: Streams
    interaction: InteractionManager
    # How many turns are answered at once, and how many wait (reported by /readyz).
    admission: TurnAdmission
    embedder: Embedder
    documents: DocumentStore
    ingestor: Ingestor
    library: DocumentLibrary
    chat_service: ChatService
    retriever: Retriever
    repositories: RepositoryService
    onboarding: OnboardingService
    jobs: JobQueue
    # None when long-term memory is off (`ALLIN_MEMORY=off`).
    memory: MemoryManager | None
    archive: VoiceArchive
    # None when voice is off (`ALLIN_VOICE=off`).
    voice: VoiceEngine | None
    # The trust layer: stale links and owners learned at sync time, abstention, who knows.
    trust: TrustStore
    # Uploaded documents that describe a repository, and every cited document's warnings.
    described: DescribedDocuments
    stale_warnings: StaleWarnings
    experts: ExpertFinder
    knowledge: TrustedKnowledgeSource
    # Open sockets, and the rates of messages and control frames, per user across processes.
    sockets: SocketGuard
    rates: UserRates
    # Heartbeats and the relay: they run for the app's lifetime and are cancelled at stop.
    background: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def start(cls, settings: Settings) -> Services:
        clock = _StartupClock()
        private_dir(settings.data_dir)
        db = await Database.open(settings)
        clock.step("database (and migrations)")
        http = httpx.AsyncClient()
        supabase = await open_supabase(settings)
        chats = build_chat_store(settings, db, supabase)
        blobs = await build_blob_store(settings, supabase)
        users = UserRepository(db)
        sessions, local = _token_verifier(settings, users, http)
        token_store = PersonalTokenStore(db)
        tokens = WithPersonalTokens(token_store, sessions)
        embedder = build_embedder(settings)
        model = build_chat_model(settings, embedder)
        runs = Runs(RunLog(db))
        streams = Streams(
            FrameLog(db),
            chats,
            relay=settings.relay,
            buffer_frames=settings.resume_buffer_frames,
        )
        keeper = RunKeeper(chats, streams, runs, settings.run_stale_s)
        background = [asyncio.create_task(keeper.keep(), name="run-keeper")]
        throttle_store = ThrottleStore(db)
        sockets = SocketGuard(throttle_store, settings)
        background.append(
            asyncio.create_task(keep_guards(sockets, throttle_store, settings), name="guards")
        )
        if settings.relay:
            relay = Relay(db.url, streams, runs)
            background.append(asyncio.create_task(relay.listen(), name="relay"))
            # Frames published before this process listens would not reach its own sockets.
            await asyncio.wait_for(relay.listening.wait(), timeout=settings.db_wait_s + 10)
        clock.step("stores, auth, streams")
        documents = DocumentStore(db)
        await documents.ensure_vector_index(embedder.name, embedder.dimension)
        clock.step("embedder and vector index")
        ingestor = Ingestor(documents, blobs, embedder, chunking_policy(settings))
        reranker = build_reranker(
            settings.reranker,
            documents,
            embedder,
            depth=settings.rag_rerank_depth,
            weight=settings.rag_rerank_weight,
        )
        retriever = Retriever(documents, embedder, retrieval_policy(settings), reranker)
        repository_store = RepositoryStore(db)
        trust = TrustStore(db)
        described_store = DescribedStore(db)
        described = DescribedDocuments(described_store, trust, repository_store)
        experts = ExpertFinder(trust, settings.trust_owner_half_life_days)
        stale_warnings = StaleWarnings(trust, described_store)
        knowledge = TrustedKnowledgeSource(
            retriever,
            experts,
            trust,
            stale_warnings,
            AbstentionPolicy(settings.trust_abstain_below, settings.trust_unknown_word_below),
        )
        onboarding_store = OnboardingStore(db)
        onboarding = OnboardingService(onboarding_store, settings.onboarding_stuck_after_s)
        repository_sync = RepositorySync(
            repository_store,
            embedder,
            settings.data_dir.resolve() / "repos",
            source_policy(settings),
            settings.git_token.get_secret_value() if settings.git_token else None,
            listeners=[PathSync(onboarding_store)],
            after_sync=TrustRefresher(trust, described).refresh,
        )
        # Loading the local model takes seconds: do it now, not on the first question.
        runs.detach(embedder.warm_up(), name="embedder-warm-up")
        if settings.reembed_on_start:
            runs.detach(ingestor.reembed_stale(), name="re-embed-stale-chunks")
        # Built in the background (mem0, the embedding model): /readyz waits for it, and so does
        # the first turn that needs it; health, the UI and logging in do not.
        memory = start_memory(settings, db, embedder) if settings.memory else None
        clock.step("memory (started in the background)")
        admission = TurnAdmission(settings.max_concurrent_turns)
        uploads = UploadStore(db)
        ingestion = UploadIngestion(uploads, blobs, ingestor, described)
        jobs = JobQueue(
            db,
            repository_store,
            repository_sync,
            memory,
            admission,
            ingestion,
            uploads_queue(settings),
        )
        await jobs.open()
        clock.step("job queue")
        if memory is not None:
            memory.announce_through(MemoryNotices(streams))
        if memory is not None and settings.jobs_worker:
            # With a worker in this process, learning is a job: off the answer's path, retried
            # if the process stops. Without one (tests; `allin worker` itself), it runs here.
            memory.learn_through(jobs)
        if worker := app_worker(settings):
            background.append(asyncio.create_task(jobs.run_worker(worker), name="job-worker"))
        interaction = InteractionManager(
            settings,
            chats,
            model,
            runs,
            streams,
            sources=[
                knowledge,
                *([MemoryContext(memory, settings)] if memory else []),
                PitchContext(onboarding, memory, settings.memory_timeout_s),
            ],
            listeners=[
                *([MemoryListener(memory)] if memory else []),
                EvidenceListener(onboarding),
            ],
            admission=admission,
        )
        archive = VoiceArchive(db, blobs)
        voice = build_voice(VoiceApp(settings, archive, chats, interaction, streams, runs))
        if voice is not None:
            runs.detach(voice.warm_up(), name="voice-warm-up")
        clock.step("chat pipeline and voice")
        clock.ready()
        logger.info(
            "chat model: %s; embedder: %s; auth: %s; memory: %s; voice: %s",
            model.name,
            embedder.name,
            settings.auth_mode.value,
            "on" if memory else "off",
            voice.name if voice else "off",
        )
        return cls(
            settings=settings,
            db=db,
            http=http,
            chats=chats,
            blobs=blobs,
            supabase=supabase,
            tokens=tokens,
            auth=AuthService(
                users,
                local,
                AuthThrottle(throttle_store, settings),
                SignupPolicy(settings, InviteStore(db)),
            ),
            personal_tokens=PersonalTokens(token_store),
            model=model,
            runs=runs,
            streams=streams,
            interaction=interaction,
            admission=admission,
            embedder=embedder,
            documents=documents,
            library=DocumentLibrary(
                documents, ingestor, blobs, uploads, jobs, settings.ingest_per_user, described
            ),
            chat_service=ChatService(chats, archive, FeedbackStore(db), settings.history_page_max),
            ingestor=ingestor,
            retriever=retriever,
            repositories=RepositoryService(repository_store, repository_sync, jobs),
            onboarding=onboarding,
            jobs=jobs,
            memory=memory,
            archive=archive,
            voice=voice,
            trust=trust,
            described=described,
            stale_warnings=stale_warnings,
            experts=experts,
            knowledge=knowledge,
            sockets=sockets,
            rates=UserRates(throttle_store, settings),
            background=background,
        )

    async def stop(self) -> None:
        await self.runs.drain(_DRAIN_TIMEOUT_S)
        for task in self.background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.streams.aclose()
        await self.jobs.close()
        if self.memory is not None:
            await self.memory.aclose()
        if self.voice is not None:
            await self.voice.aclose()
        await self.model.aclose()
        await self.embedder.aclose()
        await self.http.aclose()
        if self.supabase is not None:
            await self.supabase.aclose()
        await self.db.close()


def _token_verifier(
    settings: Settings, users: UserRepository, http: httpx.AsyncClient
) -> tuple[TokenVerifier, LocalTokens | None]:
    """The verifier for this deployment, and the local issuer when accounts are ours."""
    if settings.auth_mode is AuthMode.SUPABASE:
        secret = settings.supabase_jwt_secret
        verifier = SupabaseTokens(
            settings.supabase_url, secret.get_secret_value() if secret else None, http
        )
        return verifier, None
    secret_value = (
        settings.jwt_secret.get_secret_value()
        if settings.jwt_secret
        else load_or_create_secret(settings.data_dir / "jwt_secret")
    )
    local = LocalTokens(secret_value, settings.token_ttl_s, users)
    return local, local


class _StartupClock:
    """Logs how long each step of start-up took ("start-up: memory … 6.2 s"), so that a slow
    start says where its time went (`bench/startup.py` prints these lines)."""

    def __init__(self) -> None:
        self._started = self._last = time.monotonic()

    def step(self, what: str) -> None:
        now = time.monotonic()
        logger.info("start-up: %s %.1f s", what, now - self._last)
        self._last = now

    def ready(self) -> None:
        logger.info("start-up: ready in %.1f s", time.monotonic() - self._started)
