"""Page weight of the public petition page and the lookup page, measured in Chromium.

Each page is loaded cold (a new browser context, so an empty cache) and the script adds up
what came over the wire: response headers and the body as sent (compressed when it was).
Map tiles are left out: any request to another host (the tile server) and any
``/<z>/<x>/<y>.png`` path. A second visit in the same context shows what the long cache
of fingerprinted static files saves (answers from the cache are not counted). The budget
is 150 KB (150,000 bytes) in at most 10 requests per page; above it the script exits 1.

    python scripts/page_weight.py                  # a throwaway app with the demo ward
    python scripts/page_weight.py --base-url http://127.0.0.1:5000 --code KN-2026-00042

Without ``--base-url`` the app is built on a temporary SQLite database, loaded with the
demo ward and served on a free loopback port for the length of the run.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu"]
BUDGET_BYTES = 150_000
BUDGET_REQUESTS = 10
TILE_PATH = re.compile(r"/\d+/\d+/\d+(@2x)?\.(png|jpe?g|webp)$")


@dataclass
class Resource:
    url: str
    bytes: int
    status: int | None
    encoding: str


@dataclass
class PageWeight:
    path: str
    resources: list[Resource] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    repeat_requests: int = 0
    repeat_bytes: int = 0

    @property
    def requests(self) -> int:
        return len(self.resources)

    @property
    def bytes(self) -> int:
        return sum(r.bytes for r in self.resources)

    def within(self, budget_bytes: int, budget_requests: int) -> bool:
        return self.bytes <= budget_bytes and self.requests <= budget_requests


def _is_tile(url: str, origin: str) -> bool:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" != origin or bool(TILE_PATH.search(parts.path))


def _visit(page, cdp, path: str, origin: str) -> tuple[list[Resource], list[str]]:
    """Load ``path``; what DevTools' network panel shows, from its own events."""
    seen: dict[str, dict] = {}

    def sent(event):
        url = event["request"]["url"]
        if not url.startswith("data:"):
            seen.setdefault(event["requestId"], {"url": url, "bytes": 0, "cached": False})

    def received(event):
        entry = seen.get(event["requestId"])
        if entry is not None:
            response = event["response"]
            headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
            entry["status"] = response.get("status")
            entry["encoding"] = headers.get("content-encoding", "")
            if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
                entry["cached"] = True

    def cached(event):
        if event["requestId"] in seen:
            seen[event["requestId"]]["cached"] = True

    def finished(event):
        if event["requestId"] in seen:
            seen[event["requestId"]]["bytes"] = int(event.get("encodedDataLength", 0))

    handlers = {
        "Network.requestWillBeSent": sent,
        "Network.responseReceived": received,
        "Network.requestServedFromCache": cached,
        "Network.loadingFinished": finished,
    }
    for name, handler in handlers.items():
        cdp.on(name, handler)
    page.goto(path, wait_until="networkidle")
    for name, handler in handlers.items():
        cdp.remove_listener(name, handler)
    resources, excluded = [], []
    for entry in seen.values():
        if _is_tile(entry["url"], origin):
            excluded.append(entry["url"])
        elif not entry["cached"]:
            resources.append(
                Resource(
                    url=entry["url"].removeprefix(origin),
                    bytes=entry["bytes"],
                    status=entry.get("status"),
                    encoding=entry.get("encoding", ""),
                )
            )
    return resources, excluded


def measure(browser, base_url: str, path: str) -> PageWeight:
    """One cold load of ``path`` in a fresh context, then a second visit (warm cache)."""
    origin = base_url.rstrip("/")
    context = browser.new_context(base_url=origin, locale="vi-VN")
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        resources, excluded = _visit(page, cdp, path, origin)
        weight = PageWeight(path=path, resources=resources, excluded=excluded)
        again, _ = _visit(page, cdp, path, origin)
        weight.repeat_requests = len(again)
        weight.repeat_bytes = sum(r.bytes for r in again)
        return weight
    finally:
        context.close()


def report(
    weights: list[PageWeight],
    budget_bytes: int = BUDGET_BYTES,
    budget_requests: int = BUDGET_REQUESTS,
    details: bool = False,
) -> str:
    lines = [
        f"{'page':<32} {'requests':>8} {'transferred':>12} {'repeat visit':>16}  budget",
        "-" * 80,
    ]
    for w in weights:
        verdict = "ok" if w.within(budget_bytes, budget_requests) else "OVER"
        repeat = f"{w.repeat_requests} / {w.repeat_bytes / 1000:.1f} KB"
        lines.append(
            f"{w.path:<32} {w.requests:>8} {w.bytes / 1000:>9.1f} KB {repeat:>16}  {verdict}"
        )
        if details or verdict == "OVER":
            for r in w.resources:
                lines.append(
                    f"    {r.bytes / 1000:>7.1f} KB  {r.status or '---'}  "
                    f"{r.encoding or '-':<5} {r.url}"
                )
        if w.excluded:
            lines.append(f"    ({len(w.excluded)} map tile requests not counted)")
    lines.append("-" * 80)
    lines.append(
        f"budget per page: {budget_bytes / 1000:.0f} KB transferred (1 KB = 1000 bytes), "
        f"{budget_requests} requests, cold cache, map tiles excluded"
    )
    return "\n".join(lines)


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def pages_for(code: str) -> list[str]:
    return [f"/kien-nghi/{code}", "/tra-cuu"]


@contextmanager
def demo_server():
    """The app on a temporary SQLite database with the demo ward, on a free loopback port.

    Yields the base URL and the code of the demo petition with the longest public history
    (the heaviest petition page).
    """
    import logging

    from sqlalchemy import func, select
    from werkzeug.serving import make_server

    from portal import create_app, demo
    from portal.extensions import db
    from portal.notifications.services import notifications_suppressed
    from portal.petitions.models import Petition, PetitionEvent

    with tempfile.TemporaryDirectory(prefix="page-weight-") as folder:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/portal.sqlite3",
                "UPLOAD_DIR": f"{folder}/uploads",
                "SECRET_KEY": "page-weight",
                "RATELIMIT_ENABLED": False,
                "GEOCODER": "offline",
                "MAP_TILE_URL": "",
            }
        )
        with app.app_context():
            db.create_all()
            with notifications_suppressed():
                demo.seed()
            db.session.commit()
            code = db.session.scalar(
                select(Petition.code)
                .join(PetitionEvent, PetitionEvent.petition_id == Petition.id)
                .where(Petition.latitude.is_not(None))
                .group_by(Petition.id, Petition.code)
                .order_by(func.count(PetitionEvent.id).desc(), Petition.id)
                .limit(1)
            )
            db.session.remove()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", code
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
            with app.app_context():
                db.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="a running portal; by default a throwaway demo app")
    parser.add_argument("--code", help="the petition whose public page to load (with --base-url)")
    parser.add_argument("--budget-kb", type=float, default=BUDGET_BYTES / 1000)
    parser.add_argument("--budget-requests", type=int, default=BUDGET_REQUESTS)
    parser.add_argument("--details", action="store_true", help="list every request")
    args = parser.parse_args(argv)
    if args.base_url and not args.code:
        parser.error("--code is needed with --base-url")
    budget_bytes = int(args.budget_kb * 1000)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            if args.base_url:
                weights = [measure(browser, args.base_url, p) for p in pages_for(args.code)]
            else:
                with demo_server() as (base_url, code):
                    weights = [measure(browser, base_url, p) for p in pages_for(code)]
        finally:
            browser.close()
    print(report(weights, budget_bytes, args.budget_requests, details=args.details))
    over = [w.path for w in weights if not w.within(budget_bytes, args.budget_requests)]
    if over:
        print(f"Above budget: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
