from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.extensions import db
from portal.petitions.models import Petition, Status
from portal.petitions.services import in_current_ward


def home_summary() -> dict:
    counts = dict(
        db.session.execute(
            in_current_ward(select(Petition.status, func.count())).group_by(Petition.status)
        ).all()
    )
    recent = db.session.scalars(
        in_current_ward(select(Petition))
        .where(Petition.status != Status.MERGED)
        .order_by(Petition.created_at.desc(), Petition.id.desc())
        .limit(6)
    ).all()
    total = sum(counts.values())
    resolved = counts.get(Status.RESOLVED, 0) + counts.get(Status.CLOSED, 0)
    open_count = sum(n for s, n in counts.items() if Status(s).is_open)
    return {"total": total, "resolved": resolved, "open_count": open_count, "recent": recent}


def not_found_message(code: str) -> str:
    return _(
        "Không tìm thấy kiến nghị có mã “%(code)s”. Mã có dạng KN-2026-00042; hãy kiểm tra "
        "lại tin nhắn hoặc giấy biên nhận.",
        code=code.strip()[:40],
    )
