"""The sandbox API (JSON, under ``/datasets``) and the upload page (HTML), in one FastAPI app.

The API reads the published DuckDB file only, through :class:`~synth_pipeline.serve.catalog.PublicCatalog`;
nothing under ``/datasets`` knows where the private area is. Error bodies are
``{"error": {"status", "message"}}`` with messages we wrote: they name parameters, never repeat input.
"""

import hmac
import logging
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Header, Path, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from synth_pipeline import __version__
from synth_pipeline.lib.publishing import SCHEMA
from synth_pipeline.serve import catalog
from synth_pipeline.serve.catalog import FORMATS, ApiError, PublicCatalog, RowQuery
from synth_pipeline.serve.sandbox import DEFAULT_SANDBOX, Sandboxes
from synth_pipeline.settings import ServeSettings

log = logging.getLogger("synth_pipeline.serve")
RESERVED_PARAMS = {"limit", "offset", "filter", "sort", "fields"}


class ErrorDetail(BaseModel):
    status: int
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class RowsPage(BaseModel):
    dataset: str
    total: int
    limit: int
    offset: int
    sandbox: str
    rows: list[dict[str, Any]]


ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (400, 401, 404, 409, 422, 503)}
DatasetName = Annotated[
    str, Path(description="A published dataset (GET /datasets lists them).", pattern="^[a-z][a-z0-9_]{0,62}$")
]
RowKey = Annotated[str, Path(description="The row's synthetic primary key, or `_row` for a table without one.")]
SandboxHeader = Annotated[
    str | None,
    Header(
        alias="X-Sandbox",
        description="Your sandbox (a-z, 0-9, _): mock writes change only its copy. Default: `default`.",
        pattern="^[a-z0-9_]{1,40}$",
    ),
]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)


def create_app(settings: ServeSettings | None = None) -> FastAPI:
    settings = settings or ServeSettings.from_env()
    public = PublicCatalog(settings.public_database)
    sandboxes = Sandboxes(settings.sandbox_database, public)
    app = FastAPI(
        title="synth-pipeline sandbox API",
        version=__version__,
        description=(
            "Synthetic tables published by synth-pipeline, read-only, with mock writes into a per-sandbox copy. "
            "Every table passed the quality and privacy gate before it was published."
        ),
    )
    app.state.settings = settings
    app.state.public = public
    app.state.sandboxes = sandboxes

    @app.exception_handler(ApiError)
    def _api_error(request: Request, err: ApiError) -> JSONResponse:
        return _error(err.status, err.message)

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        # FastAPI's default body echoes the input; ours names where the problem is and what was expected.
        problems = []
        for e in err.errors():
            where = ".".join(str(p) for p in e.get("loc", ()))
            problems.append(f"{where}: {e.get('msg', 'invalid')}")
        return _error(422, "invalid request: " + "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, err: StarletteHTTPException) -> Response:
        if err.status_code == 401 and err.headers:
            return JSONResponse(
                {"error": {"status": 401, "message": str(err.detail)}}, status_code=401, headers=err.headers
            )
        return _error(err.status_code, str(err.detail) if err.status_code != 404 else "no such page")

    @app.exception_handler(Exception)
    def _crash(request: Request, err: Exception) -> JSONResponse:
        log.error("request failed: %s", type(err).__name__)
        return _error(500, "internal error; the server log has its type")

    @app.on_event("shutdown")
    def _close() -> None:
        sandboxes.close()
        public.close()

    api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Needed when the server has API keys.")

    def require_key(key: Annotated[str | None, Security(api_key)] = None) -> None:
        if not settings.api_keys:
            return
        if key is None or not any(hmac.compare_digest(key.encode(), k.encode()) for k in settings.api_keys):
            raise StarletteHTTPException(401, "a valid X-API-Key header is required", {"WWW-Authenticate": "ApiKey"})

    # The spec declares the key only when the server asks for one, so it says what this server does.
    api = APIRouter(
        dependencies=[Depends(require_key)] if settings.api_keys else [], responses=ERRORS, tags=["datasets"]
    )

    @api.get("/datasets", summary="Every published dataset: rows, columns, last publication, latest gate")
    def list_datasets() -> list[dict[str, Any]]:
        with public.snapshot() as con:
            return catalog.describe_datasets(con)

    @api.get("/datasets/{name}", summary="A dataset's data dictionary")
    def describe(name: DatasetName) -> dict[str, Any]:
        with public.snapshot() as con:
            return catalog.dictionary(con, name)

    @api.get("/datasets/{name}/rows", summary="A page of rows, filtered, sorted and trimmed to some fields")
    def rows(
        request: Request,
        name: DatasetName,
        sandbox: SandboxHeader = None,
        limit: Annotated[int, Query(ge=1, le=settings.max_page_size, description="Rows per page.")] = 100,
        offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
        filter: Annotated[
            list[str] | None,
            Query(
                description="`column:op:value`, op one of eq ne lt le gt ge in null (`in` takes comma-separated "
                "values, `null` takes true/false); repeat for AND. `?column=value` is a shorthand for eq."
            ),
        ] = None,
        sort: Annotated[str | None, Query(description="Comma-separated columns, `-` for descending.")] = None,
        fields: Annotated[str | None, Query(description="Comma-separated columns to return.")] = None,
    ) -> RowsPage:
        equals = {k: v for k, v in request.query_params.items() if k not in RESERVED_PARAMS}
        query = RowQuery(limit, offset, filter or [], equals, sort, fields)
        box = sandbox or DEFAULT_SANDBOX
        with sandboxes.reading(box, name) as (con, schema, key):
            page = catalog.query_rows(con, schema, name, query, key)
        return RowsPage(**page, sandbox=box)

    @api.get("/datasets/{name}/rows/{key}", summary="One row by its synthetic key")
    def row(name: DatasetName, key: RowKey, sandbox: SandboxHeader = None) -> dict[str, Any]:
        with sandboxes.reading(sandbox or DEFAULT_SANDBOX, name) as (con, schema, key_col):
            return catalog.row_by_key(con, schema, name, key_col, key)

    @api.get(
        "/datasets/{name}/download",
        summary="The whole published table, streamed",
        response_class=StreamingResponse,
        responses={200: {"content": {t: {} for t in FORMATS.values()}, "description": "The table."}},
    )
    def download(
        name: DatasetName,
        format: Annotated[str, Query(pattern="^(csv|jsonl|parquet)$", description="csv, jsonl or parquet")] = "csv",
    ) -> StreamingResponse:
        with public.snapshot() as con:
            catalog.require_dataset(con, name)
        return StreamingResponse(
            stream_table(public, name, format),
            media_type=FORMATS[format],
            headers={"Content-Disposition": f'attachment; filename="{name}.{format}"'},
        )

    @api.post("/datasets/{name}/rows", status_code=201, summary="Mock insert into your sandbox's copy")
    def create(name: DatasetName, body: Annotated[dict[str, Any], Body()], sandbox: SandboxHeader = None) -> dict:
        return sandboxes.create(sandbox or DEFAULT_SANDBOX, name, body)

    @api.put("/datasets/{name}/rows/{key}", summary="Mock replace in your sandbox's copy")
    def replace(
        name: DatasetName, key: RowKey, body: Annotated[dict[str, Any], Body()], sandbox: SandboxHeader = None
    ) -> dict:
        return sandboxes.update(sandbox or DEFAULT_SANDBOX, name, key, body, replace=True)

    @api.patch("/datasets/{name}/rows/{key}", summary="Mock partial update in your sandbox's copy")
    def patch(
        name: DatasetName, key: RowKey, body: Annotated[dict[str, Any], Body()], sandbox: SandboxHeader = None
    ) -> dict:
        return sandboxes.update(sandbox or DEFAULT_SANDBOX, name, key, body, replace=False)

    @api.delete("/datasets/{name}/rows/{key}", status_code=204, summary="Mock delete in your sandbox's copy")
    def delete(name: DatasetName, key: RowKey, sandbox: SandboxHeader = None) -> Response:
        sandboxes.delete(sandbox or DEFAULT_SANDBOX, name, key)
        return Response(status_code=204)

    @api.post("/datasets/{name}/reset", summary="Drop your sandbox's copy: reads show the newest publication again")
    def reset(name: DatasetName, sandbox: SandboxHeader = None) -> dict[str, Any]:
        box = sandbox or DEFAULT_SANDBOX
        return {"dataset": name, "sandbox": box, "had_changes": sandboxes.reset(box, name)}

    app.include_router(api)

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    from synth_pipeline.serve import pages

    app.include_router(pages.router(settings, public))

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/upload", status_code=303)

    return app


def stream_table(public: PublicCatalog, name: str, fmt: str) -> Iterator[bytes]:
    """One publication from the first byte to the last, even when a newer one lands meanwhile."""
    with public.snapshot() as con:
        catalog.require_dataset(con, name)
        reader = con.sql(f'SELECT * FROM {SCHEMA}."{name}"').to_arrow_reader(catalog.BATCH_ROWS)
        yield from catalog.export(reader, fmt)
