"""Text out of an uploaded notice: ``.docx`` (python-docx) or plain text.

``read_text(path_or_bytes, filename)`` returns the paragraphs, one a line, in document
order, table cells included (each merged cell once). Plain text is read as UTF-8 (a BOM
is tolerated), then UTF-16 (by BOM or by its zero bytes), then Windows-1258, the old
Vietnamese code page. Anything else raises :class:`DocumentError` with a message in
Vietnamese, fit to show to the person who uploaded the file.
"""

from __future__ import annotations

import io
import os
import unicodedata
import zipfile
from pathlib import Path

MAX_BYTES = 20 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, .xls from Office 97-2003
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f", "\v"}


class DocumentError(ValueError):
    """A file that cannot be read as a notice; ``message`` is for the user (Vietnamese)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def read_text(
    path_or_bytes: str | os.PathLike | bytes | bytearray, filename: str | None = None
) -> str:
    """The text of a ``.docx`` or ``.txt`` notice, given as a path or as the file's bytes."""
    if isinstance(path_or_bytes, bytes | bytearray):
        data = bytes(path_or_bytes)
        name = filename or ""
    else:
        path = Path(path_or_bytes)
        name = filename or path.name
        try:
            if path.stat().st_size > MAX_BYTES:
                raise DocumentError(_too_big(name))
            data = path.read_bytes()
        except FileNotFoundError:
            raise DocumentError(f"Không tìm thấy tệp “{path}”.") from None
        except IsADirectoryError:
            raise DocumentError(f"“{path}” là một thư mục, không phải tệp.") from None
        except OSError as error:
            raise DocumentError(f"Không đọc được tệp “{path}”: {error.strerror}.") from None
    if len(data) > MAX_BYTES:
        raise DocumentError(_too_big(name))
    if not data.strip():
        raise DocumentError(f"Tệp “{name or 'tải lên'}” rỗng: không có nội dung.")
    suffix = Path(name).suffix.lower()
    if data.startswith(_OLE_MAGIC):
        raise DocumentError(
            "Tệp Word cũ (.doc) chưa được hỗ trợ: hãy lưu lại thành .docx hoặc .txt."
        )
    if suffix == ".docx" or data.startswith(_ZIP_MAGIC):
        text = _docx_text(data, name)
    else:
        text = _plain_text(data, name)
    if not text.strip():
        raise DocumentError(f"Tệp “{name or 'tải lên'}” không có chữ nào.")
    return text


def _too_big(name: str) -> str:
    return f"Tệp “{name}” quá lớn (tối đa {MAX_BYTES // (1024 * 1024)} MB)."


def _not_docx(name: str) -> str:
    return f"Tệp “{name or 'tải lên'}” không phải tài liệu Word .docx hợp lệ."


def _docx_text(data: bytes, name: str) -> str:
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise DocumentError(_not_docx(name))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "word/document.xml" not in archive.namelist():
                raise DocumentError(_not_docx(name))
        document = Document(io.BytesIO(data))
    except DocumentError:
        raise
    except PackageNotFoundError:
        raise DocumentError(_not_docx(name)) from None
    except Exception:  # noqa: BLE001 - lxml and python-docx raise many kinds on broken files
        raise DocumentError(_not_docx(name)) from None
    lines: list[str] = []
    _collect(document, lines, set())
    return unicodedata.normalize("NFC", "\n".join(lines))


def _collect(container, lines: list[str], seen_cells: set) -> None:
    """Paragraphs and tables of a document or cell, in order; each merged cell once."""
    from docx.table import Table

    for block in container.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                for cell in row.cells:
                    # Keep the elements, not their ids: lxml proxies die and ids come back.
                    if cell._tc in seen_cells:
                        continue
                    seen_cells.add(cell._tc)
                    _collect(cell, lines, seen_cells)
        else:
            lines.extend(block.text.splitlines() or [""])


def _plain_text(data: bytes, name: str) -> str:
    text = _decode(data)
    if text is None or _looks_binary(text):
        raise DocumentError(
            f"Tệp “{name or 'tải lên'}” không phải văn bản: hãy dùng tệp .docx hoặc .txt."
        )
    return unicodedata.normalize("NFC", text.lstrip("\ufeff"))


def _decode(data: bytes) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # UTF-16 without a BOM: Vietnamese text has many ASCII letters, one byte of each pair 0.
    sample = data[:4000]
    if len(sample) >= 4 and sample.count(0) * 3 > len(sample):
        zeros_odd = sample[1::2].count(0)
        zeros_even = sample[0::2].count(0)
        encoding = "utf-16-le" if zeros_odd > zeros_even else "utf-16-be"
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            return None
    if b"\x00" in data:
        return None
    try:
        return data.decode("cp1258")
    except UnicodeDecodeError:
        return None


def _looks_binary(text: str) -> bool:
    sample = text[:8000]
    controls = sum(
        1 for c in sample if unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROLS
    )
    return "\x00" in sample or controls * 20 > max(len(sample), 1)
