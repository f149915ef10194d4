"""The web app of ``rnntag serve``: ``create_app(tagger, limits)`` -> a FastAPI app.

Routes: ``POST /v1/tag`` (``{"text"}``, ``{"texts"}`` or ``{"tokens"}`` -> the records of
``rnntag predict --format jsonl``, ``doc`` and ``sent`` included), ``GET /v1/model``
(``tagger.info.to_dict()``), ``GET /healthz``, ``GET /`` (the page, ``rnntag/serve/page.py``), ``GET /docs`` (Swagger UI) and
``GET /redoc`` (ReDoc) over ``GET /openapi.json``, their scripts served by the server itself
(fastapi-offline bundles them), so the docs work with no network.

Every error is JSON ``{"error": message}`` with a 4xx status for what the client can fix
(400 bad JSON, 404, 405, 408 body too slow, 413 body or tokens over the limits, 415 not
JSON, 422 wrong shape or empty text) and 500 for a failure of the server's own, which
leaves it running. Tagging goes through a ``Batcher`` (``rnntag/serve/batching.py``):
requests that arrive together are tagged together, in a worker thread.

This module imports FastAPI at its top: only ``rnntag serve`` imports it (``rnntag/serve/run.py``).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import traceback
from collections.abc import Awaitable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rnntag.base.errors import RnnTagError
from rnntag.base.version import __version__
from rnntag.serve.batching import Batcher
from rnntag.serve.jobs import Job, RequestError, parse_body, read_job, tag_jobs
from rnntag.serve.limits import Limits
from rnntag.serve.page import CSP, render_page
from rnntag.tagging.tagger import Tagger

T = TypeVar("T")
INLINE_BODY = 4096  # bytes of a body read and split on the event loop itself; longer ones in a thread
# bytes of a body over --max-body read and dropped before the 413 (within --read-timeout): a client
# that sends all of its body before it reads (urllib, requests) then gets the answer; closing with
# unread bytes would reset the connection under it
LINGER_BYTES = 16 << 20
ROUTES = "POST /v1/tag, GET /v1/model, GET /healthz, GET / (the page), GET /docs, GET /redoc, GET /openapi.json"

_RECORD = {
    "type": "object",
    "description": "A line of rnntag predict --format jsonl: token and entity offsets index the record's own text; "
                   "offset (text input only) is where that text starts in the request's text (or its entry of texts); "
                   "doc is the document in the request (0 for text and tokens, the index of the text for texts), "
                   "sent the sentence's index in it.",
    "properties": {
        "text": {"type": "string"},
        "tokens": {"type": "array", "items": {"type": "object", "properties": {
            "text": {"type": "string"}, "start": {"type": "integer"}, "end": {"type": "integer"}}}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "entities": {"type": "array", "items": {"type": "object", "properties": {
            "text": {"type": "string"}, "type": {"type": "string"}, "start": {"type": "integer"},
            "end": {"type": "integer"}, "score": {"type": "number"}}}},
        "offset": {"type": "integer"},
        "doc": {"type": "integer"},
        "sent": {"type": "integer"},
    },
}
_TAG_OPENAPI: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "object", "description": "Exactly one of text, texts, tokens.", "properties": {
            "text": {"type": "string", "description": "Raw text: one document."},
            "texts": {"type": "array", "items": {"type": "string"}, "description": "Raw texts: one document each."},
            "tokens": {"type": "array", "items": {"type": "array", "items": {"type": "string"}},
                       "description": "Pre-tokenised sentences of one document."},
        }},
        "examples": {
            "text": {"value": {"text": "Angela Merkel met Emmanuel Macron in Paris."}},
            "texts": {"value": {"texts": ["John Smith flew to Rome.", "The EU said so."]}},
            "tokens": {"value": {"tokens": [["Angela", "Merkel", "visited", "Paris"]]}},
        },
    }}},
    "responses": {
        "200": {"description": "text, tokens: {\"sentences\": [record, ...]}; texts: {\"texts\": [[record, ...], ...]}, "
                               "one list per text",
                "content": {"application/json": {"schema": {"type": "object", "properties": {
                    "sentences": {"type": "array", "items": _RECORD},
                    "texts": {"type": "array", "items": {"type": "array", "items": _RECORD}}}}}}},
        **{str(code): {"description": what, "content": {"application/json": {"schema": {
            "type": "object", "properties": {"error": {"type": "string"}}}}}}
           for code, what in ((400, "not JSON"), (408, "the body came too slowly"),
                              (413, "the body or its tokens are over the server's limits"),
                              (415, "not application/json"), (422, "a wrong shape, or an empty text"),
                              (500, "a failure of the server's own"))},
    },
}


def create_app(tagger: Tagger, limits: Limits | None = None) -> FastAPI:
    """The app serving ``tagger`` within ``limits``; its batcher starts and stops with the
    app's lifespan (uvicorn runs it), so one app serves one process."""
    limits = limits or Limits()
    # each response encoded in the batch's thread too: a large one would hold the event loop
    batcher: Batcher[Job] = Batcher(lambda jobs: [_encoded(r) for r in tag_jobs(tagger, jobs)], lambda job: job.tokens,
                                    wait=limits.batch_wait, max_size=limits.batch_tokens)
    info = tagger.info.to_dict()
    page = render_page(info, tagger.labels, tagger.tags_entities)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        batcher.start()
        try:
            yield
        finally:
            await batcher.stop()

    # FastAPI's own /docs and /redoc load their scripts from a CDN: blank pages offline
    app = FastAPIOffline(title="rnntag", version=__version__, lifespan=lifespan, static_url="/docs-assets",
                         description="Sequence tagging (named entities, POS, any token tags) with an rnntag model.")
    app.add_middleware(_ErrorsAsJson)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 404:
            message = f"no route {request.method} {request.url.path}; the routes are {ROUTES}"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; the routes are {ROUTES}"
        return JSONResponse({"error": message}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.post("/v1/tag", openapi_extra=_TAG_OPENAPI, summary="Tag text, texts or pre-tokenised sentences")
    async def tag(request: Request) -> Response:
        """The records of ``rnntag predict --format jsonl`` (``Sentence.to_dict()``): for
        ``text``, ``{"sentences": [...]}`` with each record's ``offset`` where its sentence
        starts in the text (character offsets, Unicode code points) and its token and entity
        offsets into the record's own ``text``; for ``texts``, ``{"texts": [[...], ...]}``,
        one list per text, offsets into that text; for ``tokens``, ``{"sentences": [...]}``
        whose ``text`` is each sentence's tokens joined by single spaces."""
        try:
            raw = await _read_body(request, limits)
            if len(raw) <= INLINE_BODY:  # a few thousand characters: cheaper here than a thread hop
                job = _job(raw, limits, tagger.max_tokens)
            else:  # splitting a long text into tokens takes a while: off the event loop
                job = await asyncio.to_thread(_job, raw, limits, tagger.max_tokens)
        except _TooLarge as err:  # a body left unread: this connection cannot carry another request
            return _error(err.status, err.message, None if err.drained else {"Connection": "close"})
        except RequestError as err:
            return _error(err.status, err.message)
        except ClientDisconnect:  # nobody to answer
            return Response(status_code=400)
        try:
            result = await _unless_gone(request, batcher.submit(job))
        except ClientDisconnect:  # gone while waiting: dropped from its batch unless that had started
            return Response(status_code=400)
        except RnnTagError as err:  # the library refused the input (e.g. a token it cannot take)
            if err.exit_code == 2:
                return _error(422, str(err))
            raise  # any other failure: a 500 from _ErrorsAsJson
        return Response(result, media_type="application/json")

    @app.get("/v1/model", summary="The model's information (rnntag info --json)")
    async def model() -> JSONResponse:
        return JSONResponse(info)

    @app.get("/healthz", summary="Liveness, and what the batcher has done")
    async def healthz() -> JSONResponse:
        stats = batcher.stats
        return JSONResponse({"status": "ok", "pid": os.getpid(), "requests_tagged": stats.items, "batches": stats.batches,
                             "largest_batch": stats.largest, "failed": stats.failures, "queued": batcher.queued})

    @app.get("/", response_class=HTMLResponse, summary="The page: a text box, entities highlighted")
    async def index() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"})

    return app


async def _unless_gone(request: Request, work: Awaitable[T]) -> T:
    """``work``'s result, or ClientDisconnect (and ``work`` cancelled) if the client goes away first."""
    task = asyncio.ensure_future(work)
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if not task.done():
        task.cancel()
        raise ClientDisconnect()
    return task.result()


async def _disconnected(request: Request) -> None:
    """Returns when the client has gone (the body is read: the server's next message is that)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _job(raw: bytes, limits: Limits, sentence_tokens: int | None) -> Job:
    return read_job(parse_body(raw), limits, sentence_tokens)


class _TooLarge(RequestError):
    """413, a body over ``max_body``; ``drained``: all of it was read (and dropped), so the
    connection can carry the next request."""

    def __init__(self, message: str, drained: bool):
        super().__init__(413, message)
        self.drained = drained


async def _read_body(request: Request, limits: Limits) -> bytes:
    """The body, or RequestError: 415 not JSON, 413 over ``max_body`` (_TooLarge), 408 not all
    received within ``read_timeout`` seconds."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        given = f"Content-Type {media}" if media else "no Content-Type"
        raise RequestError(415, f"send JSON with Content-Type: application/json ({given} given)")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise RequestError(400, f"bad Content-Length {declared!r}")
        if int(declared) > limits.max_body:
            # A client that waits for "100 Continue" has sent nothing yet: it reads the 413 at once.
            waits = request.headers.get("expect", "").strip().lower() == "100-continue"
            drained = not waits and int(declared) <= LINGER_BYTES and await _drain(request, limits)
            raise _TooLarge(f"the body has {int(declared):,} bytes, more than {limits.max_body:,} "
                            "(the server's --max-body)", drained)

    async def read() -> bytes:
        parts: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_body:
                raise _TooLarge(f"the body has more than {limits.max_body:,} bytes (the server's --max-body)", False)
            parts.append(chunk)
        return b"".join(parts)

    try:
        return await asyncio.wait_for(read(), limits.read_timeout)
    except asyncio.TimeoutError:
        raise RequestError(408, f"the body did not arrive within {limits.read_timeout:g} s") from None
    except _TooLarge as err:
        raise _TooLarge(err.message, await _drain(request, limits)) from None


async def _drain(request: Request, limits: Limits) -> bool:
    """Reads and drops the rest of a refused body, as nginx's lingering close does, up to
    LINGER_BYTES and within ``read_timeout`` seconds: True when all of it came."""

    async def rest() -> bool:
        size = 0
        while size <= LINGER_BYTES:
            message = await request.receive()
            if message["type"] != "http.request":  # the client went away
                return False
            size += len(message.get("body", b""))
            if not message.get("more_body", False):
                return True
        return False

    try:
        return await asyncio.wait_for(rest(), limits.read_timeout)
    except asyncio.TimeoutError:
        return False


def _encoded(body: Any) -> bytes:
    """``body`` as JSONResponse encodes it."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _internal(err: BaseException) -> JSONResponse:
    _log_internal(err)
    return _error(500, f"internal error: {type(err).__name__}: {err}")


def _log_internal(err: BaseException) -> None:
    if os.environ.get("RNNTAG_DEBUG"):
        traceback.print_exception(type(err), err, err.__traceback__, file=sys.stderr)
    else:
        print(f"rnntag: internal error: {type(err).__name__}: {err} (set RNNTAG_DEBUG=1 for a traceback)", file=sys.stderr)


class _ErrorsAsJson:
    """Any exception that escapes a route: a 500 JSON answer (when none has started) and one
    line on stderr, instead of a traceback and a plain-text answer; the server goes on."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as err:
            response = _internal(err)
            if not started:
                await response(scope, receive, send)
