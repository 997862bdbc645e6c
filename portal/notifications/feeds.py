"""Atom feeds (RFC 4287): a petition's public timeline, and what happens in an area.

Feeds show what the public pages show and less: never the petitioner's name, contact or
the text they added (it may hold personal details), never internal notes or the names
of staff.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from urllib.parse import urlsplit

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from portal.extensions import db
from portal.notifications.services import base_url, external_url
from portal.notifications.wording import event_lines, event_title, petitioner_wrote
from portal.petitions.models import EventKind, Petition, PetitionEvent
from portal.timeutil import utcnow
from portal.units.models import Area

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
AREA_FEED_SIZE = 50

ET.register_namespace("", ATOM)


def rfc3339(moment: datetime) -> str:
    """Stored times are naive UTC."""
    return moment.replace(microsecond=0).isoformat() + "Z"


def tag_uri(year: int, *parts: str) -> str:
    host = urlsplit(base_url()).hostname or "localhost"
    return f"tag:{host},{year}:" + "/".join(parts)


def event_id(petition: Petition, event: PetitionEvent) -> str:
    """The same id for an event in every feed it appears in."""
    return tag_uri(petition.created_at.year, "kien-nghi", petition.code, "su-kien", str(event.id))


def _text(parent: ET.Element, tag: str, value: str, **attributes) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    element.text = value
    return element


def _link(parent: ET.Element, href: str, rel: str, mime: str | None = None) -> None:
    attributes = {"href": href, "rel": rel}
    if mime:
        attributes["type"] = mime
    ET.SubElement(parent, f"{{{ATOM}}}link", attributes)


def _feed(
    *, feed_id: str, title: str, subtitle: str, updated: datetime, self_url: str, page_url: str
) -> ET.Element:
    from portal.units.services import current_ward

    feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: str(get_locale() or "vi")})
    _text(feed, "id", feed_id)
    _text(feed, "title", title)
    _text(feed, "subtitle", subtitle)
    _text(feed, "updated", rfc3339(updated))
    _link(feed, self_url, "self", "application/atom+xml")
    _link(feed, page_url, "alternate", "text/html")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ward = current_ward()
    _text(author, "name", ward.name if ward else _("Cổng kiến nghị"))
    return feed


def _entry(
    feed: ET.Element, *, entry_id: str, title: str, moment: datetime, url: str, content: str
) -> None:
    entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
    _text(entry, "id", entry_id)
    _text(entry, "title", title)
    _text(entry, "updated", rfc3339(moment))
    _text(entry, "published", rfc3339(moment))
    _link(entry, url, "alternate", "text/html")
    _text(entry, "content", content, type="text")


def _serialise(feed: ET.Element) -> bytes:
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def petition_feed(petition: Petition) -> bytes:
    events = petition.public_events
    year = petition.created_at.year
    page_url = external_url("petitions.public_page", code=petition.code)
    feed = _feed(
        feed_id=tag_uri(year, "kien-nghi", petition.code),
        title=f"{petition.code}: {petition.title}",
        subtitle=_("Quá trình xử lý") + f" · {petition.status.label}",
        updated=max((e.created_at for e in events), default=petition.created_at),
        self_url=external_url("notifications.petition_feed", code=petition.code),
        page_url=page_url,
    )
    for event in reversed(events):
        _entry(
            feed,
            entry_id=event_id(petition, event),
            title=event_title(event),
            moment=event.created_at,
            url=page_url,
            content="\n".join(event_lines(event)) or event_title(event),
        )
    return _serialise(feed)


def area_events(area: Area, limit: int = AREA_FEED_SIZE) -> list[PetitionEvent]:
    """New petitions and status changes in the area, newest first."""
    query = (
        select(PetitionEvent)
        .join(Petition, Petition.id == PetitionEvent.petition_id)
        .where(
            Petition.area_id == area.id,
            or_(
                PetitionEvent.kind == EventKind.FILED,
                and_(
                    PetitionEvent.from_status.is_not(None),
                    PetitionEvent.from_status != PetitionEvent.to_status,
                ),
            ),
        )
        .order_by(PetitionEvent.created_at.desc(), PetitionEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def area_feed(area: Area) -> bytes:
    events = area_events(area)
    year = area.ward.created_at.year if area.ward is not None else utcnow().year
    feed = _feed(
        feed_id=tag_uri(year, "to-dan-pho", str(area.id)),
        title=area.name,
        subtitle=_("Kiến nghị mới và thay đổi trạng thái tại %(area)s", area=area.name),
        updated=events[0].created_at if events else utcnow(),
        self_url=external_url("notifications.area_feed", area_id=area.id),
        page_url=external_url("petitions.public_list", area=area.id),
    )
    for event in events:
        petition = event.petition
        filed = event.kind == EventKind.FILED
        what = _("Tiếp nhận kiến nghị") if filed else event.to_status.label
        text = [f"{petition.code}: {petition.title}", what]
        if event.public_note and not petitioner_wrote(event):
            text.append(event.public_note)
        _entry(
            feed,
            entry_id=event_id(petition, event),
            title=f"{petition.code}: {petition.title} · {what}",
            moment=event.created_at,
            url=external_url("petitions.public_page", code=petition.code),
            content="\n".join(text),
        )
    return _serialise(feed)
