"""The public pages' cache: made once per change of the ward's data, not once per visit.

The public list, its searches, a petition's public page, the home page and the
statistics are the same for every visitor who is not signed in, and they change only
when the ward's data does. So:

- Every transaction that changes data the public may see bumps the ward's revision
  (``ward_revision``) as its last statement before ``COMMIT`` (so that concurrent
  writers of a ward queue on that row only for the moment of their commit, always in
  the same order: no deadlock). Writes to tables the public pages never show (the audit
  log, the outbox, sign-in counters, API keys…) do not count. A row of no ward where
  rows have one (a company serving every ward, a day swap of every ward) bumps every
  ward's revision.
- A cached view first reads the revision: one statement outside a transaction, about
  the cost of a lookup by code. A page made at the same revision, in the same language,
  for the same address and query string, the same htmx target and on the same local
  day (due dates and "overdue" depend on the day) is served from the process's memory;
  otherwise the view runs and its page is kept.
- Never cached: signed-in users (their pages show their name and their work), a
  visit with messages to flash, anything but a 200 to a GET.
- The page carries the visitor's own CSRF token (the language switch is a POST form):
  the view renders a marker in its place, and each visitor gets their own token in it.

A page is therefore never older than the data: the moment a change is committed, the
next visit, in any process, sees it. The memory a process gives the cache is bounded
(``PAGE_CACHE_MAX_BYTES``, default 16 MB, least recently used pages go first);
``PAGE_CACHE_MAX_BYTES = 0`` turns it off.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from portal.database import read_scalar
from portal.timeutil import local_today, utcnow
from portal.web import rendering_key

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
CSRF_MARKER = "\x00portal-csrf-token\x00"

# Tables whose rows no public page shows: writing them does not change a public page.
PRIVATE_TABLES = frozenset(
    {
        "api_client",
        "audit_entry",
        "code_counter",
        "deadline_alert",
        "follow",
        "mail_opt_out",
        "notification",
        "open311_token",
        "user_account",
        "ward_revision",
    }
)


# --- the revision ---------------------------------------------------------------------


def _touches_public(tables) -> bool:
    return any(name not in PRIVATE_TABLES for name in tables)


def _flag(session: Session, ward_ids) -> None:
    session.info.setdefault("portal_changed_wards", set()).update(ward_ids)


# Flagged for a row of no ward where rows have one (a company serving every ward, a day
# swap of every ward): it shows on every ward's pages.
EVERY_WARD = -1


def _ward_ids_of(objects) -> set[int]:
    found = set()
    for obj in objects:
        if "ward_id" not in obj.__table__.c:
            continue
        ward_id = obj.ward_id
        found.add(ward_id if isinstance(ward_id, int) else EVERY_WARD)
    return found


def _after_flush(session: Session, _context) -> None:
    changed = [*session.new, *session.dirty, *session.deleted]
    public = [obj for obj in changed if obj.__table__.name not in PRIVATE_TABLES]
    if public:
        _flag(session, _ward_ids_of(public) | {None})


def _do_orm_execute(state) -> None:
    if isinstance(state.statement, TextClause):
        # Plain SQL: a write unless it is plainly a read (the safe side for a cache).
        words = state.statement.text.lstrip().split(None, 1)
        if words and words[0].lower() not in ("select", "with", "explain", "show", "set"):
            _flag(state.session, {None})
        return
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name is None or _touches_public([name]):
        _flag(state.session, {None})


def _before_commit(session: Session) -> None:
    if session.info.get("portal_bumping"):
        return
    session.flush()
    wards = session.info.pop("portal_changed_wards", None)
    if not wards:
        return
    from portal.units.services import current_ward_id

    try:
        wards = {w for w in wards if w is not None} | {current_ward_id()}
    except RuntimeError:  # outside an application (a script): only the wards named
        wards = {w for w in wards if w is not None}
    wards.discard(None)
    session.info["portal_bumping"] = True
    try:
        every = EVERY_WARD in wards
        wards.discard(EVERY_WARD)
        if every:
            bump_every_ward(session)
        for ward_id in sorted(wards):
            # After every ward's, only a ward that had no revision yet needs one.
            bump(session, ward_id, first_only=every)
    finally:
        session.info.pop("portal_bumping", None)


def _after_end(session: Session, *_args) -> None:
    session.info.pop("portal_changed_wards", None)


def bump(session: Session, ward_id: int, *, first_only: bool = False) -> None:
    """Raise the ward's revision by one (insert it at 1 the first time; with
    ``first_only``, only that)."""
    from portal.units.models import WardRevision

    table = WardRevision.__table__
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table).values(ward_id=ward_id, revision=1, changed_at=utcnow())
    if first_only:
        statement = statement.on_conflict_do_nothing(index_elements=[table.c.ward_id])
    else:
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.ward_id],
            set_={"revision": table.c.revision + 1, "changed_at": utcnow()},
        )
    session.execute(statement)


def bump_every_ward(session: Session) -> None:
    """Raise every ward's revision that exists (a ward without one has no cached page
    that could be stale: its first bump makes it)."""
    from portal.units.models import WardRevision

    table = WardRevision.__table__
    session.execute(table.update().values(revision=table.c.revision + 1, changed_at=utcnow()))


def current_revision() -> int:
    from portal.units.models import WardRevision
    from portal.units.services import current_ward_id

    ward_id = current_ward_id()
    if ward_id is None:
        return 0
    found = read_scalar(select(WardRevision.revision).where(WardRevision.ward_id == ward_id))
    return found or 0


_listening = False


def listen() -> None:
    """Watch every session for changes (once per process, for every app)."""
    global _listening
    if _listening:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _do_orm_execute)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_commit", _after_end)
    event.listen(Session, "after_soft_rollback", _after_end)
    _listening = True


# --- the pages --------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: str
    size: int


class PageCache:
    """Pages by key, least recently used first out, within a byte budget."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[tuple, Page] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def put(self, key: tuple, page: Page) -> None:
        if page.size > self.max_bytes // 8:
            return  # one page never takes more than an eighth of the budget
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._pages[key] = page
            self._bytes += page.size
            while self._bytes > self.max_bytes and self._pages:
                _key, dropped = self._pages.popitem(last=False)
                self._bytes -= dropped.size

    def __len__(self) -> int:
        return len(self._pages)


def init_app(app: Flask) -> None:
    listen()
    max_bytes = int(app.config.get("PAGE_CACHE_MAX_BYTES", DEFAULT_MAX_BYTES))
    app.extensions["page_cache"] = PageCache(max_bytes) if max_bytes > 0 else None


def _cacheable_request() -> bool:
    if request.method != "GET":
        return False
    if current_user.is_authenticated:
        return False
    # Peek without consuming: a visit with messages to show renders them once, live.
    return not session.get("_flashes")


def _key(revision: int) -> tuple:
    return (
        revision,
        str(get_locale()),
        request.full_path,
        rendering_key(),
        local_today().isoformat(),
    )


def _serve(page: Page) -> Response:
    body = page.body
    if CSRF_MARKER in body:
        body = body.replace(CSRF_MARKER, generate_csrf())
    return Response(body, status=page.status, headers=list(page.headers))


def public_page(view: Callable) -> Callable:
    """Serve the view's page from the cache while the ward's data has not changed."""

    @functools.wraps(view)
    def cached(*args, **kwargs):
        cache: PageCache | None = current_app.extensions.get("page_cache")
        if cache is None or not _cacheable_request():
            return view(*args, **kwargs)
        key = _key(current_revision())
        page = cache.get(key)
        if page is not None:
            return _serve(page)
        g.csrf_token = CSRF_MARKER  # the page gets a marker where each visitor's token goes
        try:
            response = view(*args, **kwargs)
        finally:
            g.pop("csrf_token", None)
        if (
            isinstance(response, Response)
            and response.status_code == 200
            and not response.is_streamed
        ):
            body = response.get_data(as_text=True)
            headers = tuple(
                (name, value)
                for name, value in response.headers.items()
                if name.lower() not in ("content-length", "set-cookie")
            )
            page = Page(response.status_code, headers, body, len(body.encode()))
            cache.put(key, page)
            return _serve(page)
        if isinstance(response, Response) and not response.is_streamed:
            body = response.get_data(as_text=True)
            if CSRF_MARKER in body:
                response.set_data(body.replace(CSRF_MARKER, generate_csrf()))
        return response

    return cached
