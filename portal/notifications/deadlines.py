"""Deadline alerts: ``flask portal deadlines``, run once a day by cron.

One ward's: the deployment's (``PORTAL_WARD_CODE``), whose staff the messages go to and
whose portal their links lead to. For every open petition of it whose
:func:`~portal.petitions.services.due_state` is

- ``due_soon``: the lead unit's active staff get a "sắp đến hạn" message;
- ``overdue``: the lead unit's active staff get a "quá hạn" message, and the petition goes
  into today's escalation to every active ward staff and MTTQ account.

Notice items whose date has passed (:attr:`NoticeItem.is_overdue`) go into the escalation
too. Each petition (or item) is told about once per state and due date: a
:class:`DeadlineAlert` row records it, so running the command twice queues nothing new and
a changed expected date alerts again. The escalation is one message per recipient listing
everything that became overdue in this run, at most one per recipient and day. Opt-outs
("staff-deadlines", "staff-escalation") and each account's language are respected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal.accounts.models import Role, User
from portal.extensions import db
from portal.meetings.models import ConclusionNotice, ItemStatus, NoticeItem
from portal.notifications import services
from portal.notifications.models import DeadlineAlert, NotificationKind
from portal.petitions.models import Petition
from portal.petitions.services import (
    due_soon_clause,
    due_state,
    in_current_ward,
    overdue_clause,
)
from portal.timeutil import local_today
from portal.units.services import of_this_ward

K = NotificationKind
DUE_SOON = "due_soon"
OVERDUE = "overdue"
ESCALATION_ROLES = (Role.WARD_STAFF, Role.MTTQ)


@dataclass
class DeadlineRun:
    due_soon: list[Petition] = field(default_factory=list)  # newly due soon
    overdue: list[Petition] = field(default_factory=list)  # newly overdue
    items: list[NoticeItem] = field(default_factory=list)  # notice items newly overdue
    unit_messages: int = 0
    escalation_messages: int = 0

    @property
    def summary(self) -> str:
        return (
            f"Hạn xử lý: {len(self.due_soon)} kiến nghị sắp đến hạn, {len(self.overdue)} "
            f"kiến nghị và {len(self.items)} mục thông báo mới quá hạn; đã xếp hàng "
            f"{self.unit_messages} thư cho đơn vị, {self.escalation_messages} thư báo cáo "
            "cho phường và Mặt trận."
        )


def _first_time(target: str, state: str, due_on: date) -> bool:
    """Record the alert; ``False`` if this target, state and date were already told."""
    found = db.session.scalar(
        select(DeadlineAlert.id).where(
            DeadlineAlert.target == target,
            DeadlineAlert.state == state,
            DeadlineAlert.due_on == due_on,
        )
    )
    if found is not None:
        return False
    db.session.add(DeadlineAlert(target=target, state=state, due_on=due_on))
    return True


def _open_petitions_near_or_past() -> list[Petition]:
    return list(
        db.session.scalars(
            in_current_ward(select(Petition))
            .where(or_(overdue_clause(), due_soon_clause()))
            .options(selectinload(Petition.assignments))
            .order_by(Petition.id)
        )
    )


def _overdue_items() -> list[NoticeItem]:
    items = db.session.scalars(
        select(NoticeItem)
        .join(ConclusionNotice)
        .where(
            of_this_ward(ConclusionNotice.ward_id),
            NoticeItem.status.in_([ItemStatus.PENDING, ItemStatus.IN_PROGRESS]),
        )
        .order_by(NoticeItem.id)
    )
    return [item for item in items if item.is_overdue]


def _queue_unit_alert(petition: Petition, state: str, due_on: date) -> int:
    lead = petition.lead_assignment
    if lead is None:
        return 0  # nobody leads it yet: the escalation (when overdue) tells the ward
    kind = K.DUE_SOON if state == DUE_SOON else K.OVERDUE
    if state == DUE_SOON:
        subject = _l(
            "[%(code)s] Kiến nghị sắp đến hạn (%(date)s)",
            code=petition.code,
            date=due_on.strftime("%d/%m/%Y"),
        )
    else:
        subject = _l(
            "[%(code)s] Kiến nghị đã quá hạn (%(date)s)",
            code=petition.code,
            date=due_on.strftime("%d/%m/%Y"),
        )
    queued = 0
    for user in services.staff_of_unit(lead.unit_id, petition.ward_id):
        recipient = services.recipient_hash(user.email)
        key = f"{kind.value}:{petition.code}:{due_on.isoformat()}:{recipient}"
        if services.already_queued(key) or services.opted_out(user.email, services.STAFF_DEADLINES):
            continue
        services.queue(
            recipient=user.email,
            kind=kind,
            dedup_key=key,
            subject=subject,
            context={
                "petition": petition,
                "user": user,
                "unit": lead.unit,
                "state": state,
                "due_on": due_on,
                "staff_url": services.external_url("staff.petition_page", code=petition.code),
            },
            locale=user.locale,
            topic=services.STAFF_DEADLINES,
            petition=petition,
            template="deadline",
        )
        queued += 1
    return queued


def _petition_row(petition: Petition, due_on: date) -> dict:
    lead = petition.lead_assignment
    return {
        "code": petition.code,
        "title": petition.title,
        "status": petition.status,
        "due_on": due_on,
        "unit": lead.unit.name if lead is not None else None,
        "url": services.external_url("staff.petition_page", code=petition.code),
    }


def _item_row(item: NoticeItem) -> dict:
    text = " ".join(item.text.split())
    return {
        "ref": " ".join(filter(None, [item.notice.number, item.ref])),
        "text": text if len(text) <= 160 else text[:157] + "…",
        "due_on": item.due_on,
        "units": ", ".join(unit.name for unit in item.lead_units),
        "url": services.external_url("meetings.item_page", item_id=item.id),
    }


def _queue_escalation(run: DeadlineRun, due_dates: dict[int, date], today: date) -> int:
    if not run.overdue and not run.items:
        return 0
    petitions = [_petition_row(p, due_dates[p.id]) for p in run.overdue]
    items = [_item_row(item) for item in run.items]
    queued = 0
    users: list[User] = services.staff_with_roles(*ESCALATION_ROLES)
    for user in users:
        key = f"{K.ESCALATION.value}:{user.id}:{today.isoformat()}"
        if services.already_queued(key) or services.opted_out(
            user.email, services.STAFF_ESCALATION
        ):
            continue
        services.queue(
            recipient=user.email,
            kind=K.ESCALATION,
            dedup_key=key,
            subject=_l(
                "Quá hạn ngày %(date)s: %(petitions)d kiến nghị, %(items)d mục thông báo kết luận",
                date=today.strftime("%d/%m/%Y"),
                petitions=len(petitions),
                items=len(items),
            ),
            context={
                "user": user,
                "today": today,
                "petitions": petitions,
                "items": items,
                "overdue_url": services.external_url("staff.inbox", overdue="y"),
            },
            locale=user.locale,
            topic=services.STAFF_ESCALATION,
            template="escalation",
        )
        queued += 1
    return queued


def queue_deadline_alerts() -> DeadlineRun:
    """Queue today's deadline alerts. Flushes; the caller commits."""
    today = local_today()
    run = DeadlineRun()
    due_dates: dict[int, date] = {}
    with db.session.no_autoflush:
        for petition in _open_petitions_near_or_past():
            state = due_state(petition)
            due_on = petition.next_due_on
            if state not in (DUE_SOON, OVERDUE) or due_on is None:
                continue
            if not _first_time(f"petition:{petition.id}", state, due_on):
                continue
            due_dates[petition.id] = due_on
            (run.due_soon if state == DUE_SOON else run.overdue).append(petition)
            run.unit_messages += _queue_unit_alert(petition, state, due_on)
        for item in _overdue_items():
            if _first_time(f"item:{item.id}", OVERDUE, item.due_on):
                run.items.append(item)
        run.escalation_messages = _queue_escalation(run, due_dates, today)
    db.session.flush()
    return run
