"""Photos from residents: checked by content, re-encoded, stripped of metadata.

A phone photo carries the GPS position of the person's home in its EXIF data, so no
uploaded byte is ever stored as it came: Pillow decodes the image, applies the EXIF
orientation, and writes a new JPEG without EXIF, ICC or XMP, at most 2048 px on its
longest side, plus a thumbnail.
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from PIL import Image, ImageOps, UnidentifiedImageError

from portal.storage import get_storage

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}


class PhotoError(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class StoredPhoto:
    stored_name: str
    thumb_name: str
    width: int
    height: int
    size_bytes: int


def _encode(image: Image.Image, max_side: int) -> bytes:
    resized = image.convert("RGB")
    resized.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # Rebuilt from raw pixels: the new image has no info, so no EXIF, ICC or XMP is written.
    clean = Image.frombytes("RGB", resized.size, resized.tobytes())
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue()


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{size // 1024} KB"


def process(data: bytes, filename: str = "") -> tuple[bytes, bytes, int, int]:
    """Check and re-encode one upload; return (photo, thumbnail, width, height)."""
    config = current_app.config
    if len(data) > config["MAX_PHOTO_BYTES"]:
        raise PhotoError(
            _l(
                "Ảnh “%(name)s” lớn hơn %(limit)s. Hãy chọn ảnh nhỏ hơn.",
                name=filename or "?",
                limit=_human_size(config["MAX_PHOTO_BYTES"]),
            )
        )
    if not data:
        raise PhotoError(_l("Tệp “%(name)s” trống.", name=filename or "?"))
    too_many_pixels = PhotoError(
        _l("Ảnh “%(name)s” có kích thước điểm ảnh quá lớn.", name=filename or "?")
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                if kind not in ACCEPTED_FORMATS:
                    raise PhotoError(
                        _l(
                            "Tệp “%(name)s” không phải ảnh JPEG, PNG, WebP hoặc GIF.",
                            name=filename or "?",
                        )
                    )
                # Checked from the header, before any pixel is decoded. Pillow's own
                # process-wide bomb limit stays in force beneath this one.
                if probe.width * probe.height > config["MAX_IMAGE_PIXELS"]:
                    raise too_many_pixels
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels from None
    except PhotoError:
        raise  # a ValueError too: keep its own message
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoError(
            _l(
                "Tệp “%(name)s” không phải ảnh hợp lệ (JPEG, PNG, WebP hoặc GIF).",
                name=filename or "?",
            )
        ) from None
    photo = _encode(image, config["PHOTO_MAX_SIDE"])
    thumb = _encode(image, config["THUMB_MAX_SIDE"])
    with Image.open(io.BytesIO(photo)) as saved:
        width, height = saved.size
    return photo, thumb, width, height


def store(photo: bytes, thumb: bytes, width: int, height: int) -> StoredPhoto:
    """Write both files durably; the caller commits the rows that refer to them after."""
    storage = get_storage()
    stem = uuid.uuid4().hex
    stored_name, thumb_name = f"{stem}.jpg", f"{stem}.thumb.jpg"
    storage.save(thumb_name, thumb)
    storage.save(stored_name, photo)
    return StoredPhoto(stored_name, thumb_name, width, height, len(photo))


def process_uploads(files) -> list[tuple[bytes, bytes, int, int]]:
    """Check every upload before anything is stored; raise on the first bad one."""
    files = [f for f in files if f and getattr(f, "filename", "")]
    limit = current_app.config["MAX_PHOTOS"]
    if len(files) > limit:
        raise PhotoError(
            lazy_ngettext(
                "Chỉ được gửi tối đa %(num)d ảnh.", "Chỉ được gửi tối đa %(num)d ảnh.", limit
            )
        )
    return [process(f.read(), f.filename) for f in files]


def store_all(processed) -> list[StoredPhoto]:
    return [store(*item) for item in processed]


def discard(stored: list[StoredPhoto]) -> None:
    """Remove files written for a request that did not commit."""
    storage = get_storage()
    for item in stored:
        for name in (item.stored_name, item.thumb_name):
            storage.delete(name)
