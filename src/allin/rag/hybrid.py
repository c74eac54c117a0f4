"""The hybrid search statement and what it is given: whose documents a search sees, how the
vector and full-text lists are fused, the full-text query made of a question's words, and the
phrase a question quotes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from allin.sources.identifiers import query_terms
from allin.sources.languages import DOC_LANGUAGES

# How many more nearest neighbours than needed to fetch before filtering them to the scope.
_OVERFETCH = 4
_SAFE_WORD = re.compile(r"[^\W_]+(?:_[^\W_]+)*", re.UNICODE)
# Text between matching quotes or backticks ("…", '…', `…`, “…”); an apostrophe inside a word
# (don't) opens nothing, as the opening quote must not follow a letter.
_QUOTED = re.compile(r"(?<![\w])([\"'`“‘])(.+?)([\"'`”’])(?![\w])")
# A quoted single word is full text's ordinary job.
_PHRASE_MIN_WORDS = 2


@dataclass(frozen=True, slots=True)
class Fusion:
    """How the two ranked lists are fused: a chunk scores `weight / (rrf_k + rank)` in each list it
    is in. The defaults are the settings' (`ALLIN_RAG_VECTOR_WEIGHT`, `ALLIN_RAG_TEXT_WEIGHT`,
    `ALLIN_RAG_RRF_K`; see config.py for the figures they were chosen on)."""

    vector_weight: float = 2.0
    text_weight: float = 1.0
    rrf_k: int = 10
    # Code is ordered by scores rather than ranks: its own similarity and full-text relevance,
    # each scaled to 0-1 over the code candidates, mixed with this share of similarity
    # (`ALLIN_RAG_CODE_BY_SCORES`, `ALLIN_RAG_CODE_VECTOR_SHARE`).
    code_by_scores: bool = True
    code_vector_share: float = 0.45


DEFAULT_FUSION = Fusion()


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose documents a search sees: the user's own, plus shared ones unless excluded."""

    owner_id: str
    include_shared: bool = True


def text_query(question: str) -> str:
    """An OR query over the question's words for `to_tsquery`: a question rarely shares all of
    its words with the passage that answers it; ranking rewards passages sharing more of them."""
    words = dict.fromkeys(word.lower() for word in _SAFE_WORD.findall(question) if len(word) > 1)
    # An identifier typed in the question (`OpenSession`, `flask.sessions`) also asks for its
    # words and joined form, as code chunks index them (`meta.terms`).
    words.update(dict.fromkeys(w for w in query_terms(question).split() if len(w) > 1))
    return " | ".join(words)


def quoted_phrase(question: str) -> str | None:
    """The longest text quoted in the question (an error message pasted, a setting's name), if
    any: the passages holding it word for word make a ranked list of their own, weighted like the
    nearest neighbours, since a newcomer quoting what they saw wants exactly where it comes from."""
    quoted = [m.group(2).strip() for m in _QUOTED.finditer(question)]
    quoted = [text for text in quoted if len(_SAFE_WORD.findall(text)) >= _PHRASE_MIN_WORDS]
    return max(quoted, key=len) if quoted else None


def hybrid_params(
    scope: Scope,
    question: str,
    vector: Sequence[float],
    *,
    embedder: str,
    k: int,
    candidates: int,
    ef_search: int,
    fusion: Fusion = DEFAULT_FUSION,
) -> dict[str, Any]:
    """The parameters of `HYBRID_SQL` (the benchmark runs that statement bare with them too)."""
    return {
        "owner": scope.owner_id,
        "shared": scope.include_shared,
        "embedder": embedder,
        "vector": list(vector),
        "tsquery": text_query(question),
        "phrase": quoted_phrase(question),
        "candidates": candidates,
        # Nearest neighbours fetched before the scope filter; also the query's ef_search, as
        # HNSW returns at most ef_search of them.
        "overfetch": max(ef_search, candidates * _OVERFETCH),
        "rrf_k": fusion.rrf_k,
        "vector_weight": fusion.vector_weight,
        "text_weight": fusion.text_weight,
        "code_by_scores": fusion.code_by_scores,
        "code_vector_share": fusion.code_vector_share,
        "prose_formats": sorted(DOC_LANGUAGES),
        "k": k,
    }


_VISIBLE = """
    d.status = 'ready' and (d.owner_id = %(owner)s or (%(shared)s and d.shared))
"""
# A code file of a synced repository (as `Passage.is_code`).
_IS_CODE = "(d.repository_id is not null and coalesce(d.format, '') <> all(%(prose_formats)s))"
# The piece of chunk `c` nearest the question, if it has pieces (`chunk_piece_vectors`: the
# embedder read only the first part of a long code chunk), and how near.
_NEAREST_PIECE = """
left join lateral (
    select p.piece, p.embedding::vector({dim}) <=> %(vector)s::vector({dim}) as distance
    from chunk_piece_vectors p
    where p.chunk_id = c.id and c.embedder = %(embedder)s
    order by 2
    limit 1
) nearest on true"""
# How similar chunk `c` is to the question: as its own vector, or as its nearest piece; none if
# another embedder made them.
_SIMILARITY = """
    case when c.embedder = %(embedder)s
         then 1 - least(c.embedding::vector({dim}) <=> %(vector)s::vector({dim}), nearest.distance)
    end"""

# The nearest chunks come from the HNSW index first (it only serves an ORDER BY ... LIMIT with
# the query vector inline), then are filtered to the scope; when the scope is so narrow that
# fewer than `candidates` survive, an exact scan of the scope's chunks makes up for it (cheap
# precisely then). Full-text matches come from the GIN index. Both index lookups are
# MATERIALIZED so the planner cannot turn them into a per-document loop. The lists are fused by
# weighted reciprocal rank (`Fusion`); ties go to the closer vector.
#
# Code is then reordered among itself by scores (`Fusion.code_by_scores`): a code chunk's full
# text is as telling as its vector, which reads only its first 256 tokens, and a rank throws away
# by how much one candidate leads the next. A chunk with pieces counts as similar as its nearest
# piece there (the lists themselves come from the chunks' own vectors: which passages compete,
# and how many of each kind, stay the same; pieces in the lists cost prose questions in a scope
# holding code). The code candidates are ordered by their mixed, scaled scores (a quoted phrase
# held counting as a perfect score), then handed out the reciprocal-rank scores the code
# candidates had, best to best. So prose keeps its order, and how many of each kind are
# returned, and where they interleave, stay what fusion made them.
HYBRID_SQL = (
    """
with approximate as materialized (
    select c.id, c.document_id, c.embedding::vector({dim}) <=> %(vector)s::vector({dim}) as distance
    from document_chunks c
    where c.embedder = %(embedder)s
    order by c.embedding::vector({dim}) <=> %(vector)s::vector({dim})
    limit %(overfetch)s
),
approximate_visible as (
    select a.id, a.distance, """
    + _IS_CODE
    + """ as is_code
    from approximate a join documents d on d.id = a.document_id
    where """
    + _VISIBLE
    + """
),
exact_visible as (
    select c.id, c.embedding::vector({dim}) <=> %(vector)s::vector({dim}) as distance, """
    + _IS_CODE
    + """ as is_code
    from document_chunks c join documents d on d.id = c.document_id
    where (select count(*) from approximate_visible) < %(candidates)s
      and c.embedder = %(embedder)s and """
    + _VISIBLE
    + """
    order by distance
    limit %(candidates)s
),
by_vector as (
    select id, is_code, row_number() over (order by distance, id) as rank
    from (select id, distance, is_code from approximate_visible
          union select id, distance, is_code from exact_visible) found
    order by distance, id
    limit %(candidates)s
),
text_matches as materialized (
    select c.id, c.document_id, ts_rank(c.tsv, q.text) as relevance
    from document_chunks c, (select to_tsquery('english', %(tsquery)s) as text) q
    where c.tsv @@ q.text
),
phrase_matches as materialized (
    select c.id, c.document_id, ts_rank(c.tsv, q.phrase) as relevance
    from document_chunks c,
         (select phraseto_tsquery('english', coalesce(%(phrase)s::text, '')) as phrase) q
    where %(phrase)s::text is not null and c.tsv @@ q.phrase
),
by_phrase as (
    select m.id, """
    + _IS_CODE
    + """ as is_code, row_number() over (order by m.relevance desc, m.id) as rank
    from phrase_matches m join documents d on d.id = m.document_id
    where """
    + _VISIBLE
    + """
    order by m.relevance desc, m.id
    limit %(candidates)s
),
by_text as (
    select m.id, """
    + _IS_CODE
    + """ as is_code, row_number() over (order by m.relevance desc, m.id) as rank
    from text_matches m join documents d on d.id = m.document_id
    where """
    + _VISIBLE
    + """
    order by m.relevance desc, m.id
    limit %(candidates)s
),
fused as (
    select id, sum(weight / (%(rrf_k)s + rank)) as score, bool_or(is_code) as is_code,
           bool_or(quoted) as quoted
    from (select id, rank, %(vector_weight)s::float8 as weight, is_code, false as quoted
          from by_vector
          union all select id, rank, %(text_weight)s::float8, is_code, false from by_text
          union all select id, rank, %(vector_weight)s::float8, is_code, true from by_phrase) ranked
    group by id
),
code_measured as (
    select f.id, f.score, f.quoted, """
    + _SIMILARITY
    + """ as similarity,
           ts_rank(c.tsv, to_tsquery('english', %(tsquery)s)) as relevance
    from fused f join document_chunks c on c.id = f.id"""
    + _NEAREST_PIECE
    + """
    where f.is_code and %(code_by_scores)s
),
code_judged as (
    select id, score,
           %(code_vector_share)s::float8 * coalesce((similarity - min(similarity) over ())
               / nullif(max(similarity) over () - min(similarity) over (), 0), 0)
           + (1 - %(code_vector_share)s::float8)
               * coalesce(relevance / nullif(max(relevance) over (), 0), 0)
           + quoted::int as judged
    from code_measured
),
code_rescored as (
    select judged.id, fused_scores.score
    from (select id, row_number() over (order by judged desc, score desc, id) as place
          from code_judged) judged
    join (select score, row_number() over (order by score desc, id) as place
          from code_judged) fused_scores using (place)
),
rescored as (
    select f.id, coalesce(r.score, f.score) as score
    from fused f left join code_rescored r on r.id = f.id
)
select c.id as chunk_id, c.document_id, d.name as document_name, d.title as document_title,
       c.ord, c.content, c.heading, c.page, f.score::float8 as score,
       coalesce("""
    + _SIMILARITY
    + """, 0)::float8 as similarity,
       d.format, d.repository_id, r.name as repository, rf.commit_sha, rf.committed_at,
       rf.author_name, d.updated_at as document_updated_at, u.email as uploader,
       (c.meta ->> 'start_line')::int as start_line, (c.meta ->> 'end_line')::int as end_line,
       (c.meta -> 'pieces' -> nearest.piece ->> 0)::int as focus_start_line,
       (c.meta -> 'pieces' -> nearest.piece ->> 1)::int as focus_end_line
from rescored f
join document_chunks c on c.id = f.id
join documents d on d.id = c.document_id"""
    + _NEAREST_PIECE
    + """
left join repository_files rf on rf.document_id = d.id
left join repositories r on r.id = d.repository_id
left join users u on u.id = d.owner_id
order by f.score desc, similarity desc, c.id
limit %(k)s
"""
)

# The abbreviations visible documents define that the question uses, in either form: its short
# forms (`shorts`), or a long form among its words (`words`, lower case between spaces).
EXPANSIONS_SQL = (
    """
select distinct a.short, a.long, a.short = any(%(shorts)s) as asked_short
from document_abbreviations a join documents d on d.id = a.document_id
where (a.short = any(%(shorts)s) or strpos(%(words)s, ' ' || a.long || ' ') > 0) and """
    + _VISIBLE
)
