"""The English catalogue covers every string in the sources (no database needed).

Messages are extracted afresh from portal/ and templates/ with the same options as the
documented ``pybabel extract`` command, so a new ``_()`` string without an English
translation fails here even if nobody re-ran the extraction.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
EN_PO = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"

# %(name)s, %(n)d, %(lat).5f… : the whole conversion spec, so a changed precision counts.
PLACEHOLDER = re.compile(r"%\([^)]*\)[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa]")


def _ids(message) -> tuple[str, ...]:
    return tuple(message.id) if message.pluralizable else (message.id,)


def _strings(message) -> tuple[str, ...]:
    if message.pluralizable:
        return tuple(message.string or ())
    return (message.string or "",)


def _label(message) -> str:
    return " | ".join(_ids(message))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "lazy_ngettext:1,2",
            "-o",
            str(pot),
            "--ignore-dirs=.venv node_modules",
            ".",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with pot.open("rb") as f:
        catalog = read_po(f)
    messages = [m for m in catalog if m.id]
    assert len(messages) > 100, "extraction found suspiciously few messages"
    return messages


@pytest.fixture(scope="module")
def english():
    with EN_PO.open("rb") as f:
        return read_po(f, locale="en")


def test_i18n_every_message_has_english(extracted, english):
    missing, empty, fuzzy = [], [], []
    for source in extracted:
        entry = english.get(source.id)
        if entry is None or _ids(entry) != _ids(source):
            missing.append(_label(source))
            continue
        strings = _strings(entry)
        if len(strings) != (english.num_plurals if source.pluralizable else 1) or not all(
            s.strip() for s in strings
        ):
            empty.append(_label(source))
        if entry.fuzzy:
            fuzzy.append(_label(source))
    problems = {
        "not in messages.po (re-run pybabel extract/update)": missing,
        "empty msgstr": empty,
        "marked fuzzy": fuzzy,
    }
    report = "\n".join(
        f"{what} ({len(ids)}):\n" + "\n".join(f"  {i!r}" for i in ids)
        for what, ids in problems.items()
        if ids
    )
    assert not report, f"{EN_PO.relative_to(ROOT)} is incomplete:\n{report}"


def test_i18n_placeholders_match(extracted, english):
    mismatched = []
    for source in extracted:
        entry = english.get(source.id)
        if entry is None:
            continue  # reported by the test above
        ids = _ids(entry)
        for index, string in enumerate(_strings(entry)):
            if not string:
                continue
            msgid = ids[min(index, len(ids) - 1)]
            expected = set(PLACEHOLDER.findall(msgid))
            found = set(PLACEHOLDER.findall(string))
            if expected != found:
                mismatched.append(f"{msgid!r} -> {string!r}: {sorted(expected)} != {sorted(found)}")
    assert not mismatched, "placeholders differ from the msgid:\n" + "\n".join(mismatched)
