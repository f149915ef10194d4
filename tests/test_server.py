"""``rnntag serve``: the real server as a subprocess on loopback (routes, records, bad requests,
slow and vanishing clients, SIGTERM/SIGINT with a request in flight, workers), an in-process
uvicorn for failures of the server's own, and the micro-batcher alone."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("fastapi_offline")
pytest.importorskip("uvicorn")

import rnntag  # noqa: E402
from rnntag.serve.batching import Batcher  # noqa: E402
from rnntag.serve.jobs import Job, read_job, tag_jobs  # noqa: E402
from rnntag.serve.limits import Limits  # noqa: E402

LIMITS = ["--max-body", "20000", "--max-tokens", "400", "--read-timeout", "1.5"]
TEXT = "John Smith flew to Rome on Monday.\n\nThe European Union said Siemens would invest in Berlin."


# ------------------------------------------------------------------------------- helpers
class Server:
    """``rnntag serve`` in a subprocess on a free loopback port (``--port 0``)."""

    def __init__(self, model: Path, tmp: Path, *args: str, env: dict[str, str] | None = None):
        self.log = tmp / f"serve-{time.monotonic_ns()}.err"
        env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "rnntag", "serve", str(model), "--port", "0", *args],
                                         stdout=subprocess.PIPE, stderr=err, env=env)
        deadline = time.monotonic() + 60
        while True:
            text = self.log.read_text()
            if "serving" in text:
                self.port = int(text.split("http://127.0.0.1:")[1].split("/")[0])
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"the server did not start: {text}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(30)

    def messages(self) -> str:
        return self.log.read_text()


def call(port: int, method: str, path: str, body: bytes | str | None = None, headers: dict | None = None,
         as_json: bool = True) -> tuple[int, dict, object]:
    """One request on a fresh connection: status, headers (lower-case names), the decoded body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        head = {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()
    if as_json:
        assert head.get("content-type", "").startswith("application/json"), (response.status, head, data[:200])
        return response.status, head, json.loads(data)
    return response.status, head, data.decode("utf-8")


def post(port: int, obj: object) -> tuple[int, object]:
    status, _, body = call(port, "POST", "/v1/tag", json.dumps(obj), {"Content-Type": "application/json"})
    return status, body


def raw_request(port: int, body: bytes, *, length: int | None = None, content_type: str = "application/json") -> socket.socket:
    """A connection with the request line and headers sent, and ``body`` (part of it, perhaps)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    size = len(body) if length is None else length
    sock.sendall(f"POST /v1/tag HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n"
                 f"Content-Length: {size}\r\n\r\n".encode() + body)
    return sock


def read_response(sock: socket.socket) -> tuple[int, object]:
    """Status and JSON body of the one response on ``sock`` (the server closes or says its length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(v) for k, v in (x.split(":", 1) for x in lines[1:]) if k.strip().lower() == "content-length")
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk
        rest += chunk
    return status, json.loads(rest[:length])


def healthy(port: int) -> dict:
    status, _, body = call(port, "GET", "/healthz")
    assert status == 200 and body["status"] == "ok"
    return body


def records(sentences, doc: int = 0) -> list[dict]:
    """One document's records as ``predict --format jsonl`` writes them: ``doc``, then ``sent`` from 0."""
    return [{**s.to_dict(), "doc": doc, "sent": k} for k, s in enumerate(sentences)]


def same(a: object, b: object, tol: float = 1e-5) -> bool:
    """Equal, but for scores within ``tol``: the float32 network's last digits depend on the
    shapes of the batches a sentence was computed in, so a score may differ in its 6th decimal."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) <= tol
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], tol) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, tol) for x, y in zip(a, b))
    return a == b


@pytest.fixture(scope="module")
def model(trained) -> Path:
    return trained[0]


@pytest.fixture(scope="module")
def tagger(model):
    return rnntag.load(model)


@pytest.fixture(scope="module")
def server(model, tmp_path_factory):
    s = Server(model, tmp_path_factory.mktemp("serve"), *LIMITS)
    yield s
    assert s.stop() == 0, s.messages()


# --------------------------------------------------------------------------- the routes
def test_text_gives_the_records_of_predict_jsonl_with_offsets_into_the_text(server, tagger):
    status, body = post(server.port, {"text": TEXT})
    assert status == 200
    assert same(body, {"sentences": records(tagger.tag(TEXT))})
    assert [r["offset"] for r in body["sentences"]] == [0, TEXT.index("The European")]
    found = 0
    for r in body["sentences"]:
        for t in r["tokens"]:
            assert r["text"][t["start"] : t["end"]] == t["text"]
            assert TEXT[r["offset"] + t["start"] : r["offset"] + t["end"]] == t["text"]
        for e in r["entities"]:
            assert TEXT[r["offset"] + e["start"] : r["offset"] + e["end"]] == e["text"]
            found += 1
    assert found  # the tiny model finds some of these


def test_predict_jsonl_prints_the_same_records(server, model, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text(TEXT, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "rnntag", "predict", str(model), str(src), "--format", "jsonl"],
                         capture_output=True, text=True, check=True).stdout
    lines = [json.loads(x) for x in out.splitlines()]
    assert [(r["doc"], r["sent"]) for r in lines] == [(0, 0), (0, 1)]
    assert same(post(server.port, {"text": TEXT})[1]["sentences"], lines)


def test_texts_give_one_list_of_records_per_text_each_its_own_document(server, tagger):
    texts = ["Zoë Müller 😀 met John Smith in Zürich.", "  IBM said so.\n\nMicrosoft did not.", TEXT]
    status, body = post(server.port, {"texts": texts})
    assert status == 200
    assert same(body, {"texts": [records(s, i) for i, s in enumerate(tagger.pipe(texts))]})
    assert [[(r["doc"], r["sent"]) for r in recs] for recs in body["texts"]][1] == [(1, 0), (1, 1)]
    for text, recs in zip(texts, body["texts"]):
        for r in recs:  # offsets count characters (code points) of that text
            assert text[r["offset"] : r["offset"] + len(r["text"])] == r["text"]


def test_a_response_written_one_record_a_line_reads_back_with_its_documents(server, tmp_path):
    from rnntag.io.readers import read_tagged

    texts = ["John Smith flew to Rome.", "  IBM said so.\n\nMicrosoft did not.", TEXT]
    status, body = post(server.port, {"texts": texts})
    flat = [r for recs in body["texts"] for r in recs]
    path = tmp_path / "response.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in flat), encoding="utf-8")
    read = read_tagged(path).sentences
    assert [list(s.tokens) for s in read] == [[t["text"] for t in r["tokens"]] for r in flat]
    assert [list(s.tags) for s in read] == [r["tags"] for r in flat]
    assert [s.starts_document for s in read] == [r["sent"] == 0 for r in flat] == [True, True, False, True, False]


def test_tokens_give_records_over_the_joined_tokens(server, tagger):
    sents = [["Angela", "Merkel", "visited", "Paris", "."], ["New York", "is", "big"]]
    status, body = post(server.port, {"tokens": sents})
    assert status == 200
    assert same(body, {"sentences": records(tagger.tag_tokens(sents))})
    assert body["sentences"][1]["text"] == "New York is big" and "offset" not in body["sentences"][1]


def test_concurrent_requests_each_get_their_own_records(server, tagger):
    texts = [f"Text {i}: John Smith{' and Mary Jones' * (i % 3)} went to Paris {i} times." for i in range(24)]
    results: dict[int, object] = {}
    barrier = threading.Barrier(len(texts))

    def one(i: int) -> None:
        barrier.wait()
        results[i] = post(server.port, {"text": texts[i]} if i % 2 else {"texts": [texts[i], texts[i - 1]]})

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, text in enumerate(texts):
        if i % 2:
            assert same(results[i], (200, {"sentences": records(tagger.tag(text))}))
        else:
            assert same(results[i], (200, {"texts": [records(tagger.tag(text)), records(tagger.tag(texts[i - 1]), 1)]}))
    health = healthy(server.port)
    assert health["requests_tagged"] >= len(texts) and health["failed"] == 0 and health["queued"] == 0


def test_model_health_docs_routes(server, model):
    status, _, info = call(server.port, "GET", "/v1/model")
    assert status == 200 and info == rnntag.read_info(model).to_dict()
    assert healthy(server.port)["pid"] == server.proc.pid
    status, _, spec = call(server.port, "GET", "/openapi.json")
    assert status == 200 and {"/v1/tag", "/v1/model", "/healthz", "/"} <= set(spec["paths"])
    for path, script in (("/docs", "/docs-assets/swagger-ui-bundle.js"), ("/redoc", "/docs-assets/redoc.standalone.js")):
        status, _, docs = call(server.port, "GET", path, as_json=False)
        assert status == 200 and f'"{script}"' in docs and "openapi.json" in docs
        assert "http://" not in docs and "https://" not in docs  # nothing from a CDN: the docs work offline
        status, head, js = call(server.port, "GET", script, as_json=False)
        assert status == 200 and "javascript" in head["content-type"] and len(js) > 100_000
    status, head, _ = call(server.port, "GET", "/docs-assets/swagger-ui.css", as_json=False)
    assert status == 200 and head["content-type"].startswith("text/css")


def test_page_is_self_contained(server):
    status, head, page = call(server.port, "GET", "/", as_json=False)
    assert status == 200 and head["content-type"].startswith("text/html")
    assert "<textarea" in page and "<button" in page and 'fetch("v1/tag"' in page
    assert "http://" not in page and "https://" not in page and "src=" not in page  # nothing to load
    assert "default-src 'none'" in head["content-security-policy"]


# ------------------------------------------------------------------------ bad requests
J = {"Content-Type": "application/json"}
BAD = [
    # (name, body, headers, status, words of the message)
    ("malformed JSON", b'{"text": "a', J, 400, "not valid JSON"),
    ("not UTF-8", b'{"text": "\xff\xfe"}', J, 400, "not UTF-8"),
    ("empty body", b"", J, 400, "empty"),
    ("nested too deeply", b"[" * 15000, J, 400, "nested too deeply"),
    ("a list", b'["text"]', J, 422, "JSON object"),
    ("a string", b'"Angela Merkel"', J, 422, "JSON object"),
    ("no field", b"{}", J, 422, "exactly one of"),
    ("two fields", b'{"text": "a", "tokens": [["a"]]}', J, 422, "exactly one of"),
    ("unknown field", b'{"txt": "a"}', J, 422, "unknown field 'txt'"),
    ("text a number", b'{"text": 3}', J, 422, "text must be a string, not a number"),
    ("text null", b'{"text": null}', J, 422, "not null"),
    ("empty text", b'{"text": ""}', J, 422, "text is empty"),
    ("blank text", b'{"text": " \\n\\t "}', J, 422, "text is empty"),
    ("texts a string", b'{"texts": "a"}', J, 422, "texts must be a list"),
    ("texts empty", b'{"texts": []}', J, 422, "empty list"),
    ("texts with a number", b'{"texts": ["a", 5]}', J, 422, "texts[1] must be a string"),
    ("texts with an empty text", b'{"texts": ["a", ""]}', J, 422, "texts[1] is empty"),
    ("tokens a string", b'{"tokens": "a b"}', J, 422, "tokens must be a non-empty list"),
    ("tokens a flat list", b'{"tokens": ["a", "b"]}', J, 422, "tokens[0] must be a non-empty list"),
    ("an empty sentence", b'{"tokens": [["a"], []]}', J, 422, "tokens[1] must be a non-empty list"),
    ("a number token", b'{"tokens": [["a", 1]]}', J, 422, "tokens[0][1]"),
    ("a blank token", b'{"tokens": [["a", " "]]}', J, 422, "tokens[0][1]"),
    ("a lone surrogate", b'{"text": "Angela \\ud800 Merkel"}', J, 422, "text holds a lone surrogate U+D800 at offset 7"),
    ("a lone surrogate in texts", b'{"texts": ["a", "\\udfff"]}', J, 422, "texts[1] holds a lone surrogate U+DFFF"),
    ("a lone surrogate token", b'{"tokens": [["a", "b\\udc00"]]}', J, 422,
     "tokens[0][1] holds a lone surrogate U+DC00 at offset 1"),
    ("too many tokens, text", json.dumps({"text": "word " * 401}).encode(), J, 413, "401 tokens, more than 400"),
    ("too many tokens, texts", json.dumps({"texts": ["word " * 300, "word " * 300]}).encode(), J, 413, "more than 400"),
    ("too many tokens, tokens", json.dumps({"tokens": [["w"] * 200] * 3}).encode(), J, 413, "600 tokens"),
    ("body over --max-body", json.dumps({"text": "x" * 20001}).encode(), J, 413, "--max-body"),
    ("text/plain", b'{"text": "a"}', {"Content-Type": "text/plain"}, 415, "application/json"),
    ("no content type", b'{"text": "a"}', {}, 415, "no Content-Type"),
    ("a form", b"text=a", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "application/json"),
]


@pytest.mark.parametrize("name,body,headers,status,words", BAD, ids=[b[0] for b in BAD])
def test_bad_request_gets_a_json_error(server, name, body, headers, status, words):
    got, _, answer = call(server.port, "POST", "/v1/tag", body, headers)
    assert (got, list(answer)) == (status, ["error"]), answer
    assert words in answer["error"]


@pytest.mark.parametrize("method,path,status,words", [
    ("GET", "/nowhere", 404, "no route GET /nowhere"),
    ("POST", "/v2/tag", 404, "no route POST /v2/tag"),
    ("GET", "/v1/tag", 405, "GET is not allowed on /v1/tag"),
    ("PUT", "/v1/tag", 405, "PUT is not allowed"),
    ("POST", "/healthz", 405, "POST is not allowed on /healthz"),
    ("DELETE", "/v1/model", 405, "DELETE is not allowed"),
])
def test_unknown_route_and_wrong_method_get_json_errors(server, method, path, status, words):
    got, head, answer = call(server.port, method, path, b"{}", J)
    assert got == status and words in answer["error"]
    if status == 405:
        assert head["allow"]


def test_body_declared_over_max_body_is_refused_before_it_is_sent(server):
    sock = raw_request(server.port, b"", length=10**9)
    try:
        status, answer = read_response(sock)
    finally:
        sock.close()
    assert status == 413 and "1,000,000,000 bytes" in answer["error"]


def test_urllib_posting_a_body_over_max_body_reads_the_413(server):
    """urllib sends the whole body before it reads: the server drains it (bounded) before it
    answers and closes, so the client gets the 413 rather than a connection reset."""
    body = json.dumps({"text": "x" * 4_000_000}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}/v1/tag", data=body, headers=J)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=30)
    assert err.value.code == 413 and "4,000,012 bytes" in json.loads(err.value.read())["error"]
    healthy(server.port)


def test_requests_posting_a_body_over_max_body_reads_the_413(server):
    """requests, with a Content-Length and chunked (a generator body), reads the 413 too."""
    requests = pytest.importorskip("requests")
    url = f"http://127.0.0.1:{server.port}/v1/tag"
    body = json.dumps({"text": "x" * 4_000_000}).encode()
    r = requests.post(url, data=body, headers=J, timeout=30)
    assert r.status_code == 413 and "4,000,012 bytes" in r.json()["error"]
    r = requests.post(url, data=(body[i:i + 65536] for i in range(0, len(body), 65536)), headers=J, timeout=30)
    assert r.status_code == 413 and "--max-body" in r.json()["error"], r.text
    healthy(server.port)


def test_raw_client_sending_all_of_a_body_over_max_body_reads_the_413(server):
    for body in (json.dumps({"text": "x" * 4_000_000}).encode(), b"{" + b" " * 25_000):  # over socket buffers; just over
        sock = raw_request(server.port, body)  # sendall: the whole body, before reading anything
        try:
            status, answer = read_response(sock)
            assert status == 413 and "--max-body" in answer["error"], answer
            tail = json.dumps({"text": "Rome"}).encode()  # all of it read: the connection carries the next request
            sock.sendall(b"POST /v1/tag HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(tail), tail))
            assert read_response(sock)[0] == 200
        finally:
            sock.close()
    healthy(server.port)


def test_chunked_body_over_max_body_is_refused(server):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    try:
        chunk = b'{"text": "' + b"x" * 20500
        sock.sendall(b"POST /v1/tag HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n" + f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        status, answer = read_response(sock)  # the body never ends: it is refused on its size
    finally:
        sock.close()
    assert status == 413 and "--max-body" in answer["error"]


def test_slow_client_within_the_timeout_is_answered(server, tagger):
    body = json.dumps({"text": "John Smith flew to Rome."}).encode()
    sock = raw_request(server.port, body[:5], length=len(body))
    try:
        for i in range(5, len(body), 8):
            time.sleep(0.02)
            sock.sendall(body[i : i + 8])
        status, answer = read_response(sock)
    finally:
        sock.close()
    assert status == 200 and same(answer, {"sentences": records(tagger.tag("John Smith flew to Rome."))})


def test_stalled_client_gets_408_and_the_server_goes_on(server):
    sock = raw_request(server.port, b'{"text": "John', length=100)
    try:
        started = time.monotonic()
        status, answer = read_response(sock)
    finally:
        sock.close()
    assert status == 408 and "did not arrive within 1.5 s" in answer["error"]
    assert time.monotonic() - started < 20
    healthy(server.port)


def test_clients_that_go_away_early_leave_the_server_serving(server):
    before = healthy(server.port)
    for body, length in ((b'{"text": "Jo', 50), (json.dumps({"text": TEXT * 20}).encode(), None), (b"", 10)):
        sock = raw_request(server.port, body, length=length)
        sock.close()  # mid-body, or before the answer
    idle = socket.create_connection(("127.0.0.1", server.port))  # connects and says nothing
    half = socket.create_connection(("127.0.0.1", server.port))
    half.sendall(b"POST /v1/tag HTTP/1.1\r\nHost: x\r\n")  # headers never finished
    try:
        assert post(server.port, {"text": "Paris."})[0] == 200
        after = healthy(server.port)
        assert after["failed"] == before["failed"]
    finally:
        idle.close()
        half.close()
    assert server.proc.poll() is None


def test_no_traceback_for_any_bad_request(server):
    assert "Traceback" not in server.messages()


# ------------------------------------------------------------------------ stopping
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_during_a_request_finishes_it_and_exits_0(model, tmp_path, tagger, sig):
    s = Server(model, tmp_path)
    body = json.dumps({"text": TEXT}).encode()
    sock = raw_request(s.port, body[:10], length=len(body))  # the request is in flight
    try:
        healthy(s.port)  # a later connection answered: the server has read the headers sent before it
        time.sleep(0.1)
        s.proc.send_signal(sig)
        deadline = time.monotonic() + 10
        while True:  # it stops accepting
            try:
                socket.create_connection(("127.0.0.1", s.port), timeout=1).close()
            except OSError:
                break
            assert time.monotonic() < deadline, "still accepting after the signal"
            time.sleep(0.05)
        assert s.proc.poll() is None  # and waits for the request in flight
        sock.sendall(body[10:])
        status, answer = read_response(sock)
    finally:
        sock.close()
    assert status == 200 and same(answer, {"sentences": records(tagger.tag(TEXT))})
    assert s.proc.wait(30) == 0, s.messages()
    assert "Traceback" not in s.messages() and "server stopped" in s.messages()


def test_workers_serve_and_stop_cleanly(model, tmp_path, tagger):
    s = Server(model, tmp_path, "--workers", "2")
    try:
        pids = set()
        for i in range(12):
            assert same(post(s.port, {"text": f"John Smith saw {i} men in Paris."}),
                        (200, {"sentences": records(tagger.tag(f"John Smith saw {i} men in Paris."))}))
            pids.add(healthy(s.port)["pid"])
        assert s.proc.pid not in pids and 1 <= len(pids) <= 2  # the workers answer, not the supervisor
    finally:
        code = s.stop()
    assert code == 0, s.messages()
    for pid in pids:  # no worker is left behind
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


# ------------------------------------------------------------------- errors at start
def test_without_the_extra_it_names_the_install_and_exits_2(model):
    code = ("import sys; sys.modules['uvicorn'] = None; sys.argv = ['rnntag', 'serve', sys.argv[1]]; "
            "from rnntag.cli import main; main()")
    r = subprocess.run([sys.executable, "-c", code, str(model)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "pip install 'rnntag[serve]'" in r.stderr and "uvicorn" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_bad_model_and_port_in_use_are_one_line_errors(model, tmp_path, server):
    r = subprocess.run([sys.executable, "-m", "rnntag", "serve", str(tmp_path / "missing")], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.startswith("rnntag: error:") and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "rnntag", "serve", str(model), "--port", str(server.port)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and f"cannot listen on 127.0.0.1:{server.port}" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


# ------------------------------------------------- the app in process: its own failures
class InProcess:
    """``create_app(tagger)`` under uvicorn in a thread of this process."""

    def __init__(self, tagger, limits: Limits | None = None):
        import uvicorn

        from rnntag.serve.app import create_app
        from rnntag.serve.run import LOG_CONFIG, listen

        self.sock = listen("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(create_app(tagger, limits), log_config=LOG_CONFIG, access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline
            time.sleep(0.02)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()


def test_internal_failure_is_a_500_json_and_the_server_stays_up(model, capfd):
    broken = rnntag.load(model)

    def explode(*args, **kwargs):
        raise RuntimeError("the network fell over")

    broken.predict = explode
    s = InProcess(broken)
    try:
        for _ in range(2):
            status, answer = post(s.port, {"text": "John Smith."})
            assert status == 500 and "RuntimeError: the network fell over" in answer["error"]
        assert healthy(s.port)["failed"] == 2
        assert call(s.port, "GET", "/v1/model")[0] == 200
    finally:
        s.close()
    err = capfd.readouterr().err
    assert "rnntag: internal error: RuntimeError: the network fell over" in err and "Traceback" not in err


def test_tagging_runs_off_the_event_loop(model, tagger):
    slow = rnntag.load(model)
    release = threading.Event()
    entered = threading.Event()
    real = slow.predict

    def blocked(*args, **kwargs):
        entered.set()
        assert release.wait(30)
        return real(*args, **kwargs)

    slow.predict = blocked
    s = InProcess(slow)
    try:
        answer: dict = {}
        t = threading.Thread(target=lambda: answer.update(r=post(s.port, {"text": TEXT})))
        t.start()
        assert entered.wait(30)
        assert healthy(s.port)  # answered while the tagging thread is busy
        assert call(s.port, "GET", "/", as_json=False)[0] == 200
        release.set()
        t.join(30)
        assert same(answer["r"], (200, {"sentences": records(tagger.tag(TEXT))}))
    finally:
        release.set()
        s.close()


def test_a_request_whose_client_goes_away_while_it_waits_is_not_tagged(model):
    held = rnntag.load(model)
    release = threading.Event()
    entered = threading.Event()
    real = held.predict
    seen: list[list] = []

    def blocked(sentences, *args, **kwargs):
        seen.append([list(s) for s in sentences])
        entered.set()
        assert release.wait(30)
        return real(sentences, *args, **kwargs)

    held.predict = blocked
    s = InProcess(held)
    try:
        answer: dict = {}
        t = threading.Thread(target=lambda: answer.update(r=post(s.port, {"tokens": [["first"]]})))
        t.start()
        assert entered.wait(30)  # the first batch is being tagged
        body = json.dumps({"tokens": [["gone"]]}).encode()
        sock = raw_request(s.port, body)
        deadline = time.monotonic() + 30
        while healthy(s.port)["queued"] != 1:  # it is read and queued behind the first batch
            assert time.monotonic() < deadline
            time.sleep(0.02)
        sock.close()  # and its caller goes away
        healthy(s.port)  # a later request answered: the server has seen the close
        time.sleep(0.1)
        release.set()
        t.join(30)
        assert answer["r"][0] == 200
        assert post(s.port, {"tokens": [["after"]]})[0] == 200
        assert seen == [[["first"]], [["after"]]]  # "gone" was never tagged
    finally:
        release.set()
        s.close()


# --------------------------------------------------------------------- jobs and batches
def test_jobs_tagged_together_equal_each_tagged_alone(tagger):
    limits = Limits()
    bodies = [{"text": TEXT}, {"tokens": [["John", "Smith"], ["Paris", "."]]}, {"texts": ["IBM said so.", TEXT]},
              {"text": "Angela Merkel met Emmanuel Macron."}]
    jobs = [read_job(b, limits, tagger.max_tokens) for b in bodies]
    together = tag_jobs(tagger, jobs)
    assert same(together, [tag_jobs(tagger, [j])[0] for j in jobs])
    assert same(together[0], {"sentences": records(tagger.tag(TEXT))})
    assert same(together[1], {"sentences": records(tagger.tag_tokens([["John", "Smith"], ["Paris", "."]]))})
    assert same(together[2], {"texts": [records(s, i) for i, s in enumerate(tagger.pipe(["IBM said so.", TEXT]))]})
    assert jobs[1].tokens == 4 and isinstance(jobs[0], Job)


class Recorder:
    """A batch function that records its batches, can be held, and fails on "bad"."""

    def __init__(self):
        self.batches: list[list] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, items):
        self.batches.append(list(items))
        self.entered.set()
        assert self.release.wait(10)
        if "bad" in items:
            raise ValueError("bad item")
        return [f"done {x}" for x in items]


def run_batcher(scenario, **options):
    recorder = Recorder()

    async def main():
        batcher = Batcher(recorder, lambda item: len(item), **options)
        batcher.start()
        try:
            return await scenario(batcher, recorder)
        finally:
            recorder.release.set()
            await batcher.stop()

    return asyncio.run(main()), recorder


async def held_then(batcher, recorder, items):
    """Submit "first" and hold its batch; submit ``items`` meanwhile; release; all results."""
    first = asyncio.ensure_future(batcher.submit("first"))
    await asyncio.to_thread(recorder.entered.wait, 10)
    rest = [asyncio.ensure_future(batcher.submit(x)) for x in items]
    await asyncio.sleep(0.05)
    recorder.release.set()
    return await asyncio.gather(first, *rest, return_exceptions=True)


def test_batcher_gathers_what_arrives_during_a_batch():
    items = ["a", "b", "c", "d", "e"]
    results, recorder = run_batcher(lambda b, r: held_then(b, r, items))
    assert results == ["done first", *[f"done {x}" for x in items]]
    assert recorder.batches == [["first"], items]


def test_batcher_caps_a_batch_by_size():
    items = ["aaaa", "bbbb", "cccc", "dddd", "eeeeeeeeeeee"]  # sizes 4, 4, 4, 4, 12; cap 10
    results, recorder = run_batcher(lambda b, r: held_then(b, r, items), max_size=10)
    assert results == ["done first", *[f"done {x}" for x in items]]
    assert recorder.batches == [["first"], ["aaaa", "bbbb"], ["cccc", "dddd"], ["eeeeeeeeeeee"]]


def test_batcher_fails_only_the_bad_item():
    results, recorder = run_batcher(lambda b, r: held_then(b, r, ["a", "bad", "c"]))
    assert results[:2] == ["done first", "done a"] and results[3] == "done c"
    assert isinstance(results[2], ValueError)
    assert recorder.batches[1] == ["a", "bad", "c"] and recorder.batches[2:] == [["a"], ["bad"], ["c"]]


def test_batcher_drops_items_whose_caller_went_away():
    async def scenario(batcher, recorder):
        first = asyncio.ensure_future(batcher.submit("first"))
        await asyncio.to_thread(recorder.entered.wait, 10)
        gone = asyncio.ensure_future(batcher.submit("gone"))
        kept = asyncio.ensure_future(batcher.submit("kept"))
        await asyncio.sleep(0.01)
        gone.cancel()
        recorder.release.set()
        return await asyncio.gather(first, kept)

    results, recorder = run_batcher(scenario)
    assert results == ["done first", "done kept"] and recorder.batches == [["first"], ["kept"]]


def test_batcher_refuses_work_once_stopped():
    async def main():
        batcher = Batcher(lambda items: list(items), len)
        batcher.start()
        assert await batcher.submit("x") == "x"
        await batcher.stop()
        with pytest.raises(RuntimeError, match="not running"):
            await batcher.submit("y")

    asyncio.run(main())


# ------------------------------------------------------------------------- the browser
@pytest.mark.slow
@pytest.mark.skipif(not any(map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))),
                    reason="no chromium binary (apt-get install -y chromium)")
def test_page_highlights_the_entities_and_the_docs_draw_offline_in_headless_chromium(model):
    """bench/page_check.py: the page, loaded in Chromium, draws the API's entities in their colours;
    /docs and /redoc, with no host but the server's reachable, draw the routes."""
    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, str(root / "bench" / "page_check.py"), "--model", str(model), "--text", TEXT,
                        "--screenshot", ""], capture_output=True, text=True, timeout=300)
    result = json.loads(r.stdout)
    assert r.returncode == 0 and result["ok"], result
    assert result["entities_in_dom"] and result["state"] == "done" and result["text_kept"]
    assert result["docs_drawn"] == {"swagger_ui": True, "redoc": True}


def test_same_tells_records_apart():
    a = {"tags": ["B-PER"], "entities": [{"type": "PER", "score": 0.534019}]}
    assert same(a, {"tags": ["B-PER"], "entities": [{"type": "PER", "score": 0.534018}]})
    assert not same(a, {"tags": ["B-PER"], "entities": [{"type": "PER", "score": 0.5341}]})
    assert not same(a, {"tags": ["B-LOC"], "entities": [{"type": "PER", "score": 0.534019}]})
    assert not same(a, {"tags": ["B-PER"], "entities": []}) and not same([1, 2], [1])


@pytest.mark.slow
def test_serves_a_numpy_export(model, tmp_path, tagger):
    out = tmp_path / "numpy"
    rnntag.export(model, "numpy", out)
    s = Server(out, tmp_path)
    try:
        assert same(post(s.port, {"text": TEXT}), (200, {"sentences": records(tagger.tag(TEXT))}))
        assert call(s.port, "GET", "/v1/model")[2]["kind"] != "model"
    finally:
        assert s.stop() == 0, s.messages()


def test_the_server_runs_without_torch(model, tagger, tmp_path):
    """torch made unimportable (as on a machine without it): the server loads the model on
    the NumPy runtime and answers as ever."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text("import sys\nsys.modules['torch'] = None  # import torch fails\n")
    root = Path(__file__).resolve().parents[1]
    s = Server(model, tmp_path, env={"PYTHONPATH": os.pathsep.join([str(hook), str(root)])})
    try:
        status, body = post(s.port, {"text": TEXT})
        assert status == 200 and same(body["sentences"], records(tagger.tag(TEXT))), body
    finally:
        assert s.stop() == 0, s.messages()
