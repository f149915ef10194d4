"""The page of `rnntag serve` in headless Chromium: it starts the server, loads
`/?text=...` (the page fills its box with the text and tags it at once), and finds the
highlighted entities in the DOM that Chromium dumps, against the records `POST /v1/tag`
gives for the same text: the same entities (text, type, score in the title), each in its
type's colour (`rnntag.io.html_view.colour`), and every character of the text kept. It also
takes a screenshot (default `bench/out/page.png`). The API docs too: `/docs` (Swagger UI) and
`/redoc` (ReDoc), loaded with every host but the server's unresolvable (as offline), must draw
the routes of the OpenAPI document. Prints JSON; exits 1 when a page is wrong.

    python bench/page_check.py --model bench/out/conll-default

Chromium: `apt-get install -y chromium` (Debian), run with --headless --no-sandbox;
`--virtual-time-budget` lets the page's fetch finish before the DOM is dumped.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import serving

ROOT = Path(__file__).resolve().parents[1]
TEXT = ("Angela Merkel met Emmanuel Macron in Paris on Tuesday, the German government said.\n\n"
        "Shares of Siemens rose 3 percent in Frankfurt after the European Commission approved the deal.")
CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class ResultDom(HTMLParser):
    """Inside ``#result``: the marks (type, title, style, text without the label) and the text shown."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.state: str | None = None
        self.depth = 0  # element depth inside #result (0: outside)
        self.marks: list[dict] = []
        self.text: list[str] = []
        self.in_mark = self.in_label = False
        self.error = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.depth:
            self.depth += 1
            if tag == "mark":
                self.in_mark = True
                self.marks.append({"type": a.get("data-type"), "title": a.get("title"), "style": a.get("style"), "text": ""})
            elif tag == "span" and a.get("class") == "rnntag-label":
                self.in_label = True
        elif a.get("id") == "result":
            self.state = a.get("data-state")
            self.depth = 1

    def handle_endtag(self, tag):
        if not self.depth:
            return
        self.depth -= 1
        if tag == "mark":
            self.in_mark = False
        elif tag == "span":
            self.in_label = False

    def handle_data(self, data):
        if not self.depth or self.in_label:
            return
        self.text.append(data)
        if self.in_mark:
            self.marks[-1]["text"] += data


def find_chromium(given: str | None) -> str | None:
    if given:
        return given
    return next((p for p in map(shutil.which, CHROMIUM) if p), None)


def start_server(model: str, log: Path) -> tuple[subprocess.Popen, int]:
    return serving.start_server(model, log, env={"OMP_NUM_THREADS": "1"}, timeout=60)


def chromium_run(chromium: str, profile: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    # no host but the server's resolves: a page that needs a CDN shows it here as on a machine offline
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             "--hide-scrollbars", f"--user-data-dir={profile}", "--virtual-time-budget=15000"]
    return subprocess.run([chromium, *flags, *args], capture_output=True, text=True, timeout=timeout)


def rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(h[i : i + 2], 16) for i in (0, 2, 4)))


def docs_drawn(dom: str) -> dict:
    """What of the API docs a dumped DOM shows: Swagger UI's operation rows, ReDoc's operation
    headings, each with the route ``/v1/tag`` (the page itself only loads a script)."""
    return {"swagger_ui": "opblock-summary-path" in dom and "/v1/tag" in dom,
            "redoc": "Tag text, texts or pre-tokenised sentences" in dom and "/v1/tag" in dom}


def check(model: str, text: str, screenshot: Path | None, chromium: str) -> dict:
    from rnntag.io.html_view import colour

    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(model, Path(tmp) / "serve.err")
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/tag", json.dumps({"text": text}).encode(),
                                             {"Content-Type": "application/json"})
            records = json.loads(urllib.request.urlopen(request, timeout=60).read())["sentences"]
            url = f"http://127.0.0.1:{port}/?" + urllib.parse.urlencode({"text": text})
            started = time.perf_counter()
            dumped = chromium_run(chromium, str(Path(tmp) / "profile"), "--dump-dom", url)
            dom_seconds = time.perf_counter() - started
            shot = None
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                chromium_run(chromium, str(Path(tmp) / "profile2"), f"--screenshot={screenshot}",
                             "--window-size=1100,760", url)
                shot = str(screenshot) if screenshot.is_file() else None
            docs = {"swagger_ui": docs_drawn(chromium_run(chromium, str(Path(tmp) / "profile3"), "--dump-dom",
                                                          f"http://127.0.0.1:{port}/docs").stdout)["swagger_ui"],
                    "redoc": docs_drawn(chromium_run(chromium, str(Path(tmp) / "profile4"), "--dump-dom",
                                                     f"http://127.0.0.1:{port}/redoc").stdout)["redoc"]}
        finally:
            proc.send_signal(signal.SIGTERM)
            server_exit = proc.wait(30)
    dom = ResultDom()
    dom.feed(dumped.stdout)
    expected = [{"text": e["text"], "type": e["type"], "title": f"{e['type']}, score {e['score']:.3f}"}
                for r in records for e in r["entities"]]
    found = [{k: m[k] for k in ("text", "type", "title")} for m in dom.marks]
    colours_ok = all(m["style"] and rgb(colour(m["type"])) in m["style"] for m in dom.marks)
    shown = "".join(dom.text)
    ok = dom.state == "done" and found == expected and colours_ok and shown == text and server_exit == 0 and all(docs.values())
    return {
        "ok": ok, "chromium": chromium, "model": model, "state": dom.state, "entities_in_dom": found,
        "entities_expected": len(expected), "same_entities_as_api": found == expected, "colours_match": colours_ok,
        "text_kept": shown == text, "dom_seconds": round(dom_seconds, 2), "screenshot": shot,
        "docs_drawn": docs, "server_exit_code": server_exit, "chromium_stderr_tail": "" if ok else dumped.stderr[-2000:],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(ROOT / "bench/out/conll-default"))
    ap.add_argument("--text", default=TEXT)
    ap.add_argument("--screenshot", default=str(ROOT / "bench/out/page.png"), help="PNG to write ('' for none)")
    ap.add_argument("--chromium", default=None, help="the browser binary (default: chromium on PATH)")
    args = ap.parse_args()
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print(json.dumps({"ok": False, "error": "no chromium found: apt-get install -y chromium"}))
        sys.exit(2)
    result = check(args.model, args.text, Path(args.screenshot) if args.screenshot else None, chromium)
    print(json.dumps(result, ensure_ascii=False))
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
