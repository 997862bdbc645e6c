"""Conclusion notices (thông báo kết luận) read into numbered items, without a database.

``parse(text)`` returns a :class:`ParsedNotice`; ``.to_json()`` gives the document
described in ``docs/notice-json.md`` (schema: ``portal/meetings/notice.schema.json``).
``analyse_item(text)`` reads one item's units, persons, deadlines and recurrences.

How a notice is cut up:

- **Paragraphs.** Every non-empty line is a paragraph (NFC, spaces collapsed, Markdown-like
  emphasis ``*…*`` left by converters removed). A paragraph that ends without terminal
  punctuation (``. ; : ! ? …``) and is followed by one that starts in lower case (or with
  a digit after a lower-case word) was broken in the middle of a sentence: the two are
  joined with a space.
- **Header.** Everything before the first numbered paragraph: the letterhead (issuer,
  ``Số …``, place and date), ``THÔNG BÁO``, the title and the opening paragraphs that
  describe the meeting (the meeting date is read from the first of them). The body ends
  at ``Nơi nhận`` or at the signature block (``T/M …``, ``K/T …``, ``BÍ THƯ`` …).
- **Numbering.** ``I.`` (roman), ``1.`` / ``1)`` (arabic), ``(1).`` / ``(1)`` (in
  parentheses), ``a)`` (letters), ``-`` ``+`` ``•`` (bullets). A marker of a kind already
  open continues that level when its number follows on (``2.`` after ``1.``); a number
  that starts again at 1 under a heading or a colon (``1.`` under section ``2.``) opens
  a deeper level; a new kind opens a deeper level. Paragraphs without a marker belong to
  the item above.
- **Items.** Every numbered paragraph is an item; a bullet is an item when it carries a
  task (a unit or task verb at its start, a person, a deadline or a recurrence) or when
  its parent is itself a task rather than a heading (a heading ends without terminal
  punctuation); other bullets are narrative and stay in their parent's text, marker
  included. A final unnumbered paragraph ending in ``./.`` that starts with the issuing
  body (``Ban …``, ``Đảng ủy …``, ``Thường trực …``) is the closing directive: item ``KL``.
- **Refs** join the path of numbers with dots: roman and arabic numbers as written
  (``II.1``), numbers in parentheses with them (``2.(3)``), letters bare (``1.a``),
  bullets ``-n`` counted among the parent's bullet items (``2.2.-1``). A repeated ref
  (numbering mistakes in the source) gets ``#2``, ``#3`` … appended.

Units, roles, persons, deadlines and recurrences: see :func:`analyse_item`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

from portal.meetings.unit_names import find_unit_mentions, fold_key, nfc
from portal.text import normalize

# --- results ----------------------------------------------------------------------------


@dataclass
class NamedUnit:
    name: str
    role: str  # "lead" | "support"
    text: str

    def to_json(self) -> dict:
        return {"name": self.name, "role": self.role, "text": self.text}


@dataclass
class Deadline:
    date: date
    kind: str  # by_date | in_month | expected | in_quarter | in_year
    text: str

    def to_json(self) -> dict:
        return {"date": self.date.isoformat(), "kind": self.kind, "text": self.text}


@dataclass
class Recurrence:
    freq: str  # weekly | monthly | quarterly
    weekday: int | None  # Monday = 0 … Sunday = 6
    part_of_day: str | None  # morning | afternoon | evening
    text: str

    def to_json(self) -> dict:
        return {
            "freq": self.freq,
            "weekday": self.weekday,
            "part_of_day": self.part_of_day,
            "text": self.text,
        }


@dataclass
class Analysis:
    units: list[NamedUnit] = field(default_factory=list)
    persons: list[str] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)
    recurrences: list[Recurrence] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "units": [u.to_json() for u in self.units],
            "persons": list(self.persons),
            "deadlines": [d.to_json() for d in self.deadlines],
            "recurrences": [r.to_json() for r in self.recurrences],
        }


@dataclass
class Item:
    ref: str
    text: str
    units: list[NamedUnit] = field(default_factory=list)
    persons: list[str] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)
    recurrences: list[Recurrence] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "ref": self.ref,
            "text": self.text,
            "units": [u.to_json() for u in self.units],
            "persons": list(self.persons),
            "deadlines": [d.to_json() for d in self.deadlines],
            "recurrences": [r.to_json() for r in self.recurrences],
        }


@dataclass
class ParsedNotice:
    number: str | None
    issued_on: date | None
    issuer: str | None
    title: str
    meeting_date: date | None
    items: list[Item]

    def to_json(self) -> dict:
        return {
            "number": self.number,
            "issued_on": self.issued_on.isoformat() if self.issued_on else None,
            "issuer": self.issuer,
            "title": self.title,
            "meeting_date": self.meeting_date.isoformat() if self.meeting_date else None,
            "items": [item.to_json() for item in self.items],
        }


# --- paragraphs -------------------------------------------------------------------------

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u3000]+")
_EMPHASIS = re.compile(r"(?<![\w*])\*{1,2}(?=[^\s*])(.+?)(?<=[^\s*])\*{1,2}(?![\w*])")
_TERMINAL = re.compile(r"[.;:!?…]$")
_SEPARATOR = re.compile(r"^[\W_]+$")


def _clean_line(line: str) -> str:
    line = _SPACES.sub(" ", nfc(line)).strip()
    return _EMPHASIS.sub(r"\1", line)


def _ends_sentence(line: str) -> bool:
    return bool(_TERMINAL.search(line.rstrip("*”’\"' ")))


def _continues(previous: str, line: str) -> bool:
    """``line`` is the rest of a sentence broken after ``previous``."""
    if _ends_sentence(previous) or _marker(line) or _SEPARATOR.match(line):
        return False
    first = line.lstrip('(“"')[:1]
    if first.islower():
        return True
    return first.isdigit() and previous[-1:].isalpha() and previous[-1:].islower()


def paragraphs(text: str) -> list[str]:
    """Clean, non-empty paragraphs of ``text`` with broken sentences joined again."""
    result: list[str] = []
    for raw in nfc(text).splitlines():
        line = _clean_line(raw)
        if not line:
            continue
        if result and _continues(result[-1], line):
            result[-1] = f"{result[-1]} {line}"
        else:
            result.append(line)
    return result


# --- numbering markers ------------------------------------------------------------------

_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10}
_MARKERS = (
    ("roman", re.compile(r"^(?P<n>[IVX]{1,5})\s*[.)\-–]\s*(?=\S)")),
    ("arabic", re.compile(r"^(?P<n>\d{1,2})\s*[.)](?!\d)\s*(?=\S)")),
    ("paren", re.compile(r"^\((?P<n>\d{1,2})\)\s*[.:]?\s*(?=\S)")),
    ("letter", re.compile(r"^(?P<n>[a-zđ])\s*[).]\s+(?=\S)")),
    ("bullet", re.compile(r"^(?:[-–—+•●▪◦*]\s+|[-–—•●▪◦](?=[^\W\d_]))")),
)


def _roman(numeral: str) -> int | None:
    total = 0
    for i, char in enumerate(numeral):
        value = _ROMAN_VALUES[char]
        following = _ROMAN_VALUES[numeral[i + 1]] if i + 1 < len(numeral) else 0
        total += -value if value < following else value
    return total if 0 < total <= 30 else None


@dataclass
class _Marker:
    kind: str
    value: int | None
    label: str
    rest: str


def _marker(line: str) -> _Marker | None:
    for kind, regex in _MARKERS:
        match = regex.match(line)
        if not match:
            continue
        rest = line[match.end() :].strip()
        if not rest:
            continue
        number = match.groupdict().get("n")
        if kind == "roman":
            value = _roman(number)
            if value is None:
                continue
            return _Marker(kind, value, number, rest)
        if kind in ("arabic", "paren"):
            label = number.lstrip("0") or "0"
            return _Marker(kind, int(number), label if kind == "arabic" else f"({label})", rest)
        if kind == "letter":
            return _Marker(kind, "abcdđefghijklmnopqrstuvwxyz".index(number) + 1, number, rest)
        return _Marker(kind, None, "-", rest)
    return None


# --- header -----------------------------------------------------------------------------

_DATE = (
    r"(?P<d>\d{1,2}) ?(?P<sep>[/.-]) ?(?P<m>\d{1,2}) ?(?P=sep) ?(?P<y>\d{4})"
    r"|(?P<d2>\d{1,2}) thang (?P<m2>\d{1,2}) nam (?P<y2>\d{4})"
)
_NUMBER = re.compile(r"(?<![^\W\d_])Số\s*:?\s*(\d{1,5}[a-z]?(?:\s*[-–/]\s*[^\W_]+)+)")
_ISSUED = re.compile(r"(?<![a-z])ngay\s+(?:" + _DATE.replace(" ", r"\s*") + ")")
_MEETING_INTRO = re.compile(
    r"^(?:vao\s+)?(?:hom\s+nay,?\s+)?(?:(?:sang|chieu|toi|trua)\s+)?ngay\s+(?:"
    + _DATE.replace(" ", r"\s*")
    + ")"
)
_TITLE_DATE = re.compile(r"ngay\s+(?:" + _DATE.replace(" ", r"\s*") + ")")
_NOT_ISSUER = ("cong hoa xa hoi chu nghia", "doc lap", "dang cong san viet nam", "so ")
_SIGNATURE = re.compile(r"^(?:T/M|TM\.?|K/T|KT\.?|TL\.?|TUQ\.?|Q\.)\s+\S")
_SIGNATURE_TITLES = {
    "bi thu", "pho bi thu", "chu tich", "pho chu tich", "truong ban", "pho truong ban",
    "truong ban chi dao", "pho truong ban chi dao", "giam doc", "chu nhiem",
}  # fmt: skip
_ORG_LINE = re.compile(
    r"^(?:dang uy|dang bo|ban |uy ban|ubnd|hoi dong|hdnd|chi bo|mat tran|thuong truc)"
)
_ORGAN_START = re.compile(
    r"^(?:ban (?:thuong vu|chap hanh|chi dao|thuong truc)|dang uy|thuong truc|chi bo"
    r"|uy ban|ubnd|hoi nghi|cap uy)(?![a-z])"
)


def _make_date(day: int, month: int, year: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _date_from(match: re.Match) -> date | None:
    groups = match.groupdict()
    if groups.get("d"):
        return _make_date(int(groups["d"]), int(groups["m"]), int(groups["y"]))
    if groups.get("d2"):
        return _make_date(int(groups["d2"]), int(groups["m2"]), int(groups["y2"]))
    return None


def _is_title_line(line: str) -> str | None:
    """The rest of the line when it is the ``THÔNG BÁO`` heading, else None."""
    if fold_key(line).strip(" :") == "thong bao":
        return ""  # a "Thông báo" line alone, whatever its case (Word's caps style)
    words = line.split(" ")
    if len(words) >= 2 and fold_key(" ".join(words[:2])) == "thong bao":
        head = " ".join(words[:2])
        if head.isupper():
            return " ".join(words[2:]).strip(" :-–")
    return None


_ORG_PROPER = {"đảng": "Đảng", "việt": "Việt", "nam": "Nam", "tổ": "Tổ", "mặt": "Mặt"}
_ORG_AFTER_BAN = {"chỉ", "thường", "chấp", "kiểm", "tổ", "tuyên", "dân"}
_ORG_ABBREVIATIONS = {
    "tt", "tx", "tp", "ubnd", "hdnd", "mttq", "ubkt", "bch", "btv", "bcd", "vpdu", "thcs",
    "thpt", "ub", "ubmttq", "lhpn", "tncs", "hcm", "ccb",
}  # fmt: skip
_ORG_LEVELS = {"phường", "xã", "quận", "huyện", "tỉnh", "tt", "tp", "tx", "trấn", "phố"}


def _org_case(line: str) -> str:
    """``BAN THƯỜNG VỤ ĐẢNG ỦY PHƯỜNG DƯƠNG NỘI`` → ``Ban Thường vụ Đảng ủy phường Dương Nội``."""
    line = normalize(line)
    if not line.isupper():
        return line
    words = line.lower().split(" ")
    out: list[str] = []
    place = False
    for i, word in enumerate(words):
        previous = words[i - 1] if i else ""
        if fold_key(word) in _ORG_ABBREVIATIONS:
            cased = word.upper()
        elif place or i == 0 or (previous in ("ban", "trận") and word in _ORG_AFTER_BAN):
            cased = word[:1].upper() + word[1:]
        else:
            cased = _ORG_PROPER.get(word, word)
        if word in _ORG_LEVELS:
            if i == len(words) - 1 and word in ("phường", "xã", "quận", "huyện", "tỉnh"):
                cased = word[:1].upper() + word[1:]
            place = True
        out.append(cased)
    return " ".join(out)


_NAME_INNER = {
    "vụ", "ủy", "uỷ", "đạo", "hành", "trực", "nhân", "dân", "kiểm", "tra", "trận", "quốc",
    "phòng", "bộ", "chỉ", "thường", "chấp", "mặt", "ban",
}  # fmt: skip


def _subject(paragraph: str) -> str | None:
    """The body that opens a sentence: ``Ban Thường vụ Đảng ủy Phường họp …`` → that body."""
    words = paragraph.split(" ")
    taken: list[str] = []
    for word in words:
        bare = word.rstrip(",;:.")
        if not bare or not (bare[0].isupper() or bare in _NAME_INNER):
            break
        taken.append(bare)
        if bare != word:
            break
    name = " ".join(taken)
    return name if len(taken) >= 2 and _ORGAN_START.match(fold_key(name)) else None


# --- items ------------------------------------------------------------------------------


@dataclass
class _Node:
    kind: str
    value: int | None
    label: str
    lines: list[str]
    raw: list[str]
    parent: _Node | None = None
    children: list[_Node] = field(default_factory=list)
    is_item: bool = True
    ref: str = ""

    @property
    def is_heading(self) -> bool:
        return bool(self.lines) and not _ends_sentence(self.lines[0])

    @property
    def opens_list(self) -> bool:
        """A heading, or a paragraph ending with a colon: numbering may start again below."""
        return self.is_heading or self.lines[0].rstrip("*”’\"' ").endswith(":")


def _place(stack: list[_Node], root: _Node, marker: _Marker) -> _Node:
    """Parent of a new marker's node; trims ``stack`` to that parent's depth."""
    same = [i for i, node in enumerate(stack) if node.kind == marker.kind]
    if same and marker.value is not None:
        for i in reversed(same):
            if stack[i].value is not None and marker.value == stack[i].value + 1:
                del stack[i:]
                return stack[-1] if stack else root
        if marker.value == 1 and stack[-1].opens_list:
            return stack[-1]
    if same:
        i = same[-1]
        del stack[i:]
        return stack[-1] if stack else root
    return stack[-1] if stack else root


_TASK_VERBS = re.compile(
    r"^(?:giao|chi dao|tiep tuc|to chuc|tang cuong|day manh|yeu cau|de nghi|ra soat"
    r"|hoan thanh|hoan thien|xay dung|tham muu|chu tri|phoi hop|trien khai|kiem tra"
    r"|don doc|nghien cuu|khan truong|chu dong|tap trung|quan triet|bao cao|tong hop"
    r"|duy tri|lap|ban hanh|bo tri|giai quyet|xu ly|cac dong chi|dong chi|phan cong"
    r"|thuc hien tot|thuc hien nghiem|thuc hien dung|ra quan|van dong|tuyen truyen)(?![a-z])"
)


def _has_task(text: str, reference: date | None) -> bool:
    key = fold_key(text)
    if _TASK_VERBS.match(key):
        return True
    mentions = find_unit_mentions(text)
    if mentions and mentions[0].start == 0:
        return True
    found = analyse(text, reference)
    return bool(found.persons or found.deadlines or found.recurrences)


def _closing(line: str) -> bool:
    return line.rstrip().endswith("/.") and bool(_ORGAN_START.match(fold_key(line)))


@dataclass
class _Layout:
    header: list[str]
    title: str
    preamble: list[str]
    body: list[str]


def _layout(lines: list[str]) -> _Layout:
    title_at = next((i for i, line in enumerate(lines) if _is_title_line(line) is not None), None)
    header: list[str] = []
    title_parts: list[str] = []
    start = 0
    if title_at is not None:
        header = lines[:title_at]
        rest = _is_title_line(lines[title_at])
        if rest:
            title_parts.append(rest)
        start = title_at + 1
        while start < len(lines):
            line = lines[start]
            if _SEPARATOR.match(line):
                start += 1
                continue
            if (
                len(title_parts) >= 3
                or _marker(line)
                or _MEETING_INTRO.match(fold_key(line))
                or _ends_sentence(line)
            ):
                break
            title_parts.append(line)
            start += 1
    else:
        while start < len(lines) and not (
            _marker(lines[start])
            or _MEETING_INTRO.match(fold_key(lines[start]))
            or _ends_sentence(lines[start])
        ):
            start += 1
        header = lines[:start]
    end = len(lines)
    for i in range(start, len(lines)):
        line = lines[i]
        key = fold_key(line)
        if (
            key.startswith("noi nhan")
            or _SIGNATURE.match(line)
            or (line.isupper() and key.strip(" :.") in _SIGNATURE_TITLES)
        ):
            end = i
            break
    body = lines[start:end]
    markers = [(i, _marker(line)) for i, line in enumerate(body)]
    numbered = [i for i, m in markers if m and m.kind != "bullet"]
    bullets = [i for i, m in markers if m and m.kind == "bullet"]
    first = numbered[0] if numbered else (bullets[0] if bullets else len(body))
    return _Layout(header, " ".join(title_parts), body[:first], body[first:])


def _outline(body: list[str], reference: date | None) -> list[_Node]:
    root = _Node("root", None, "", [], [])
    stack: list[_Node] = []
    order: list[_Node] = []
    closing = None
    if body and not _marker(body[-1]) and _closing(body[-1]) and len(body) > 1:
        closing, body = body[-1], body[:-1]
    for line in body:
        marker = _marker(line)
        if marker is None:
            target = stack[-1] if stack else root
            target.lines.append(line)
            target.raw.append(line)
            continue
        parent = _place(stack, root, marker)
        node = _Node(marker.kind, marker.value, marker.label, [marker.rest], [line], parent)
        parent.children.append(node)
        stack.append(node)
        order.append(node)
    for node in reversed(order):
        if node.kind != "bullet" or node.parent is root:
            continue
        parent = node.parent
        node.is_item = bool(
            any(child.is_item for child in node.children)
            or not parent.is_heading
            or _has_task(" ".join(node.lines), reference)
        )
    if closing:
        node = _Node("closing", None, "KL", [closing], [closing], root)
        root.children.append(node)
        order.append(node)
    return order


def _assign_refs(order: list[_Node]) -> None:
    bullet_counts: dict[int, int] = {}
    seen: dict[str, int] = {}
    for node in order:
        if not node.is_item:
            continue
        label = node.label
        if node.kind == "bullet":
            count = bullet_counts.get(id(node.parent), 0) + 1
            bullet_counts[id(node.parent)] = count
            label = f"-{count}"
        parent = node.parent
        prefix = parent.ref if parent is not None and parent.kind != "root" else ""
        ref = f"{prefix}.{label}" if prefix else label
        seen[ref] = seen.get(ref, 0) + 1
        node.ref = ref if seen[ref] == 1 else f"{ref}#{seen[ref]}"


def _item_texts(order: list[_Node]) -> list[tuple[str, str]]:
    texts: dict[int, list[str]] = {}
    items: list[_Node] = []
    for node in order:
        if node.is_item:
            texts[id(node)] = list(node.lines)
            items.append(node)
            continue
        owner = node.parent
        while owner is not None and not owner.is_item:
            owner = owner.parent
        if owner is not None and id(owner) in texts:
            texts[id(owner)].extend(node.raw)
    return [(node.ref, "\n".join(texts[id(node)])) for node in items]


def parse(text: str) -> ParsedNotice:
    """Read a conclusion notice (plain text, NFC or NFD) into its header and items."""
    lines = paragraphs(text or "")
    layout = _layout(lines)
    header_key = [fold_key(line) for line in layout.header]

    number = None
    for line in layout.header:
        match = _NUMBER.search(line)
        if match:
            number = re.sub(r"\s+", "", match.group(1)).replace("–", "-")
            break

    issued_on = None
    for key in header_key:
        match = _ISSUED.search(key)
        if match:
            issued_on = _date_from(match)
            if issued_on:
                break

    meeting_date = None
    if layout.preamble:
        match = _MEETING_INTRO.match(fold_key(layout.preamble[0]))
        if match:
            meeting_date = _date_from(match)
    if meeting_date is None and layout.title:
        match = _TITLE_DATE.search(fold_key(layout.title))
        if match:
            meeting_date = _date_from(match)

    issuer = None
    organs = [
        line
        for line, key in zip(layout.header, header_key, strict=True)
        if not _SEPARATOR.match(line)
        and not any(key.startswith(p) for p in _NOT_ISSUER)
        and not _ISSUED.search(key)
        and not _NUMBER.search(line)
        and (line.isupper() or _ORG_LINE.match(key))
        and len(line) <= 100
        and not _ends_sentence(line)
    ]
    if organs:
        issuer = _org_case(organs[-1])
    elif layout.preamble:
        opening = layout.preamble[0]
        match = _MEETING_INTRO.match(fold_key(opening))
        if match:
            opening = opening[match.end() :].lstrip(" ,")
        issuer = _subject(opening)

    reference = meeting_date or issued_on
    order = _outline(layout.body, reference)
    _assign_refs(order)
    items = []
    for ref, item_text in _item_texts(order):
        found = analyse(item_text, reference)
        items.append(
            Item(
                ref=ref,
                text=item_text,
                units=found.units,
                persons=found.persons,
                deadlines=found.deadlines,
                recurrences=found.recurrences,
            )
        )
    return ParsedNotice(
        number=number,
        issued_on=issued_on,
        issuer=issuer,
        title=layout.title,
        meeting_date=meeting_date,
        items=items,
    )


def missing_text(text: str, notice: ParsedNotice | None = None) -> list[str]:
    """Body paragraphs (after the opening, before ``Nơi nhận``) that no item's text holds.

    The round-trip property: for a real notice this is empty, i.e. nothing is lost
    between items; only the header, ``Nơi nhận`` and the signature are left out.
    """
    notice = notice or parse(text)
    joined = "\n".join(item.text for item in notice.items)
    missing = []
    for line in _layout(paragraphs(text or "")).body:
        marker = _marker(line)
        content = marker.rest if marker else line
        if content not in joined:
            missing.append(line)
    return missing


# --- units, persons, deadlines, recurrences ---------------------------------------------

_POSITION_BEFORE = re.compile(
    r"(?:chủ tịch|bí thư|trưởng|ủy viên|uỷ viên|thành viên|cán bộ|công chức|viên chức"
    r"|giám đốc|chánh văn phòng)\s*$"
)
_LIST_TOKEN = re.compile(r"[^\s,]+|,")
_NOT_ACTOR_BEFORE = re.compile(
    r"(?<![^\W\d_])(?:gửi|báo cáo|trình|tham mưu cho|xin ý kiến|của|với|trước|đối với|về)$"
)
_LEVEL_WORDS = {"phường", "xã", "thị", "trấn", "quận", "huyện", "tỉnh", "thành", "phố"}
# Words that end a list of names when walking back from a unit (even capitalised).
_LEAD_IN_WORDS = {
    "gửi", "báo", "cáo", "trình", "của", "với", "về", "trước", "cùng", "giao", "phối", "hợp",
    "hỗ", "trợ", "cho", "đối",
}  # fmt: skip
_SUPPORT_BEFORE = re.compile(r"(?:phối hợp|phối hợp với|cùng|cùng với|hỗ trợ)$")
_COOPERATE = re.compile(r"(?:phối hợp|cùng|hợp tác|kết hợp)(?:\s+\S+){0,2}\s*$")
_CLAUSE_BREAK = re.compile(r"[;:\n]|\.(?=\s)")
_CHAIR_AFTER = re.compile(r"^\s*(?:là đơn vị\s+)?(?:chủ trì|làm đầu mối)")


def _context(text: str, start: int) -> str:
    """What the list of names that ends at ``start`` follows: "not_actor", "support", ""."""
    clause_start = 0
    for match in _CLAUSE_BREAK.finditer(text, 0, start):
        clause_start = match.end()
    before = text[clause_start:start]
    tokens = list(_LIST_TOKEN.finditer(before))
    cut = len(before)
    for token in reversed(tokens):
        word = token.group(0)
        if word.lower() in _LEAD_IN_WORDS:
            break
        if (
            word in {",", "-", "–", "và", "các"}
            or word in _NAME_INNER
            or word in _LEVEL_WORDS
            or word[:1].isupper()
            or word.isupper()
        ):
            cut = token.start()
            continue
        break
    lead_in = before[:cut].rstrip().lower()
    lead_in = normalize(lead_in)
    if _SUPPORT_BEFORE.search(lead_in):
        return "support"
    match = _NOT_ACTOR_BEFORE.search(lead_in)
    if match:
        if match.group(0) == "với" and _COOPERATE.search(lead_in[: match.start()]):
            return "support"
        return "not_actor"
    return ""


def _units(text: str) -> list[NamedUnit]:
    candidates: list[tuple[str, str, str, bool]] = []  # canonical, written, context, chair
    for mention in find_unit_mentions(text):
        before = text[max(0, mention.start - 40) : mention.start].lower()
        if _POSITION_BEFORE.search(before):
            continue
        context = _context(text, mention.start)
        if context == "not_actor":
            continue
        after = text[mention.end : mention.end + 30].lower()
        chair = bool(_CHAIR_AFTER.match(after))
        candidates.append((mention.canonical, mention.text, context, chair))
    lead = next((c[0] for c in candidates if c[3]), None)
    if lead is None:
        lead = next((c[0] for c in candidates if c[2] != "support"), None)
    units: dict[str, NamedUnit] = {}
    for canonical, written, _, _ in candidates:
        if canonical not in units:
            role = "lead" if canonical == lead else "support"
            units[canonical] = NamedUnit(canonical, role, written)
    return sorted(units.values(), key=lambda u: u.role != "lead")


_PERSON_TRIGGER = re.compile(r"(?<![^\W\d_])(?:đồng chí|đ/c|ông|bà)\s+", re.IGNORECASE)
_NAME_WORD = re.compile(r"[^\W\d_]+")
_NOT_NAME_START = {
    "phó", "chủ", "bí", "trưởng", "ủy", "uỷ", "thành", "giám", "chánh", "tổ", "ban", "đảng",
    "cán", "công", "thư", "các", "đại", "bộ", "trung", "thiếu", "thượng", "chính", "kế",
    "văn", "phòng", "hội", "mặt", "tỉnh", "huyện", "quận", "phường", "xã", "thị", "giáo",
    "tiến", "thạc", "bác", "kỹ", "kiến", "luật", "chi", "tổng", "đội", "trạm", "hiệu",
    "kiểm", "nguyên", "thường", "trợ", "chuyên", "cục", "sở", "phụ", "lãnh",
}  # fmt: skip
_MAX_NAME_WORDS = 5
_TITLE_BIGRAMS = {
    ("chủ", "tịch"), ("bí", "thư"), ("phó", "chủ"), ("phó", "bí"), ("ủy", "viên"),
    ("uỷ", "viên"), ("thành", "viên"), ("trưởng", "ban"), ("trưởng", "phòng"),
    ("trưởng", "thôn"), ("giám", "đốc"), ("công", "chức"), ("cán", "bộ"), ("chánh", "văn"),
    ("thư", "ký"), ("phó", "trưởng"), ("tổ", "trưởng"), ("viên", "chức"),
}  # fmt: skip


def _persons(text: str) -> list[str]:
    persons: list[str] = []
    for trigger in _PERSON_TRIGGER.finditer(text):
        words: list[str] = []
        pos = trigger.end()
        while len(words) < _MAX_NAME_WORDS + 1:
            match = _NAME_WORD.match(text, pos)
            if not match:
                break
            word = match.group(0)
            if not (word[0].isupper() and (len(word) == 1 or word[1:].islower())):
                break
            words.append(word)
            pos = match.end()
            if text[pos : pos + 1] != " ":
                break
            pos += 1
        following = _NAME_WORD.match(text, pos) if text[pos - 1 : pos] == " " else None
        if (
            words
            and following
            and following.group(0).islower()
            and (words[-1].lower(), following.group(0)) in _TITLE_BIGRAMS
        ):
            words.pop()  # "đồng chí Nguyễn Văn An Chủ tịch UBND": the title starts at "Chủ"
        if not 2 <= len(words) <= _MAX_NAME_WORDS:
            continue
        if words[0].lower() in _NOT_NAME_START:
            continue
        name = " ".join(words)
        if name not in persons:
            persons.append(name)
    return persons


_S = r"\s+"
_DATE_K = (
    r"(?P<d>\d{1,2}) ?(?P<sep>[/.-]) ?(?P<m>\d{1,2}) ?(?P=sep) ?(?P<y>\d{4})(?!\d)"
    r"|(?P<d2>\d{1,2}) thang (?P<m2>\d{1,2}) nam (?P<y2>\d{4})(?!\d)"
    r"|(?P<d3>\d{1,2}) ?/ ?(?P<m3>\d{1,2})(?! ?[/\d])"
)
_MONTH = r"thang (?P<mm>\d{1,2})(?: ?/ ?| nam )(?P<my>\d{4})(?!\d)"
_QUARTER = r"quy (?P<q>iv|iii|ii|i|[1-4])(?: ?/ ?| nam )(?P<qy>\d{4})(?!\d)"
_YEAR = r"nam (?P<yy>\d{4})(?! ?[-–] ?\d)(?!\d)"
_PERIOD = f"(?:{_MONTH}|{_QUARTER}|{_YEAR})"
_LEAD = (
    r"(?P<lead>(?:thoi gian|thoi han) )?(?P<exp>du kien )?"
    r"(?P<done>(?:hoan thanh|thuc hien|xong|trien khai|to chuc|giai quyet)(?: xong)? )?"
)
_LIMIT = r"(?P<limit>truoc|cham nhat(?: la)?|khong qua|han chot(?: la)?|den het)"


def _k(pattern: str) -> re.Pattern:
    pattern = pattern.replace(" ?", r"\s*").replace(" ", r"\s+")
    return re.compile(r"(?<![a-z0-9])" + pattern)


_DEADLINE_PATTERNS = (
    ("limit_date", _k(_LEAD + f"(?:{_LIMIT}|trong(?= ngay))" + " (?:ngay )?(?:" + _DATE_K + ")")),
    ("limit_period", _k(_LEAD + _LIMIT + " " + _PERIOD)),
    ("term", _k(r"(?:thoi han|han chot)(?: hoan thanh)? ?: ?(?:ngay )?(?:" + _DATE_K + ")")),
    ("within", _k(_LEAD + r"(?P<within>trong|vao) " + _PERIOD)),
    ("done_date", _k(_LEAD + r"(?:ngay )?(?:" + _DATE_K + ")")),
    ("done_period", _k(_LEAD + _PERIOD)),
    ("quarter", _k(_QUARTER)),
    ("year", _k(_YEAR)),
)
_QUARTERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_PERIOD_KIND = {"month": "in_month", "quarter": "in_quarter", "year": "in_year"}
# Words before a bare "quý …"/"năm …" that make it a period talked about, not a limit.
_NOT_LIMIT_BEFORE = re.compile(
    r"(?:^|\s)(?:tu|cua|voi|qua|sau|dau|cuoi|giua|thang \d{1,2}|quy [ivx\d]+|ky|doan|niem"
    r"|khoa|so|nay|den|toi|nhiem ky|giai doan)\s*$"
)
_CLAUSE_END = re.compile(r"\s*(?:[.;!?]|$)")


def _month_end(year: int, month: int) -> date | None:
    if not 1 <= month <= 12 or not 1900 < year < 2200:
        return None
    return date(year, month, calendar.monthrange(year, month)[1])


def _period(match: re.Match) -> tuple[str, date, date] | None:
    """(kind, first day, last day) of the month, quarter or year in ``match``."""
    groups = match.groupdict()
    if groups.get("mm"):
        year, month = int(groups["my"]), int(groups["mm"])
        end = _month_end(year, month)
        return ("month", date(year, month, 1), end) if end else None
    if groups.get("q"):
        year, quarter = int(groups["qy"]), _QUARTERS[groups["q"]]
        end = _month_end(year, quarter * 3)
        return ("quarter", date(year, quarter * 3 - 2, 1), end) if end else None
    if groups.get("yy"):
        year = int(groups["yy"])
        end = _month_end(year, 12)
        return ("year", date(year, 1, 1), end) if end else None
    return None


def _deadline_date(match: re.Match, reference: date | None) -> date | None:
    groups = match.groupdict()
    if groups.get("d3"):
        if reference is None:
            return None
        found = _make_date(int(groups["d3"]), int(groups["m3"]), reference.year)
        if found and found < reference:
            found = _make_date(found.day, found.month, reference.year + 1)
        return found
    return _date_from(match)


def _deadline(name: str, match: re.Match, key: str, reference: date | None):
    """(date, kind) for one match, or None when it is not a time limit."""
    groups = match.groupdict()
    expected = bool(groups.get("exp"))
    if name in ("limit_date", "term"):
        found = _deadline_date(match, reference)
        return (found, "expected" if expected else "by_date") if found else None
    if name == "done_date":
        if not (expected or groups.get("done")):
            return None
        if groups.get("d3") and "ngay" not in match.group(0):
            return None  # "xong 12/20 kiến nghị" is a count, not a day
        found = _deadline_date(match, reference)
        return (found, "expected" if expected else "by_date") if found else None
    period = _period(match)
    if period is None:
        return None
    kind, first, last = period
    if name == "limit_period":
        if groups["limit"] == "truoc":
            last = date.fromordinal(first.toordinal() - 1)
        return last, "expected" if expected else "by_date"
    if name == "within":
        if groups["within"] == "vao" and not (expected or groups.get("done")):
            return None
        return last, "expected" if expected else _PERIOD_KIND[kind]
    if name == "done_period":
        if not (expected or groups.get("done")):
            return None
        return last, "expected" if expected else _PERIOD_KIND[kind]
    before = key[max(0, match.start() - 20) : match.start()]
    if _NOT_LIMIT_BEFORE.search(before):
        return None
    if name == "quarter":
        return last, "in_quarter"
    # A bare "năm 2026" counts only at the end of a clause, in a notice of that year or
    # earlier (a year already past when the notice was written is a period talked about).
    if reference is None or first.year < reference.year:
        return None
    if not _CLAUSE_END.match(key, match.end()):
        return None
    return last, "in_year"


def _deadlines(text: str, reference: date | None) -> list[Deadline]:
    key = fold_key(text)
    found: list[tuple[int, int, date, str]] = []
    for name, regex in _DEADLINE_PATTERNS:
        for match in regex.finditer(key):
            result = _deadline(name, match, key, reference)
            if result:
                found.append((match.start(), match.end(), *result))
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    deadlines: list[Deadline] = []
    taken_end = -1
    seen: set[tuple[date, str]] = set()
    for start, end, day, kind in found:
        if start < taken_end:
            continue
        taken_end = end
        if (day, kind) in seen:
            continue
        seen.add((day, kind))
        deadlines.append(Deadline(day, kind, text[start:end].strip(" ,;:")))
    return deadlines


_WEEKDAY = r"(?:thu (?:hai|ba|tu|nam|sau|bay|[2-7])|chu nhat|cn)(?![a-z0-9])"
_PART = r"(?:sang|chieu|toi)"
_DAYS = (
    rf"(?:(?:cac )?ngay )?(?:{_PART} )?(?:(?:cac )?ngay )?{_WEEKDAY}"
    rf"(?:(?: ?, ?| va | hoac | ?- ?)(?:(?:cac )?ngay )?(?:{_PART} )?(?:ngay )?{_WEEKDAY})*"
)
_EVERY = r"(?:hang|moi)"
_RECURRENCE_PATTERNS = (
    ("weekly", _k(rf"(?:vao )?(?:cac )?{_DAYS} (?:cua )?{_EVERY} tuan")),
    ("weekly", _k(rf"(?:dinh ky )?{_EVERY} tuan ?,? ?(?:vao )?(?:cac )?{_DAYS}")),
    ("weekly", _k(rf"(?:dinh ky )?{_EVERY} tuan|(?:0?1|mot) lan ?/ ?tuan")),
    ("monthly", _k(rf"(?:dinh ky )?{_EVERY} thang|(?:0?1|mot) (?:lan ?/ ?thang|thang ?/ ?lan)")),
    ("quarterly", _k(rf"(?:dinh ky )?{_EVERY} quy|(?:0?1|mot) (?:lan ?/ ?quy|quy ?/ ?lan)")),
)
_DAY_TOKEN = re.compile(rf"(?P<part>{_PART})(?![a-z])|(?P<day>{_WEEKDAY})")
_WEEKDAYS = {
    "hai": 0, "2": 0, "ba": 1, "3": 1, "tu": 2, "4": 2, "nam": 3, "5": 3, "sau": 4, "6": 4,
    "bay": 5, "7": 5, "chu nhat": 6, "cn": 6,
}  # fmt: skip
_PARTS = {"sang": "morning", "chieu": "afternoon", "toi": "evening"}


def _recurrences(text: str) -> list[Recurrence]:
    key = fold_key(text)
    found: list[tuple[int, int, str]] = []
    for freq, regex in _RECURRENCE_PATTERNS:
        found.extend((m.start(), m.end(), freq) for m in regex.finditer(key))
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    result: list[Recurrence] = []
    taken_end = -1
    for start, end, freq in found:
        if start < taken_end:
            continue
        taken_end = end
        written = text[start:end]
        days: list[tuple[int, str | None]] = []
        if freq == "weekly":
            part = None
            for token in _DAY_TOKEN.finditer(key, start, end):
                if token.group("part"):
                    part = _PARTS[token.group("part")]
                    continue
                day = re.sub(r"\s+", " ", token.group("day"))
                name = day if day in ("chu nhat", "cn") else day.split(" ")[1]
                days.append((_WEEKDAYS[name], part))
        if not days:
            result.append(Recurrence(freq, None, None, written))
        for weekday, part in days:
            result.append(Recurrence(freq, weekday, part, written))
    return result


def analyse(text: str, reference: date | None = None) -> Analysis:
    """Units, persons, deadlines and recurrences of one item's text.

    ``reference`` (the meeting or issue date) dates ``trước ngày 20/7`` (no year) and
    allows a bare ``năm 2026`` at the end of a clause to count as a time limit.
    """
    text = nfc(text or "")
    return Analysis(
        units=_units(text),
        persons=_persons(text),
        deadlines=_deadlines(text, reference),
        recurrences=_recurrences(text),
    )


def analyse_item(text: str, reference: date | None = None) -> dict:
    """:func:`analyse` as JSON: ``{"units", "persons", "deadlines", "recurrences"}``."""
    return analyse(text, reference).to_json()
