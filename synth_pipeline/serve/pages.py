"""The upload page: upload -> see each column's category and policy -> generate (a Dagster run) -> gate
report -> download. Plain HTML from Jinja templates; the run page refreshes itself, no JavaScript.

Unlike the API, these pages work in the private area: the uploaded file lands there, and the gate's pictures
are read from there. They show column names, categories, policies and scores, never a cell value.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates

from synth_pipeline.lib import uploads
from synth_pipeline.lib.config import DATASET_NAME
from synth_pipeline.lib.errors import SynthPipelineError
from synth_pipeline.lib.storage import DatasetPaths, ensure_private_dir, read_json
from synth_pipeline.serve import catalog, dagster_client
from synth_pipeline.settings import ServeSettings

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
ADMIN_COOKIE = "synth_admin"
STAGE_ORDER = [
    "raw",
    "validated",
    "deidentified",
    "synthesizer",
    "synthesizer_comparison",
    "synthetic",
    "quality_gate",
    "published",
    "published columns check",
]


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request, template, {"title": context.get("title", "synth-pipeline"), **context}, status_code=status
    )


def router(settings: ServeSettings, public: catalog.PublicCatalog) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    uploads_dir = settings.uploads_dir

    def upload_form(request: Request, status: int = 200, error: str | None = None) -> HTMLResponse:
        return _page(
            request,
            "upload.html",
            status,
            title="Upload a table",
            error=error,
            max_mb=f"{settings.upload_max_bytes / 2**20:g}",
            uploads=uploads.list_uploads(uploads_dir),
        )

    @r.get("/upload", response_class=HTMLResponse)
    def upload_page(request: Request) -> HTMLResponse:
        return upload_form(request)

    @r.post("/upload", response_class=HTMLResponse)
    async def upload(request: Request) -> Response:
        size = int(request.headers.get("content-length") or 0)
        if size > settings.upload_max_bytes + 65536:
            return upload_form(request, 413, f"the file is larger than {settings.upload_max_bytes / 2**20:g} MB")
        try:
            fields, path, filename = await _receive(request, uploads_dir, settings.upload_max_bytes)
        except uploads.UploadRefused as err:
            return upload_form(request, 413 if "larger" in str(err) else 400, str(err))
        try:
            name = (fields.get("name") or "").strip() or uploads.slug(filename)
            taken = uploads.configured_names(settings.datasets_file)
            await run_in_threadpool(uploads.register, path, uploads_dir, name, filename, taken)
        except SynthPipelineError as err:
            return upload_form(request, 400, str(err))
        except Exception as err:  # a library choking on the file: its message may quote the file, so only its type
            return upload_form(request, 400, f"the file could not be read as a table ({type(err).__name__})")
        finally:
            path.unlink(missing_ok=True)
        return RedirectResponse(f"/uploads/{name}", status_code=303)

    def load(name: str) -> uploads.Upload:
        try:
            return uploads.load_upload(uploads_dir, name)
        except uploads.UploadRefused:
            raise catalog.ApiError(404, "no upload has this name") from None

    @r.get("/uploads/{name}", response_class=HTMLResponse)
    def upload_detail(request: Request, name: str, error: str | None = None) -> HTMLResponse:
        upload = load(name)
        context: dict[str, Any] = {
            "title": upload.name,
            "upload": upload,
            "policies": uploads.POLICIES,
            "synthesizers": _synthesizer_names(),
            "dagster_url": settings.dagster_url,
            "error": error,
            "progress": None,
        }
        if upload.run_id:
            try:
                progress = dagster_client.progress(settings.dagster_url, upload.run_id)
            except dagster_client.DagsterUnavailable as err:
                context["error"] = str(err)
                progress = dagster_client.RunProgress("UNKNOWN")
            context["progress"] = progress
            context["stages"] = _stages(upload.name, progress)
            context["refresh"] = None if progress.finished or progress.status in ("UNKNOWN", "NOT_FOUND") else 2
            if progress.finished:
                context.update(_report(public, settings, upload, progress))
        return _page(request, "dataset.html", **context)

    @r.post("/uploads/{name}/generate", response_class=HTMLResponse)
    async def generate(request: Request, name: str) -> Response:
        upload = load(name)
        form = await request.form()
        policies = {
            c.name: str(form.get(f"policy_{i}") or c.policy) for i, c in enumerate(upload.columns) if c.policy != "key"
        }
        key = str(form.get("primary_key") or "") or None
        if key is not None and key not in upload.key_candidates:
            key = None
        synthesizer = str(form.get("synthesizer") or uploads.DEFAULT_SYNTHESIZER)
        if synthesizer not in _synthesizer_names():
            synthesizer = uploads.DEFAULT_SYNTHESIZER
        try:
            await run_in_threadpool(uploads.configure, uploads_dir, upload, policies, key, synthesizer)
            await run_in_threadpool(dagster_client.reload_location, settings.dagster_url)
            from synth_pipeline.defs.schedules import dataset_job_name

            run_id = await run_in_threadpool(
                dagster_client.launch,
                settings.dagster_url,
                dataset_job_name(upload.name),
                {"dataset": upload.name, "synth_pipeline/origin": "upload page"},
            )
        except SynthPipelineError as err:
            return upload_detail(request, name, error=str(err))
        upload.run_id = run_id
        uploads.save_upload(uploads_dir, upload)
        return RedirectResponse(f"/uploads/{name}", status_code=303)

    @r.post("/uploads/{name}/edit")
    def edit(name: str) -> RedirectResponse:
        upload = load(name)
        upload.run_id = None
        uploads.save_upload(uploads_dir, upload)
        return RedirectResponse(f"/uploads/{name}", status_code=303)

    @r.get("/uploads/{name}/synthetic.csv")
    def download(name: str) -> Response:
        load(name)
        with public.snapshot() as con:
            if not _downloadable(con, name):
                raise catalog.ApiError(404, "no synthetic copy passed its gate yet")
        from synth_pipeline.serve.app import stream_table

        return StreamingResponse(
            stream_table(public, name, "csv"),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}_synthetic.csv"'},
        )

    # --- authorized re-identification -------------------------------------------------------------------
    def signed_in(request: Request) -> bool:
        if not settings.admin_token:
            return False
        bearer = request.headers.get("authorization", "")
        if bearer.lower().startswith("bearer ") and hmac.compare_digest(
            bearer[7:].strip().encode(), settings.admin_token.encode()
        ):
            return True
        cookie = request.cookies.get(ADMIN_COOKIE, "")
        return bool(cookie) and hmac.compare_digest(cookie.encode(), _session(settings.admin_token).encode())

    def forbidden(request: Request) -> HTMLResponse:
        return _page(
            request,
            "admin.html",
            403,
            title="Re-identification",
            signed_in=False,
            form={},
            value=None,
            error="this page needs the admin credential (SYNTH_PIPELINE_ADMIN_TOKEN on the server)",
            error_title="Forbidden",
        )

    @r.get("/admin/decrypt", response_class=HTMLResponse)
    def admin_page(request: Request) -> HTMLResponse:
        if not signed_in(request):
            return forbidden(request)
        return _page(request, "admin.html", title="Re-identification", signed_in=True, form={}, value=None)

    @r.get("/admin", response_class=HTMLResponse)
    def admin_login_page(request: Request) -> HTMLResponse:
        if not settings.admin_token:
            return forbidden(request)
        return _page(
            request, "admin.html", title="Re-identification", signed_in=signed_in(request), form={}, value=None
        )

    @r.post("/admin/login", response_class=HTMLResponse)
    async def admin_login(request: Request) -> Response:
        form = await request.form()
        token = str(form.get("token") or "")
        if not settings.admin_token or not hmac.compare_digest(token.encode(), settings.admin_token.encode()):
            return forbidden(request)
        response = RedirectResponse("/admin/decrypt", status_code=303)
        response.set_cookie(ADMIN_COOKIE, _session(settings.admin_token), httponly=True, samesite="strict")
        return response

    @r.post("/admin/decrypt", response_class=HTMLResponse)
    async def admin_decrypt(request: Request) -> HTMLResponse:
        if not signed_in(request):
            return forbidden(request)
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            value = await run_in_threadpool(_decrypt, settings, form)
        except SynthPipelineError as err:
            return _page(
                request,
                "admin.html",
                400,
                title="Re-identification",
                signed_in=True,
                form=form,
                value=None,
                error=str(err),
            )
        return _page(request, "admin.html", title="Re-identification", signed_in=True, form=form, value=value)

    return r


def _session(token: str) -> str:
    return hmac.new(token.encode(), b"synth-pipeline admin session", hashlib.sha256).hexdigest()


def _decrypt(settings: ServeSettings, form: dict[str, str]) -> str:
    from synth_pipeline.lib.pii.crypto import ENCRYPTION_KEY_ENV, decrypt_value, parse_key

    dataset, column, row = form.get("dataset", ""), form.get("column", ""), form.get("row", "")
    if not DATASET_NAME.match(dataset):
        raise uploads.UploadRefused("no dataset has this name")
    key = parse_key(os.environ.get(ENCRYPTION_KEY_ENV))
    token = form.get("token", "").strip()
    if not token:
        token = _lookup_token(settings.private_dir, dataset, column, row)
    return decrypt_value(token, key, dataset, column, row)


def _lookup_token(private_dir: Path, dataset: str, column: str, row: str) -> str:
    import duckdb

    path = DatasetPaths(private_dir / dataset).reidentification  # read only: no folder is created
    if not path.exists():
        raise uploads.UploadRefused("this dataset has no encrypted column")
    con = duckdb.connect()
    try:
        names = [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()]
        if column not in names or column == "_row_key":
            raise uploads.UploadRefused("this dataset has no encrypted column of this name")
        found = con.execute(
            f'SELECT "{column}" FROM read_parquet(?) WHERE CAST(_row_key AS VARCHAR) = ? LIMIT 1', [str(path), row]
        ).fetchall()
    finally:
        con.close()
    if not found or found[0][0] is None:
        raise uploads.UploadRefused("no token for this row key")
    return str(found[0][0])


async def _receive(request: Request, uploads_dir: Path, limit: int) -> tuple[dict[str, str], Path, str]:
    """Stream the multipart body straight into the private area (Starlette's form parser would spool the file
    to the system's temporary folder first)."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise uploads.UploadRefused("send the file as multipart/form-data (the page's form does)")
    incoming = ensure_private_dir(uploads_dir / ".incoming")
    fd, name = tempfile.mkstemp(dir=incoming, prefix=f"{os.getpid()}-")
    out = Path(name)
    handle = os.fdopen(fd, "wb")
    fields: dict[str, str] = {}
    state: dict[str, Any] = {
        "headers": {},
        "field": b"",
        "value": b"",
        "name": None,
        "file": None,
        "buf": b"",
        "size": 0,
    }

    def header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def header_end() -> None:
        state["headers"][state["field"].lower()] = state["value"]
        state["field"], state["value"] = b"", b""

    def headers_finished() -> None:
        _, disposition = parse_options_header(state["headers"].get(b"content-disposition", b""))
        state["name"] = disposition.get(b"name", b"").decode("utf-8", "replace")
        filename = disposition.get(b"filename")
        state["file"] = None if filename is None else filename.decode("utf-8", "replace")
        if state["file"] is not None:
            fields["__filename__"] = state["file"]
        state["buf"] = b""

    def part_data(data: bytes, start: int, end: int) -> None:
        if state["file"] is not None:
            state["size"] += end - start
            if state["size"] > limit:
                raise uploads.UploadRefused(f"the file is larger than {limit / 2**20:g} MB")
            handle.write(data[start:end])
        elif len(state["buf"]) < 4096:
            state["buf"] += data[start:end]

    def part_end() -> None:
        if state["file"] is None and state["name"]:
            fields[state["name"]] = state["buf"][:4096].decode("utf-8", "replace")
        state["headers"] = {}

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": header_field,
            "on_header_value": header_value,
            "on_header_end": header_end,
            "on_headers_finished": headers_finished,
            "on_part_data": part_data,
            "on_part_end": part_end,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        handle.close()
    except uploads.UploadRefused:
        handle.close()
        out.unlink(missing_ok=True)
        raise
    except Exception:
        handle.close()
        out.unlink(missing_ok=True)
        raise uploads.UploadRefused("the upload was not a valid form (send the file as multipart/form-data)") from None
    filename = Path(fields.pop("__filename__", "") or "").name
    if not filename:
        out.unlink(missing_ok=True)
        raise uploads.UploadRefused("no file was sent: choose a CSV or Parquet file")
    return fields, out, filename


def _synthesizer_names() -> list[str]:
    from synth_pipeline.lib.synthesizers.registry import REGISTRY

    return ["auto", *sorted(REGISTRY)]


def _stages(dataset: str, progress: dagster_client.RunProgress) -> list[tuple[str, str]]:
    def label(step: str) -> str:
        if step.startswith("asset_check_"):  # Dagster's step for the published table's column-schema check
            return "published columns check"
        return step.removeprefix(f"{dataset}__").replace(f"quality_gate_{dataset}", "quality_gate")

    named = [(label(step), status) for step, status in progress.steps]
    started = {name for name, _ in named}
    later = "not run" if progress.finished else "waiting"
    named += [(stage, later) for stage in STAGE_ORDER if stage not in started]  # the stages still to come
    order = {s: i for i, s in enumerate(STAGE_ORDER)}
    return sorted(named, key=lambda s: order.get(s[0], len(order)))


def _downloadable(con: Any, name: str) -> bool:
    """The newest gate of the dataset passed and its table is the one published."""
    gate = catalog.gate_scores(con, name)
    if not gate or not all(g["passed"] for g in gate):
        return False
    latest = catalog.latest_publication(con, name)
    return bool(latest) and name in catalog.published_names(con)


def _report(
    public: catalog.PublicCatalog, settings: ServeSettings, upload: uploads.Upload, progress: Any
) -> dict[str, Any]:
    gate: list[dict[str, Any]] = []
    downloadable, rows = False, 0
    with contextlib.suppress(catalog.ApiError), public.snapshot() as con:
        gate = catalog.gate_scores(con, upload.name, upload.run_id)
        downloadable = bool(gate) and all(g["passed"] for g in gate) and _downloadable(con, upload.name)
        if downloadable:
            (rows,) = con.execute(f'SELECT count(*) FROM synthetic."{upload.name}"').fetchall()[0]
    pictures: list[tuple[str, str]] = []
    picture_file = DatasetPaths(settings.private_dir / upload.name).gate_pictures
    if gate and picture_file.exists():
        for title, markdown in read_json(picture_file).items():
            found = re.search(r"\((data:image/png;base64,[A-Za-z0-9+/=]+)\)", markdown)
            if found:
                pictures.append((title.replace("_", " "), found.group(1)))
    return {
        "gate": gate,
        "passed": bool(gate) and all(g["passed"] for g in gate),
        "pictures": pictures,
        "downloadable": downloadable,
        "published_rows": rows,
        "failed_steps": [s for s, status in _stages(upload.name, progress) if status == "FAILURE"],
    }
