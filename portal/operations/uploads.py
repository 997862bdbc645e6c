"""The upload store against the database: files nothing refers to, rows whose file is gone.

Photos are written (and synced) before the rows that name them are committed, so a crash
or a failed request can leave a file no row refers to, never a row without its file.
Such orphans are harmless (nobody can reach them) and :func:`clean_orphans` removes
them once they are older than a grace period longer than any request, so a file being
written for a request still in progress is never taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.storage import get_storage
from portal.timeutil import utcnow


def referenced_names() -> set[str]:
    """Every stored name a database row refers to."""
    from portal.petitions.models import Photo

    names: set[str] = set()
    for stored_name, thumb_name in db.session.execute(select(Photo.stored_name, Photo.thumb_name)):
        names.update((stored_name, thumb_name))
    return names


@dataclass
class UploadCheck:
    removed: list[str] = field(default_factory=list)
    recent_orphans: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    kept: int = 0


def clean_orphans(grace: timedelta, *, dry_run: bool = False) -> UploadCheck:
    """Remove files older than ``grace`` that no row refers to; list rows without files."""
    storage = get_storage()
    # List the store first: a file whose row commits after this query is younger than
    # the grace period, so it is kept.
    stored = list(storage.list())
    referenced = referenced_names()
    limit = utcnow() - grace
    check = UploadCheck()
    for item in stored:
        if item.name in referenced:
            check.kept += 1
        elif item.modified <= limit:
            if not dry_run:
                storage.delete(item.name)
            check.removed.append(item.name)
        else:
            check.recent_orphans.append(item.name)
    present = {item.name for item in stored}
    # A file saved after the listing above is not missing: ask the store again.
    check.missing = sorted(n for n in referenced - present if not storage.exists(n))
    return check
