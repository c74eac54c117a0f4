-- Uploads are ingested by jobs (rag/uploads.py): a document is recorded as soon as its raw bytes
-- are stored, and tells how its latest ingestion goes, apart from what is indexed of it. `status`
-- stays the indexed state ('indexing': nothing indexed yet; 'ready': a version is searchable;
-- 'failed': its only ingestion failed), so a new version being ingested, or failing, leaves the
-- previous one searchable.
alter table documents
    -- The latest ingestion: waiting for a worker, running, or how it ended.
    add column ingest_status text not null default 'indexed'
        check (ingest_status in ('queued', 'ingesting', 'indexed', 'unchanged', 'failed',
                                 'cancelled')),
    -- Why it failed, as an error code (`too_large`, `bad_request`…); `error` says it in words.
    add column error_code text,
    -- While it runs: {"phase", "done", "total"}.
    add column progress jsonb,
    -- The job (in procrastinate_jobs) of the latest ingestion.
    add column job_id bigint;
