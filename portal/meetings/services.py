"""Meetings, notice import and item follow-up: the rules, called by views and the CLI.

Services flush and never commit. A notice is imported in two steps: the parser proposes
a :class:`Draft` (plain data that travels in the review form, nothing in the database),
and :func:`save_notice` writes it once staff confirm.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.meetings.models import (
    ConclusionNotice,
    ItemStatus,
    Meeting,
    MeetingKind,
    NoticeItem,
    NoticeItemEvent,
    NoticeItemUnit,
)
from portal.petitions import services as petitions
from portal.petitions.models import (
    AssignmentRole,
    Category,
    Channel,
    Competence,
    Petition,
    Theme,
)
from portal.text import fold, normalize
from portal.timeutil import utcnow
from portal.units.models import Area, Unit, UnitLevel, Ward
from portal.units.services import active_units, current_ward, of_this_ward


class MeetingError(petitions.PetitionError):
    """A rule was broken; ``message`` is for the user, ``field`` names the input."""


# --- meetings ---------------------------------------------------------------------------


@dataclass
class MeetingData:
    kind: MeetingKind
    title: str
    held_on: date
    place: str | None = None
    chair: str | None = None
    participants: str | None = None
    minutes: str | None = None


def save_meeting(ward: Ward, actor: User, data: MeetingData, meeting: Meeting | None = None):
    if not normalize(data.title):
        raise MeetingError(_l("Hãy nhập tên hội nghị."), field="title")
    if meeting is None:
        meeting = Meeting(ward=ward, created_by_id=actor.id)
        db.session.add(meeting)
    for name, value in asdict(data).items():
        setattr(meeting, name, normalize(value) if isinstance(value, str) else value)
    meeting.minutes = (data.minutes or "").strip() or None
    meeting.participants = (data.participants or "").strip() or None
    db.session.flush()
    return meeting


def meetings(ward: Ward | None) -> list[Meeting]:
    if ward is None:
        return []
    return list(
        db.session.scalars(
            select(Meeting).where(Meeting.ward_id == ward.id).order_by(Meeting.held_on.desc())
        )
    )


@dataclass
class RaisedRow:
    """One petition raised at a meeting, as entered on the bulk screen."""

    text: str
    raised_by: str | None = None
    title: str | None = None
    category: Category | None = None
    area: Area | None = None


class RowErrors(MeetingError):
    def __init__(self, errors: dict[int, list[str]]):
        super().__init__(_l("Có dòng chưa hợp lệ; chưa dòng nào được lưu."))
        self.errors = errors


def _title_from(text: str) -> str:
    first = normalize(text).split(". ")[0]
    return first if len(first) <= 120 else first[:117].rsplit(" ", 1)[0] + "…"


def file_raised_at_meeting(meeting: Meeting, actor: User, rows: list[RaisedRow]):
    """File every row as a petition of the meeting, or none of them."""
    errors: dict[int, list[str]] = {}
    rows = [r for r in rows if normalize(r.text) or normalize(r.raised_by) or r.title]
    if not rows:
        raise MeetingError(_l("Hãy nhập ít nhất một kiến nghị."), field="rows")
    for index, row in enumerate(rows):
        problems = []
        if len(normalize(row.text)) < 10:
            problems.append(str(_l("Nội dung cần ít nhất 10 ký tự.")))
        if row.category is None:
            problems.append(str(_l("Hãy chọn lĩnh vực.")))
        if row.area is None and not normalize(row.raised_by):
            problems.append(str(_l("Hãy ghi tổ dân phố hoặc tổ chức đã nêu kiến nghị.")))
        if problems:
            errors[index] = problems
    if errors:
        raise RowErrors(errors)
    created = []
    for row in rows:
        petition = petitions.file_petition(
            meeting.ward,
            petitions.Filing(
                category=row.category,
                title=normalize(row.title) or _title_from(row.text),
                description=row.text.strip(),
                area=row.area,
                channel=Channel.MEETING,
            ),
            actor=actor,
        )
        petition.meeting_id = meeting.id
        petition.raised_by = normalize(row.raised_by) or (row.area.name if row.area else None)
        created.append(petition)
    db.session.flush()
    return created


# --- units named in notices -------------------------------------------------------------


def _units_here():
    """Units of this ward and those of no ward (higher levels, companies), inactive too:
    a notice never names, nor gets, another ward's "Công an Phường"."""
    return db.session.scalars(select(Unit).where(of_this_ward(Unit.ward_id, legacy=True)))


def match_unit(name: str | None, units: list[Unit] | None = None) -> Unit | None:
    """The unit whose name, abbreviation or alias is ``name``, ignoring accents and case."""
    key = fold(name)
    if not key:
        return None
    for unit in units if units is not None else _units_here():
        names = [unit.name, unit.abbreviation, *(unit.aliases or [])]
        if key in {fold(n) for n in names if n}:
            return unit
    return None


# --- import: draft, review, save --------------------------------------------------------


@dataclass
class DraftUnit:
    name: str
    role: str = "lead"
    text: str = ""
    # An existing unit's id, "new" to create one named ``name``, or "" to drop it.
    choice: str = ""


@dataclass
class DraftItem:
    ref: str
    text: str
    units: list[DraftUnit] = field(default_factory=list)
    persons: list[str] = field(default_factory=list)
    deadlines: list[dict] = field(default_factory=list)
    recurrences: list[dict] = field(default_factory=list)


@dataclass
class Draft:
    number: str | None
    issued_on: str | None
    issuer: str | None
    title: str
    meeting_date: str | None
    items: list[DraftItem]
    full_text: str = ""
    source_filename: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Draft:
        items = [
            DraftItem(
                ref=str(i.get("ref", "")),
                text=str(i.get("text", "")),
                units=[DraftUnit(**u) for u in i.get("units", [])],
                persons=list(i.get("persons", [])),
                deadlines=list(i.get("deadlines", [])),
                recurrences=list(i.get("recurrences", [])),
            )
            for i in data.get("items", [])
        ]
        fields = {k: data.get(k) for k in ("number", "issued_on", "issuer", "meeting_date")}
        return cls(
            title=str(data.get("title") or ""),
            items=items,
            full_text=str(data.get("full_text") or ""),
            source_filename=data.get("source_filename"),
            **fields,
        )


def _draft_units(found: list[dict], units: list[Unit]) -> list[DraftUnit]:
    result = []
    for entry in found:
        unit = match_unit(entry.get("name"), units) or match_unit(entry.get("text"), units)
        result.append(
            DraftUnit(
                name=entry.get("name") or entry.get("text") or "",
                role=entry.get("role", "lead"),
                text=entry.get("text", ""),
                choice=str(unit.id) if unit else "",
            )
        )
    return result


def draft_from_text(text: str, source_filename: str | None = None) -> Draft:
    from portal.meetings import parser

    return draft_from_parsed(parser.parse(text).to_json(), text, source_filename)


def draft_from_parsed(parsed: dict, text: str, source_filename: str | None = None) -> Draft:
    """A draft from the parser's JSON, with each named unit matched to a known one."""
    units = active_units()
    items = [
        DraftItem(
            ref=item["ref"],
            text=item["text"],
            units=_draft_units(item["units"], units),
            persons=item["persons"],
            deadlines=item["deadlines"],
            recurrences=item["recurrences"],
        )
        for item in parsed["items"]
    ]
    if not items:
        raise MeetingError(
            _l("Không tìm thấy mục nào trong văn bản. Hãy kiểm tra lại nội dung thông báo."),
            field="text",
        )
    return Draft(
        number=parsed["number"],
        issued_on=parsed["issued_on"],
        issuer=parsed["issuer"],
        title=parsed["title"],
        meeting_date=parsed["meeting_date"],
        items=items,
        full_text=text,
        source_filename=source_filename,
    )


def reanalyse(item: DraftItem) -> DraftItem:
    """After staff edit, split or merge an item, read its units, persons and dates again."""
    from portal.meetings import parser

    found = parser.analyse_item(item.text)
    units = active_units()
    chosen = {fold(u.name): u.choice for u in item.units}
    fresh = _draft_units(found["units"], units)
    for unit in fresh:
        unit.choice = chosen.get(fold(unit.name), unit.choice)
    return DraftItem(
        ref=item.ref,
        text=item.text,
        units=fresh,
        persons=found["persons"],
        deadlines=found["deadlines"],
        recurrences=found["recurrences"],
    )


SPLIT_MARK = "---"


def split_item(draft: Draft, index: int) -> None:
    """Split an item where staff put a line ``---`` (or, failing that, at its last paragraph)."""
    item = draft.items[index]
    lines = item.text.split("\n")
    if SPLIT_MARK in (line.strip() for line in lines):
        at = [line.strip() for line in lines].index(SPLIT_MARK)
        first, second = "\n".join(lines[:at]), "\n".join(lines[at + 1 :])
    else:
        paragraphs = [p for p in item.text.split("\n") if p.strip()]
        if len(paragraphs) < 2:
            raise MeetingError(
                _l(
                    "Hãy đặt một dòng “---” vào chỗ cần tách trong nội dung mục %(ref)s.",
                    ref=item.ref,
                ),
                field="items",
            )
        first, second = "\n".join(paragraphs[:-1]), paragraphs[-1]
    head = reanalyse(DraftItem(ref=item.ref, text=first.strip(), units=item.units))
    tail = reanalyse(DraftItem(ref=f"{item.ref}.b", text=second.strip(), units=item.units))
    draft.items[index : index + 1] = [head, tail]


def merge_with_previous(draft: Draft, index: int) -> None:
    if index <= 0:
        raise MeetingError(_l("Mục đầu tiên không có mục nào phía trên để gộp."), field="items")
    above, item = draft.items[index - 1], draft.items[index]
    merged = DraftItem(
        ref=above.ref, text=f"{above.text}\n{item.text}", units=above.units + item.units
    )
    draft.items[index - 1 : index + 1] = [reanalyse(merged)]


def _parse_iso(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def save_notice(
    draft: Draft, actor: User | None, meeting: Meeting | None = None, *, ward: Ward | None = None
) -> ConclusionNotice:
    """Write a reviewed draft: the notice, its items, their units (creating new ones).

    The notice is ``ward``'s (by default the deployment's), and so is its meeting.
    """
    ward = ward or (meeting.ward if meeting is not None else None) or current_ward()
    if ward is None or (meeting is not None and meeting.ward_id != ward.id):
        raise MeetingError(_l("Không tìm thấy hội nghị này."), field="meeting_id")
    if not draft.items:
        raise MeetingError(_l("Thông báo phải có ít nhất một mục."), field="items")
    refs = [normalize(i.ref) for i in draft.items]
    if any(not r for r in refs):
        raise MeetingError(_l("Mỗi mục cần có số thứ tự."), field="items")
    if len(set(refs)) != len(refs):
        duplicated = sorted({r for r in refs if refs.count(r) > 1})
        raise MeetingError(
            _l("Số thứ tự mục bị trùng: %(refs)s.", refs=", ".join(duplicated)), field="items"
        )
    if not normalize(draft.title):
        raise MeetingError(_l("Hãy nhập trích yếu của thông báo."), field="title")
    # What the columns hold; said here rather than lost in a database error.
    too_long = [
        (_l("Số, ký hiệu"), normalize(draft.number), 60),
        (_l("Cơ quan ban hành"), normalize(draft.issuer), 300),
        *((_l("Số thứ tự mục"), ref, 40) for ref in refs),
    ]
    for label, value, limit in too_long:
        if value and len(value) > limit:
            raise MeetingError(
                _l("%(label)s tối đa %(n)d ký tự.", label=label, n=limit), field="items"
            )
    notice = ConclusionNotice(
        ward_id=ward.id,
        meeting=meeting,
        number=normalize(draft.number) or None,
        issued_on=_parse_iso(draft.issued_on),
        issuer=normalize(draft.issuer) or None,
        title=normalize(draft.title),
        meeting_date=_parse_iso(draft.meeting_date),
        full_text=draft.full_text,
        # Informative only: the end of a very long name, where its extension is.
        source_filename=(draft.source_filename or "")[-255:] or None,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(notice)
    created_units: dict[str, Unit] = {}
    for position, entry in enumerate(draft.items):
        item = NoticeItem(
            notice=notice,
            ref=normalize(entry.ref),
            position=position,
            text=entry.text.strip(),
            persons=entry.persons,
            deadlines=entry.deadlines,
            recurrences=entry.recurrences,
            responsible_person=entry.persons[0][:200] if entry.persons else None,
        )
        db.session.add(item)
        seen: set[int] = set()
        for named in entry.units:
            unit = _chosen_unit(named, created_units, ward)
            if unit is None or unit.id in seen:
                continue
            seen.add(unit.id)
            role = AssignmentRole.LEAD if named.role == "lead" else AssignmentRole.SUPPORT
            as_written = (named.text or "")[:300] or None
            item.units.append(NoticeItemUnit(unit=unit, role=role, as_written=as_written))
        db.session.add(
            NoticeItemEvent(
                item=item,
                created_at=utcnow(),
                actor=actor,
                to_status=ItemStatus.PENDING,
                note=None,
                data={"imported": notice.number or notice.title},
            )
        )
    db.session.flush()
    return notice


def _chosen_unit(named: DraftUnit, created: dict[str, Unit], ward: Ward) -> Unit | None:
    if named.choice == "new":
        key = fold(named.name)
        if key not in created:
            existing = match_unit(named.name)
            if existing is None:
                # Named in this ward's notice: a unit of this ward.
                existing = Unit(
                    ward_id=ward.id,
                    name=normalize(named.name)[:300],
                    level=UnitLevel.ENTERPRISE
                    if fold(named.name).startswith("cong ty")
                    else UnitLevel.WARD,
                    aliases=[named.text] if named.text and named.text != named.name else [],
                )
                db.session.add(existing)
                db.session.flush()
            created[key] = existing
        return created[key]
    if named.choice and named.choice.isdecimal():  # isdigit() takes "²", which int() refuses
        unit = db.session.get(Unit, int(named.choice))
        # Another ward's unit is never given a task of this ward's notice.
        return unit if unit is not None and unit.ward_id in (None, ward.id) else None
    return None


# --- item follow-up ---------------------------------------------------------------------


@dataclass
class ItemUpdate:
    status: ItemStatus
    progress: int | None = None
    note: str | None = None
    roadmap: str | None = None
    expected_on: date | None = None
    responsible_person: str | None = None
    competence: Competence | None = None
    forwarded_to: str | None = None
    higher_reply: str | None = None
    outcome_note: str | None = None
    recommendation: str | None = None


def update_item(item: NoticeItem, actor: User, update: ItemUpdate) -> NoticeItemEvent:
    """Record progress on an item; every change is one event on its timeline."""
    if update.status == ItemStatus.CANNOT:
        if not normalize(update.outcome_note):
            raise MeetingError(_l("Hãy nêu rõ lý do không thực hiện được."), field="outcome_note")
        if not normalize(update.recommendation):
            raise MeetingError(_l("Hãy nêu kiến nghị, đề xuất."), field="recommendation")
    if update.status == ItemStatus.DONE and not normalize(update.outcome_note or update.note):
        raise MeetingError(_l("Hãy mô tả kết quả thực hiện."), field="outcome_note")
    if update.competence == Competence.HIGHER and not normalize(
        update.forwarded_to or item.forwarded_to
    ):
        raise MeetingError(
            _l("Hãy ghi rõ cơ quan cấp trên đã nhận nội dung này."), field="forwarded_to"
        )
    progress = 100 if update.status == ItemStatus.DONE else update.progress
    if progress is not None and not 0 <= progress <= 100:
        raise MeetingError(_l("Tiến độ phải từ 0 đến 100%."), field="progress")
    from_status = item.status
    changes = {}
    for name in (
        "roadmap",
        "expected_on",
        "responsible_person",
        "competence",
        "forwarded_to",
        "higher_reply",
        "outcome_note",
        "recommendation",
    ):
        value = getattr(update, name)
        if isinstance(value, str):
            value = value.strip() or None
        if value is not None and value != getattr(item, name):
            changes[name] = value.isoformat() if isinstance(value, date) else str(value)
            setattr(item, name, value)
    item.status = update.status
    if progress is not None:
        item.progress = progress
    event = NoticeItemEvent(
        item=item,
        created_at=utcnow(),
        actor=actor,
        from_status=from_status,
        to_status=update.status,
        progress=item.progress,
        note=(update.note or "").strip() or None,
        data=changes,
    )
    db.session.add(event)
    db.session.flush()
    return event


# --- linking petitions and items --------------------------------------------------------


def link(petition: Petition, item: NoticeItem, actor: User) -> bool:
    """Link a petition to a notice item; False when they were linked already."""
    if item in petition.notice_items:
        return False
    petition.notice_items.append(item)
    petitions.append_note(
        petition,
        actor,
        data={"linked_item": f"{item.notice.number or ''} {item.ref}".strip()},
    )
    return True


def unlink(petition: Petition, item: NoticeItem, actor: User) -> None:
    if item in petition.notice_items:
        petition.notice_items.remove(item)
        petitions.append_note(
            petition,
            actor,
            data={"unlinked_item": f"{item.notice.number or ''} {item.ref}".strip()},
        )


def carry_units(item: NoticeItem, petition: Petition, actor: User) -> bool:
    """Give the petition the item's units (lead and support) and responsible person."""
    leads = [u.unit for u in item.units if u.role == AssignmentRole.LEAD]
    if not leads or petition.status not in petitions.ACTION_STATUSES["assign"]:
        return False
    due = item.expected_on or item.due_on
    plan = petitions.AssignmentPlan(
        lead_unit=leads[0],
        support_units=[u.unit for u in item.units if u.unit is not leads[0]],
        responsible_person=item.responsible_person,
        roadmap=item.roadmap,
        # An item's time limit that passed before the petition came is no promise to it.
        expected_on=due if due and due >= petition.created_at.date() else None,
    )
    petitions.assign(petition, actor, plan)
    return True


def search_items(query: str | None, limit: int = 20) -> list[NoticeItem]:
    """Items whose notice number, ref or text holds every word, ignoring accents."""
    terms = fold(query).split()[:6]
    stmt = (
        select(NoticeItem)
        .join(ConclusionNotice)
        .where(of_this_ward(ConclusionNotice.ward_id))
        .order_by(ConclusionNotice.issued_on.desc(), NoticeItem.position)
        .limit(1000)
    )
    found = []
    for item in db.session.scalars(stmt):
        haystack = fold(f"{item.notice.number or ''} {item.ref} {item.notice.title} {item.text}")
        if all(term in haystack for term in terms):
            found.append(item)
            if len(found) >= limit:
                break
    return found


# --- themes and repeated petitions ------------------------------------------------------


def set_theme(petition: Petition, actor: User, name: str | None) -> Theme | None:
    name = normalize(name)
    theme = None
    if name:
        # Compared in Python: SQLite's lower() leaves Vietnamese letters alone.
        theme = next(
            (t for t in db.session.scalars(select(Theme)) if fold(t.name) == fold(name)), None
        )
        if theme is None:
            theme = Theme(name=name)
            db.session.add(theme)
    if theme is not petition.theme:
        petition.theme = theme
        petitions.append_note(petition, actor, data={"theme": theme.name if theme else None})
    db.session.flush()
    return theme


def mark_repeat(petition: Petition, actor: User, earlier: Petition | None) -> None:
    if earlier is not None:
        if earlier.id == petition.id:
            raise MeetingError(_l("Kiến nghị không thể lặp lại chính nó."), field="repeat_code")
        cursor = earlier
        while cursor is not None:
            if cursor.id == petition.id:
                raise MeetingError(
                    _l("Liên kết này tạo thành vòng lặp giữa các kiến nghị."), field="repeat_code"
                )
            cursor = cursor.repeat_of
    petition.repeat_of = earlier
    petitions.append_note(petition, actor, data={"repeat_of": earlier.code if earlier else None})
    db.session.flush()


def _family(petition: Petition) -> list[Petition]:
    """Every petition linked to this one by "repeats": its root and all that followed."""
    root, hops = petition, 0
    while root.repeat_of is not None and hops < 100:
        root, hops = root.repeat_of, hops + 1
    family = {root.id: root}
    frontier = [root.id]
    while frontier and len(family) < 1000:
        children = db.session.scalars(
            select(Petition).where(Petition.repeat_of_id.in_(frontier))
        ).all()
        frontier = [c.id for c in children if c.id not in family]
        family.update({c.id: c for c in children})
    return sorted(family.values(), key=lambda p: (p.created_at, p.id))


def raised_history(petition: Petition) -> tuple[int, int]:
    """(how many times this problem was raised, the year it was first raised)."""
    family = _family(petition)
    return len(family), family[0].created_at.year


def _families(members: list[Petition]) -> list[list[Petition]]:
    """:func:`_family` of many petitions at once, with a query per generation, not per
    petition: each family (root and all that followed) once, sorted like ``_family``."""
    known = {p.id: p for p in members}
    for _hop in range(100):  # up to the roots
        missing = {
            p.repeat_of_id for p in known.values() if p.repeat_of_id and p.repeat_of_id not in known
        }
        if not missing:
            break
        known.update(
            (p.id, p) for p in db.session.scalars(select(Petition).where(Petition.id.in_(missing)))
        )

    def root_of(petition: Petition) -> Petition:
        hops = 0
        while petition.repeat_of_id in known and hops < 100:
            petition, hops = known[petition.repeat_of_id], hops + 1
        return petition

    roots = list({root_of(p).id: root_of(p) for p in members}.values())
    family_of = {root.id: root.id for root in roots}
    frontier = list(family_of)
    for _generation in range(1000):  # down to everything that followed
        if not frontier:
            break
        children = db.session.scalars(
            select(Petition).where(Petition.repeat_of_id.in_(frontier))
        ).all()
        frontier = []
        for child in children:
            if child.id not in family_of:
                family_of[child.id] = family_of[child.repeat_of_id]
                known[child.id] = child
                frontier.append(child.id)
    families: dict[int, list[Petition]] = {root.id: [] for root in roots}
    for petition_id, root_id in family_of.items():
        families[root_id].append(known[petition_id])
    return [sorted(f, key=lambda p: (p.created_at, p.id)) for f in families.values()]


def repeatedly_raised(min_times: int = 2) -> list[tuple[Petition, int, int]]:
    """This ward's problems raised ``min_times`` times or more and still open:
    (latest, times, year), most raised first."""
    repeats = db.session.scalars(
        petitions.in_current_ward(select(Petition))
        .where(Petition.repeat_of_id.is_not(None))
        .order_by(Petition.id)
    ).all()
    result = []
    for family in _families(list(repeats)):
        latest = family[-1]
        if len(family) >= min_times and latest.status in petitions.OPEN_STATUSES:
            result.append((latest, len(family), family[0].created_at.year))
    return sorted(result, key=lambda row: -row[1])


def open_items_raised_again() -> list[NoticeItem]:
    """Items still open whose petitions were raised more than once."""
    items = db.session.scalars(
        select(NoticeItem)
        .join(ConclusionNotice)
        .where(
            of_this_ward(ConclusionNotice.ward_id),
            NoticeItem.status.in_([ItemStatus.PENDING, ItemStatus.IN_PROGRESS]),
        )
    ).all()
    return [i for i in items if any(p.repeat_of_id for p in i.petitions)]
