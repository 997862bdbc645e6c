"""Names of the units a conclusion notice gives tasks to, by full name or abbreviation.

``find_units`` finds every mention in a text; ``canonical_unit`` names one mention. The
canonical name is the full official name in NFC with the classic tone marks
(``Ủy``, ``hòa``: see :func:`portal.text.normalize`), followed by the level word in lower
case when the text gives one (``UBND Phường`` → ``Ủy ban nhân dân phường``) and by the
place name when one follows (``UBND phường Dương Nội`` → ``Ủy ban nhân dân phường
Dương Nội``). ``Việt Nam`` is kept in the Fatherland Front's name only when written.
Companies (``Công ty CP …``, ``Công ty TNHH …``) keep their name as written, up to the
closing parenthesis, comma or the end of the name.

Matching ignores case, accents and tone-mark placement, NFD input and extra spaces: it
runs on a key with exactly one character per character of the NFC text, so offsets found
in the key are offsets in the NFC text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from portal.text import normalize


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text or "")


def _fold_char(char: str) -> str:
    if char in "đĐ":
        return "d"
    decomposed = unicodedata.normalize("NFD", char)
    base = "".join(c for c in decomposed if unicodedata.category(c) != "Mn") or char
    lowered = base.lower()
    return lowered if len(lowered) == 1 else char.lower()[:1] or char


def fold_key(text: str) -> str:
    """Accent-free lower-case key of an NFC text, one character per character."""
    return "".join(_fold_char(c) for c in text)


def _spaced(pattern: str) -> str:
    """A folded pattern whose spaces accept any run of spaces (`` ?``: none or some)."""
    return pattern.replace(" ?", r"\s*").replace(" ", r"\s+")


@dataclass(frozen=True)
class _Name:
    canonical: str
    pattern: str
    # Whether a level word (phường, xã, …) and a place name may follow.
    levels: bool = True


# Longest and most specific first; overlaps are resolved in favour of the longer match.
_NAMES: tuple[_Name, ...] = (
    _Name(
        "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân",
        r"van phong (?:hdnd|hoi dong nhan dan) ?(?:-|–|—|va|&|,)? ?(?:ubnd|uy ban nhan dan)",
    ),
    _Name("Thường trực Hội đồng nhân dân", r"(?:thuong truc|ttr\.?|tt) (?:hdnd|hoi dong nhan dan)"),
    _Name("Hội đồng nhân dân", r"hdnd|hoi dong nhan dan"),
    _Name("Văn phòng Đảng ủy", r"vpdu|van phong dang uy"),
    _Name("Ủy ban Kiểm tra Đảng ủy", r"(?:ubkt|uy ban kiem tra)(?: dang uy)?"),
    _Name("Thường trực Đảng ủy", r"thuong truc dang uy"),
    _Name(
        "Ủy ban Mặt trận Tổ quốc",
        r"(?:ubmttq|ub ?mttq|uy ban mttq|uy ban mat tran to quoc|mttq|mat tran to quoc)"
        r"(?P<vn> viet nam| vn)?",
    ),
    _Name("Ủy ban nhân dân", r"ubnd|uy ban nhan dan|ub nhan dan"),
    _Name("Công an", r"cong an"),
    _Name("Hội Liên hiệp Phụ nữ", r"hoi (?:lhpn|lien hiep phu nu(?: viet nam)?|phu nu)"),
    _Name(
        "Đoàn Thanh niên Cộng sản Hồ Chí Minh",
        r"doan (?:thanh nien(?: cong san ho chi minh| cs ho chi minh| cs hcm)?"
        r"|tncs(?: ho chi minh| hcm)?)",
    ),
    _Name("Hội Cựu chiến binh", r"hoi (?:ccb|cuu chien binh)(?: viet nam)?"),
    _Name("Hội Nông dân", r"hoi nong dan(?: viet nam)?"),
    _Name("Ban Chỉ huy Quân sự", r"ban (?:chqs|chi huy quan su)"),
    # The ward's own offices since 1 July 2025.
    _Name("Phòng Kinh tế, Hạ tầng và Đô thị", r"phong kinh te ?,? ha tang (?:va|&) do thi", False),
    _Name("Phòng Kinh tế", r"phong kinh te", False),
    _Name("Phòng Văn hóa - Xã hội", r"phong van hoa ?(?:-|–|va|&)? ?xa hoi", False),
    _Name("Trung tâm Phục vụ hành chính công", r"trung tam phuc vu hanh chinh cong", False),
)
_COMPANY = re.compile(
    _spaced(
        r"(?<![a-z0-9])cong ty (?:co phan|cp|tnhh|trach nhiem huu han)(?: mtv| mot thanh vien)?"
    )
    + r"(?![a-z0-9])"
)
_COMPILED = tuple(
    (name, re.compile(r"(?<![a-z0-9])(?:" + _spaced(name.pattern) + r")(?![a-z0-9])"))
    for name in _NAMES
)

# Level words, matched on the lower-cased text with its accents (so "tình" is not "tỉnh").
_LEVELS = re.compile(
    r"\s+(thị trấn|thị xã|thành phố|phường|xã(?!\s+hội)|quận|huyện|tỉnh)(?![^\W\d_])",
    re.IGNORECASE,
)
_LEVEL_ABBREVIATIONS = re.compile(r"\s+(TT|TX|TP)(?![^\W\d_])")
_LEVEL_NAMES = {"TT": "thị trấn", "TX": "thị xã", "TP": "thành phố"}
# Words that start a new phrase rather than continue a place name.
_NOT_PLACE = {
    "ban", "đảng", "ủy", "uỷ", "công", "văn", "trong", "giao", "chủ", "phó", "bí", "thường",
    "hội", "đoàn", "các", "và", "về", "theo", "tại", "trên", "để", "tổ", "cấp", "chi", "quận",
    "huyện", "thành", "tỉnh", "phường", "xã", "thị", "đồng", "ông", "bà", "thời", "nghị",
    "kế", "chỉ", "hướng", "thông", "đề", "dự", "trường", "nhân", "mặt", "với", "cùng",
    "những", "một", "tham", "báo", "kiểm", "tiếp", "tăng", "phối", "xây", "hoàn", "lưu",
}  # fmt: skip
_COMPANY_STOP = {
    "và", "với", "để", "cùng", "thực", "tổ", "triển", "chủ", "phối", "thu", "xây", "trong",
    "theo", "tại", "trên", "khẩn", "tiếp", "hoàn", "đảm", "báo", "có", "là", "đã", "đang",
    "sẽ", "chịu", "tham", "kiểm", "rà", "nghiên", "lập", "phải", "cần", "thống", "duy",
}  # fmt: skip
_TOKEN = re.compile(r"\S+")
_TRAILING_PUNCT = ",;:.)(*”“\"'!?…"
_MAX_PLACE_WORDS = 4
_MAX_COMPANY_WORDS = 12


@dataclass(frozen=True)
class UnitMention:
    canonical: str
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


_NEXT_WORD = re.compile(r"[ \t]+(\S+)")


def _place_end(text: str, pos: int) -> int:
    """End of the place name after a level word: capitalised words, or a ward number."""
    end = pos
    for count in range(_MAX_PLACE_WORDS):
        match = _NEXT_WORD.match(text, end)
        if not match:
            break
        word = match.group(1)
        bare = word.rstrip(_TRAILING_PUNCT)
        number = count == 0 and bare.isdigit() and len(bare) <= 2
        name = (
            bare[:1].isupper()
            and not (len(bare) > 1 and bare.isupper())
            and bare.replace("-", "").isalpha()
            and bare.lower() not in _NOT_PLACE
        )
        if not (number or name):
            break
        end = match.start(1) + len(bare)
        if bare != word or number:
            break
    return end


def _level(text: str, pos: int) -> tuple[str, int] | None:
    """The level word (and place name) right after ``pos``: (canonical suffix, end)."""
    match = _LEVELS.match(text, pos) or _LEVEL_ABBREVIATIONS.match(text, pos)
    if not match:
        return None
    word = match.group(1)
    level = _LEVEL_NAMES.get(word) or word.lower()
    place_end = _place_end(text, match.end())
    if place_end > match.end():
        place = text[match.end() : place_end].strip()
        return f"{level} {normalize(place)}", place_end
    return level, match.end()


def _capitalised(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit()


def _company_end(text: str, pos: int) -> int:
    """End of a company's name after ``Công ty CP``/``TNHH``.

    The name runs over capitalised words and abbreviations; a run of at most three
    lower-case words (``Môi trường đô thị Hà Nội``) belongs to it only when a capitalised
    word follows. It stops at a parenthesis, comma, semicolon, full stop, dash or line end.
    """
    tokens = []
    for match in _TOKEN.finditer(text, pos):
        if "\n" in text[pos if not tokens else tokens[-1][1] : match.start()]:
            break
        word = match.group(0)
        if word in {"-", "–", "—"} or word[0] in "(*":
            break
        bare = word.rstrip(_TRAILING_PUNCT)
        if not bare:
            break
        tokens.append((match.start(), match.start() + len(bare), bare, bare != word))
        if bare != word or len(tokens) >= _MAX_COMPANY_WORDS:
            break
    end = pos
    i = 0
    while i < len(tokens):
        _, stop, bare, closed = tokens[i]
        if _capitalised(bare):
            end = stop
            i += 1
            if closed:
                break
            continue
        run = i
        while run < len(tokens) and not _capitalised(tokens[run][2]) and not tokens[run][3]:
            run += 1
        words = [t[2].lower() for t in tokens[i:run]]
        if (
            run - i > 3
            or run >= len(tokens)
            or not _capitalised(tokens[run][2])
            or any(w in _COMPANY_STOP for w in words)
        ):
            break
        i = run
    return end


def _in_document_symbol(text: str, start: int) -> bool:
    """``106/TB-UBND``: part of a document's number and symbol, not a unit."""
    before = text[start - 1 : start]
    if before == "/":
        return True
    if before in ("-", "–"):
        token = text[: start - 1].rsplit(None, 1)[-1] if text[: start - 1].strip() else ""
        return bool(re.search(r"[\d/]", token))
    return False


def find_units(text: str) -> list[tuple[str, str, int]]:
    """Every unit named in ``text``: (canonical name, as written, start offset).

    Offsets index the NFC form of ``text`` (the text itself when it is NFC already).
    """
    return [(m.canonical, m.text, m.start) for m in find_unit_mentions(text)]


def find_unit_mentions(text: str) -> list[UnitMention]:
    text = nfc(text)
    key = fold_key(text)
    found: list[UnitMention] = []
    for name, regex in _COMPILED:
        for match in regex.finditer(key):
            canonical = name.canonical
            if match.groupdict().get("vn"):
                canonical += " Việt Nam"
            end = match.end()
            if name.levels:
                level = _level(text, end)
                if level:
                    canonical = f"{canonical} {level[0]}"
                    end = level[1]
            found.append(UnitMention(canonical, text[match.start() : end], match.start()))
    for match in _COMPANY.finditer(key):
        end = _company_end(text, match.end())
        written = text[match.start() : end]
        kind = written[len("Công ty") :].strip().split(" ", 1)
        rest = normalize(" ".join(kind))
        if kind and fold_key(kind[0]) in {"cp", "tnhh"}:
            rest = normalize(" ".join([kind[0].upper(), *kind[1:]]))
        found.append(UnitMention(f"Công ty {rest}", written, match.start()))
    found = [m for m in found if not _in_document_symbol(text, m.start)]
    found.sort(key=lambda m: (m.start, -len(m.text)))
    result: list[UnitMention] = []
    for mention in found:
        if result and mention.start < result[-1].end:
            continue
        result.append(mention)
    return result


def canonical_unit(text: str) -> str | None:
    """The canonical name when ``text`` is one unit's name and nothing else, else None."""
    cleaned = nfc(text).strip().strip(_TRAILING_PUNCT + " ")
    mentions = find_unit_mentions(cleaned)
    if len(mentions) == 1 and mentions[0].start == 0 and mentions[0].end == len(cleaned):
        return mentions[0].canonical
    return None
