"""Vietnamese text normalisation.

Real documents mix NFC and NFD, old and new tone-mark placement ("hoà"/"hòa",
"Uỷ"/"Ủy") and stray spaces. ``normalize`` gives one canonical form for display and
comparison; ``fold`` gives an accent-free, lower-case key for search, so that typing
"rac thai" finds "rác thải". ``đ`` does not decompose under NFD and is mapped by hand.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")

# Old-style placement puts the tone mark on the first vowel of "oa", "oe", "uy";
# the new style (used by the 2018 orthography rules) puts it on the second.
_OLD_TO_NEW_TONES = {
    "òa": "oà",
    "óa": "oá",
    "ỏa": "oả",
    "õa": "oã",
    "ọa": "oạ",
    "òe": "oè",
    "óe": "oé",
    "ỏe": "oẻ",
    "õe": "oẽ",
    "ọe": "oẹ",
    "ùy": "uỳ",
    "úy": "uý",
    "ủy": "uỷ",
    "ũy": "uỹ",
    "ụy": "uỵ",
}
_NEW_TO_OLD_TONES = {new: old for old, new in _OLD_TO_NEW_TONES.items()}
# Not after "q": in "quý" the "u" belongs to the consonant "qu" and the mark stays on "y".
_NEW_TONE_RE = re.compile(
    "(?<![qQ])(" + "|".join(sorted(_NEW_TO_OLD_TONES, key=len, reverse=True)) + ")(?![a-zà-ỹđ])",
    re.IGNORECASE,
)


def _keep_case(source: str, replacement: str) -> str:
    return "".join(
        r.upper() if s.isupper() else r for s, r in zip(source, replacement, strict=True)
    )


def normalize(text: str | None) -> str:
    """NFC, one space between words, tone marks in the classic (widely used) place.

    "Uỷ ban" and "Ủy ban", "hoà" and "hòa" come out the same. Only syllable-final
    "oa/oe/uy" are moved, as the two styles agree everywhere else ("hoàng", "quyết").
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = _SPACES.sub(" ", text).strip()
    return _NEW_TONE_RE.sub(
        lambda m: _keep_case(m.group(0), _NEW_TO_OLD_TONES[m.group(0).lower()]), text
    )


def fold(text: str | None) -> str:
    """Accent-free, lower-case search key: "Rác thải Đường Lê" -> "rac thai duong le"."""
    if not text:
        return ""
    text = unicodedata.normalize("NFD", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    text = text.replace("đ", "d").replace("Đ", "D")
    return _SPACES.sub(" ", text).strip().lower()


def search_terms(query: str | None) -> list[str]:
    """Folded words of a search query, without empty ones."""
    return [word for word in fold(query).split(" ") if word]
