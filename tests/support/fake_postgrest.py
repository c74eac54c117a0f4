"""A stand-in for Supabase's REST API (PostgREST, `/rest/v1`), executing on the real test Postgres
exactly the subset supabase-py's async client (postgrest 2.34) sends for `SupabaseChatStore`.
No PostgREST server can be installed here, so its HTTP protocol is the contract.

Covered, each request checking `Authorization: Bearer <service key>` and `apikey: <service key>`
and running in one transaction as the database owner (as the service role, RLS does not apply):
- `GET /rest/v1/<table>` with `select=*` or `select=<col>,…`, filters `<col>=eq.<value>` and
  `<col>=lt.<value>`, `order=<col>.asc|desc,…` and `limit=<n>` → 200 with a JSON array.
- `POST /rest/v1/<table>` with one JSON object → 201; the inserted rows with
  `Prefer: return=representation`, no body with `return=minimal`.
- `PATCH /rest/v1/<table>?<filters>` with a JSON object of new values, and
  `DELETE /rest/v1/<table>?<filters>` → 200 with the changed rows (`return=representation`),
  204 with `return=minimal`.
- `POST /rest/v1/rpc/<function>` with a JSON object of named arguments → 200 with the function's
  result as JSON (scalar or jsonb; a set-returning function's rows as an array of objects);
  arguments other than exactly the function's → 404 PGRST202.

Tables (`chats`, `chat_turns`) and functions (`allin_*` of migrations 0004 and 0017) are an
allow-list;
column names are checked against the catalog and every value is a query parameter, so nothing a
client sends becomes SQL text. Anything else answers 400 PGRST100, unknown tables 404 PGRST205.
Errors are PostgREST's JSON, `{"code", "message", "details", "hint"}`, with its HTTP statuses
(e.g. 23505 → 409, 42501 → 403).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.support.fake_supabase_storage import SERVICE_KEY

TABLES = ("chats", "chat_turns")
FUNCTIONS = (
    "allin_append_user_turn",
    "allin_reserve_turn_id",
    "allin_append_assistant_turn",
    "allin_search_chats",
    "allin_mark_turn",
    "allin_unmark_turn",
)
OPERATORS = {"eq": "=", "lt": "<"}
# Query parameters that are not filters.
RESERVED = {"select", "order", "limit"}


class PostgrestError(Exception):
    def __init__(self, status: int, code: str, message: str, details: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def response(self) -> JSONResponse:
        body = {"code": self.code, "message": self.message, "details": self.details, "hint": None}
        return JSONResponse(body, status_code=self.status)


def _status_of(sqlstate: str) -> int:
    """PostgREST's HTTP status for a Postgres error, for the SQLSTATEs our calls can raise."""
    if sqlstate in ("23503", "23505"):
        return 409
    if sqlstate == "42501":
        return 403
    if sqlstate.startswith(("22", "23", "P0")):
        return 400
    if sqlstate.startswith("08"):
        return 503
    return 500


class FakePostgrest:
    def __init__(self, database_url: str, service_key: str = SERVICE_KEY) -> None:
        self._url = database_url
        self._service_key = service_key
        self._columns: dict[str, dict[str, str]] = {}

    @property
    def routes(self) -> list[BaseRoute]:
        return [
            Route("/rest/v1/rpc/{function}", self._rpc, methods=["POST"]),
            Route("/rest/v1/{table}", self._table, methods=["GET", "POST", "PATCH", "DELETE"]),
        ]

    @property
    def app(self) -> Starlette:
        return Starlette(routes=self.routes)

    async def _table(self, request: Request) -> Response:
        try:
            self._authorize(request)
            table = request.path_params["table"]
            if table not in TABLES:
                raise PostgrestError(404, "PGRST205", f"Could not find the table 'public.{table}'")
            async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
                columns = await self._table_columns(conn, table)
                query, params = await self._statement(request, table, columns)
                rows = await self._run(conn, query, params)
        except PostgrestError as error:
            return error.response()
        if request.method == "GET":
            return JSONResponse(rows)
        if "return=representation" in request.headers.get("prefer", ""):
            return JSONResponse(rows, status_code=201 if request.method == "POST" else 200)
        return Response(status_code=201 if request.method == "POST" else 204)

    async def _rpc(self, request: Request) -> Response:
        try:
            self._authorize(request)
            function = request.path_params["function"]
            arguments = await request.json()
            async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
                signature, returns_set = await self._signature(conn, function)
                if not isinstance(arguments, dict) or set(arguments) != set(signature):
                    raise PostgrestError(
                        404,
                        "PGRST202",
                        f"Could not find the function public.{function}({', '.join(arguments)})",
                    )
                query = self._call(function, signature, returns_set)
                result = await self._run(conn, query, (Jsonb(arguments),) if signature else ())
        except PostgrestError as error:
            return error.response()
        return JSONResponse(result)

    def _authorize(self, request: Request) -> None:
        if (
            request.headers.get("authorization") != f"Bearer {self._service_key}"
            or request.headers.get("apikey") != self._service_key
        ):
            raise PostgrestError(401, "PGRST301", "JWSError JWSInvalidSignature")

    async def _run(
        self, conn: psycopg.AsyncConnection[Any], query: sql.Composable, params: Any
    ) -> Any:
        try:
            async with conn.transaction():
                cursor = await conn.execute(query, params)
                row = await cursor.fetchone()
        except psycopg.Error as exc:
            sqlstate = exc.sqlstate or "XX000"
            raise PostgrestError(
                _status_of(sqlstate),
                sqlstate,
                exc.diag.message_primary or str(exc),
                exc.diag.message_detail,
            ) from exc
        assert row is not None
        return row[0]

    async def _table_columns(
        self, conn: psycopg.AsyncConnection[Any], table: str
    ) -> dict[str, str]:
        """Column name → type, from the catalog: the allow-list for column names."""
        if table not in self._columns:
            cursor = await conn.execute(
                "select attname, format_type(atttypid, atttypmod) from pg_attribute"
                " where attrelid = %s::regclass and attnum > 0 and not attisdropped",
                (table,),
            )
            self._columns[table] = {name: kind for name, kind in await cursor.fetchall()}
        return self._columns[table]

    async def _signature(
        self, conn: psycopg.AsyncConnection[Any], function: str
    ) -> tuple[dict[str, str], bool]:
        """Argument name → type of an allowed function, and whether it returns a set of rows,
        from the catalog (a `returns table` function's column names follow its arguments')."""
        if function not in FUNCTIONS:
            raise PostgrestError(404, "PGRST202", f"Could not find the function public.{function}")
        cursor = await conn.execute(
            "select arg.name, format_type(arg.type, null), proretset"
            " from pg_proc, unnest(proargnames, proargtypes::oid[]) with ordinality"
            "   as arg(name, type, position)"
            " where proname = %s and pronamespace = 'public'::regnamespace"
            "   and arg.position <= pronargs"
            " order by arg.position",
            (function,),
        )
        rows = await cursor.fetchall()
        return {name: kind for name, kind, _ in rows}, any(row[2] for row in rows)

    def _call(self, function: str, signature: dict[str, str], returns_set: bool) -> sql.Composable:
        """PostgREST's way: named arguments read from the JSON body as a typed record."""
        if not signature:
            return sql.SQL("select to_jsonb({}())").format(sql.Identifier(function))
        if returns_set:
            return sql.SQL(
                "select coalesce(jsonb_agg(to_jsonb(r)), '[]'::jsonb)"
                " from jsonb_to_record(%s) as a({types}), lateral {function}({arguments}) r"
            ).format(
                function=sql.Identifier(function),
                arguments=self._named_arguments(signature),
                types=self._typed_record(signature),
            )
        return sql.SQL(
            "select to_jsonb({function}({arguments})) from jsonb_to_record(%s) as a({types})"
        ).format(
            function=sql.Identifier(function),
            arguments=self._named_arguments(signature),
            types=self._typed_record(signature),
        )

    @staticmethod
    def _named_arguments(signature: dict[str, str]) -> sql.Composable:
        return sql.SQL(", ").join(
            sql.SQL("{name} => a.{name}").format(name=sql.Identifier(name)) for name in signature
        )

    @staticmethod
    def _typed_record(signature: dict[str, str]) -> sql.Composable:
        return sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
            for name, kind in signature.items()
        )

    async def _statement(
        self, request: Request, table: str, columns: dict[str, str]
    ) -> tuple[sql.Composable, list[Any]]:
        """The request as one statement returning its rows as a JSON array."""
        params: list[Any] = []
        target = sql.Identifier(table)
        as_json = sql.SQL("coalesce(jsonb_agg(to_jsonb(r)), '[]'::jsonb)")
        if request.method == "GET":
            where = self._where(request, table, columns, params)
            query = sql.SQL(
                "select {as_json} from"
                " (select {select} from {t} where {where} {order} {limit}) as r"
            ).format(
                as_json=as_json,
                select=self._select(request, columns),
                t=target,
                where=where,
                order=self._order(request, columns),
                limit=self._limit(request, params),
            )
            return query, params
        if request.method == "DELETE":
            changed = sql.SQL("delete from {t} where {where} returning {t}.*").format(
                t=target, where=self._where(request, table, columns, params)
            )
        else:
            body = await request.json()
            if not isinstance(body, dict) or not body:
                raise PostgrestError(400, "PGRST100", "expected one JSON object")
            names = [sql.Identifier(self._column(name, columns)) for name in body]
            params.append(Jsonb(body))
            if request.method == "POST":
                changed = sql.SQL(
                    "insert into {t} ({names})"
                    " select {names} from jsonb_populate_record(null::{t}, %s)"
                    " returning {t}.*"
                ).format(t=target, names=sql.SQL(", ").join(names))
            else:
                changed = sql.SQL(
                    "update {t} set {assignments}"
                    " from jsonb_populate_record(null::{t}, %s) as body"
                    " where {where} returning {t}.*"
                ).format(
                    t=target,
                    assignments=sql.SQL(", ").join(
                        sql.SQL("{name} = body.{name}").format(name=name) for name in names
                    ),
                    where=self._where(request, table, columns, params),
                )
        # Data-modifying statements may only sit in a top-level WITH.
        query = sql.SQL(
            "with changed as ({changed}) select {as_json} from (select {select} from changed) as r"
        ).format(changed=changed, as_json=as_json, select=self._select(request, columns))
        return query, params

    @staticmethod
    def _column(name: str, columns: dict[str, str]) -> str:
        if name not in columns:
            raise PostgrestError(400, "PGRST204", f"Could not find the '{name}' column")
        return name

    def _select(self, request: Request, columns: dict[str, str]) -> sql.Composable:
        select = request.query_params.get("select", "*")
        if select == "*":
            return sql.SQL("*")
        return sql.SQL(", ").join(
            sql.Identifier(self._column(name, columns)) for name in select.split(",")
        )

    def _where(
        self, request: Request, table: str, columns: dict[str, str], params: list[Any]
    ) -> sql.Composable:
        conditions: list[sql.Composable] = [sql.SQL("true")]
        for name, value in request.query_params.multi_items():
            if name in RESERVED:
                continue
            operator, _, operand = value.partition(".")
            if operator not in OPERATORS:
                raise PostgrestError(400, "PGRST100", f"unsupported filter {name}={value}")
            column = self._column(name, columns)
            conditions.append(
                sql.SQL("{t}.{c} {op} %s::{kind}").format(
                    t=sql.Identifier(table),
                    c=sql.Identifier(column),
                    op=sql.SQL(OPERATORS[operator]),
                    kind=sql.SQL(columns[column]),
                )
            )
            params.append(operand)
        return sql.SQL(" and ").join(conditions)

    def _order(self, request: Request, columns: dict[str, str]) -> sql.Composable:
        order = request.query_params.get("order")
        if order is None:
            return sql.SQL("")
        terms = []
        for term in order.split(","):
            name, _, direction = term.partition(".")
            if direction not in ("asc", "desc"):
                raise PostgrestError(400, "PGRST100", f"unsupported order {term}")
            terms.append(
                sql.SQL("{} {}").format(
                    sql.Identifier(self._column(name, columns)), sql.SQL(direction)
                )
            )
        return sql.SQL("order by {}").format(sql.SQL(", ").join(terms))

    @staticmethod
    def _limit(request: Request, params: list[Any]) -> sql.Composable:
        limit = request.query_params.get("limit")
        if limit is None:
            return sql.SQL("")
        if not limit.isdigit():
            raise PostgrestError(400, "PGRST100", f"invalid limit {limit}")
        params.append(int(limit))
        return sql.SQL("limit %s")
