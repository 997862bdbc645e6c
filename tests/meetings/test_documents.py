"""Reading uploaded notices: encodings of plain text, .docx, and files that are neither."""

from __future__ import annotations

import io
import os
import unicodedata
import zipfile

import pytest

from portal.meetings.documents import DocumentError, read_text

TEXT = "THÔNG BÁO\nKết luận hội nghị\n1. Uỷ ban nhân dân phường hoàn thành trước ngày 20/7/2024.\n"
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese editors wrote it: base letters precomposed, tone marks
    as combining characters."""
    out = []
    for char in text:
        decomposed = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in decomposed if c in TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
        out.append(base + tones)
    return "".join(out).encode("cp1258")


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),
        TEXT.encode("utf-16-le"),
        TEXT.encode("utf-16-be"),
        cp1258(TEXT),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-bom", "utf-16-le", "utf-16-be", "cp1258"],
)
def test_plain_text_encodings(data):
    assert read_text(data, "thong-bao.txt") == TEXT


def test_path_and_crlf(tmp_path):
    path = tmp_path / "thong-bao.txt"
    path.write_bytes(TEXT.replace("\n", "\r\n").encode("utf-8"))
    assert read_text(path).splitlines() == TEXT.splitlines()
    assert read_text(str(path), "khac.txt").splitlines() == TEXT.splitlines()


def _error(*args) -> str:
    with pytest.raises(DocumentError) as caught:
        read_text(*args)
    message = caught.value.message
    assert message == str(caught.value)
    assert "\n" not in message
    return message


def test_missing_file(tmp_path):
    assert "Không tìm thấy tệp" in _error(tmp_path / "khong-co.txt")
    assert "thư mục" in _error(tmp_path)


@pytest.mark.parametrize("data", [b"", b"   \n\r\n\t ", b"\xef\xbb\xbf\n"])
def test_empty(data):
    assert "rỗng" in _error(data, "rong.txt") or "không có chữ" in _error(data, "rong.txt")


def test_binary():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2000)
    assert "không phải văn bản" in _error(png, "anh.txt")
    noise = bytes(range(1, 32)) * 50
    assert "không phải văn bản" in _error(noise, "nhieu.txt")


def test_fake_docx():
    assert "không phải tài liệu Word" in _error(TEXT.encode("utf-8"), "gia.docx")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "xin chào")
    assert "không phải tài liệu Word" in _error(buffer.getvalue(), "nen.docx")
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("word/document.xml", "<không phải xml")
    assert "không phải tài liệu Word" in _error(broken.getvalue(), "hong.docx")


def test_old_word_format():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    assert ".doc" in _error(ole, "cu.doc")


def test_docx_without_text():
    from docx import Document

    buffer = io.BytesIO()
    Document().save(buffer)
    assert "không có chữ" in _error(buffer.getvalue(), "trong.docx")
