"""Residents' photos: re-encoded without metadata, checked by content, private until published."""

from __future__ import annotations

import io
import os
import re
import struct
import zlib
from html import unescape
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select

from portal.extensions import db
from portal.petitions import services
from portal.petitions.models import EventKind, Petition, PetitionEvent, Photo
from tests import factories

GPS = ExifTags.IFD.GPSInfo
ORIENTATION = ExifTags.Base.Orientation


@pytest.fixture(autouse=True)
def _restore_pillow_limit(monkeypatch):
    # photos.process sets Image.MAX_IMAGE_PIXELS from the config: keep it from leaking.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)


# --- building uploads -------------------------------------------------------------------


def encode(image: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def jpeg_with_gps(size=(3000, 1000)) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[GPS] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (20.0, 58.0, 48.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (105.0, 44.0, 42.0),
    }
    return encode(Image.new("RGB", size, (180, 120, 60)), exif=exif.tobytes())


def jpeg_with_orientation(size=(100, 50), orientation=6) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return encode(Image.new("RGB", size, (10, 200, 90)), exif=exif.tobytes())


def noisy_jpeg(side=400) -> bytes:
    """A valid photo that does not compress: well over 100 kB."""
    return encode(Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)), quality=95)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


# --- filing and reading back ------------------------------------------------------------


def form_data(world, files, **overrides) -> dict:
    lat, lon = factories.INSIDE_WEST
    data = {
        "category_id": str(world.categories["ve-sinh-moi-truong"].id),
        "title": "Điểm rác tự phát đầu ngõ 12",
        "description": "Rác thải sinh hoạt đổ thành đống, bốc mùi.",
        "latitude": str(lat),
        "longitude": str(lon),
        "photos": [(io.BytesIO(content), name) for name, content in files],
    }
    data.update(overrides)
    return data


def file_with_photos(client, world, files, **overrides):
    return client.post(
        "/kien-nghi/moi",
        data=form_data(world, files, **overrides),
        content_type="multipart/form-data",
    )


def filed(client, world, files) -> Petition:
    response = file_with_photos(client, world, files)
    assert response.status_code == 303, response.get_data(as_text=True)
    token = re.search(r"/cua-toi/([^?]+)", response.headers["Location"]).group(1)
    db.session.expire_all()
    petition = db.session.scalar(select(Petition).where(Petition.private_token == token))
    assert petition is not None
    return petition


def upload_dir(app) -> Path:
    return Path(app.config["UPLOAD_DIR"])


def stored_files(app) -> list[str]:
    folder = upload_dir(app)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def open_stored(app, name: str) -> Image.Image:
    image = Image.open(upload_dir(app) / name)
    image.load()
    return image


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def field_errors(response) -> str:
    html = response.get_data(as_text=True)
    return unescape(" ".join(re.findall(r'<ul class="field-errors"[^>]*>(.*?)</ul>', html, re.S)))


def assert_refused(app, response, message: str) -> None:
    assert response.status_code == 422
    assert message in field_errors(response)
    assert count(Petition) == 0
    assert count(Photo) == 0
    assert stored_files(app) == []


# --- metadata, size, orientation --------------------------------------------------------


def test_gps_exif_is_stripped_from_photo_and_thumbnail(app, client, world):
    source = jpeg_with_gps()
    with Image.open(io.BytesIO(source)) as original:
        gps = original.getexif().get_ifd(GPS)
        assert gps[ExifTags.GPS.GPSLatitudeRef] == "N"
        assert gps[ExifTags.GPS.GPSLongitude] == (105.0, 44.0, 42.0)

    petition = filed(client, world, [("nha-toi.jpg", source)])

    [photo] = petition.photos
    assert stored_files(app) == sorted([photo.stored_name, photo.thumb_name])
    for name in (photo.stored_name, photo.thumb_name):
        image = open_stored(app, name)
        assert image.format == "JPEG"
        exif = image.getexif()
        assert len(exif) == 0
        assert exif.get_ifd(GPS) == {}
        assert "exif" not in image.info
        assert "icc_profile" not in image.info
        raw = (upload_dir(app) / name).read_bytes()
        assert b"Exif" not in raw
        assert b"PhoneMaker" not in raw

    big = open_stored(app, photo.stored_name)
    assert max(big.size) <= 2048
    assert big.size == (2048, 683)
    assert (photo.width, photo.height) == big.size
    assert photo.size_bytes == (upload_dir(app) / photo.stored_name).stat().st_size
    thumb = open_stored(app, photo.thumb_name)
    assert max(thumb.size) <= 320
    assert photo.published is False


def test_exif_orientation_is_applied(app, client, world):
    source = jpeg_with_orientation((100, 50), 6)
    with Image.open(io.BytesIO(source)) as original:
        assert original.size == (100, 50)
        assert original.getexif()[ORIENTATION] == 6

    petition = filed(client, world, [("xoay.jpg", source)])

    [photo] = petition.photos
    stored = open_stored(app, photo.stored_name)
    assert stored.size == (50, 100)
    assert (photo.width, photo.height) == (50, 100)
    assert ORIENTATION not in stored.getexif()
    assert open_stored(app, photo.thumb_name).size == (50, 100)


def test_png_with_alpha_is_stored_as_jpeg(app, client, world):
    source = encode(Image.new("RGBA", (200, 120), (255, 0, 0, 100)), "PNG")

    petition = filed(client, world, [("trong-suot.png", source)])

    [photo] = petition.photos
    assert photo.stored_name.endswith(".jpg")
    stored = open_stored(app, photo.stored_name)
    assert stored.format == "JPEG"
    assert stored.mode == "RGB"
    assert stored.size == (200, 120)


def test_several_photos_are_all_stored(app, client, world):
    files = [(f"anh-{i}.jpg", jpeg_with_orientation((60, 40), 1)) for i in range(5)]

    petition = filed(client, world, files)

    assert len(petition.photos) == 5
    assert len(stored_files(app)) == 10


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("anh-gia.jpg", "Đây không phải là ảnh, chỉ là chữ.\n".encode() * 20),
        ("tai-lieu.jpg", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"),
        ("tai-lieu.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n%%EOF\n"),
        ("anh.bmp", encode(Image.new("RGB", (20, 20), "blue"), "BMP")),
    ],
)
def test_a_file_that_is_not_an_accepted_image_is_refused(app, client, world, name, content):
    response = file_with_photos(client, world, [(name, content)])

    assert_refused(app, response, "không phải ảnh")
    assert name in field_errors(response)


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_an_image_in_a_format_we_do_not_take_says_so(app, client, world, fmt):
    content = encode(Image.new("RGB", (20, 20), "blue"), fmt)
    with Image.open(io.BytesIO(content)) as check:
        assert check.format == fmt

    response = file_with_photos(client, world, [("anh.jpg", content)])

    assert_refused(app, response, "không phải ảnh JPEG, PNG, WebP hoặc GIF")


def test_an_empty_file_is_refused(app, client, world):
    response = file_with_photos(client, world, [("rong.jpg", b"")])

    assert_refused(app, response, "trống")


def test_a_bad_photo_among_good_ones_saves_nothing(app, client, world):
    files = [("tot.jpg", jpeg_with_gps((300, 200))), ("xau.jpg", b"not an image at all")]

    response = file_with_photos(client, world, files)

    assert_refused(app, response, "không phải ảnh")


def test_an_oversize_photo_is_refused(app, client, world):
    app.config["MAX_PHOTO_BYTES"] = 50_000
    source = noisy_jpeg()
    assert len(source) > 50_000
    with Image.open(io.BytesIO(source)) as check:
        check.verify()

    response = file_with_photos(client, world, [("to-qua.jpg", source)])

    assert_refused(app, response, "lớn hơn")


def test_a_decompression_bomb_is_refused(app, client, world):
    app.config["MAX_IMAGE_PIXELS"] = 1_000_000
    source = encode(Image.new("RGB", (2000, 2000), (0, 0, 0)), "PNG")
    assert len(source) < 100_000

    response = file_with_photos(client, world, [("bom.png", source)])

    assert_refused(app, response, "quá lớn")


def test_a_moderately_oversized_image_is_refused_too(app, client, world):
    # Between the limit and twice the limit Pillow only warns; the warning must refuse too.
    app.config["MAX_IMAGE_PIXELS"] = 1_000_000
    source = encode(Image.new("RGB", (1200, 1000), (0, 0, 0)), "PNG")

    response = file_with_photos(client, world, [("hoi-to.png", source)])

    assert_refused(app, response, "quá lớn")


def test_a_png_header_claiming_huge_dimensions_is_refused(app, client, world):
    source = png_claiming(100_000, 100_000)
    assert len(source) < 200

    response = file_with_photos(client, world, [("gia-mao.png", source)])

    assert_refused(app, response, "quá lớn")


def test_more_than_five_photos_are_refused(app, client, world):
    files = [(f"anh-{i}.jpg", jpeg_with_orientation((60, 40), 1)) for i in range(6)]

    response = file_with_photos(client, world, files)

    assert_refused(app, response, "tối đa 5 ảnh")


# --- who may see a photo ------------------------------------------------------------------


def test_photos_are_private_until_staff_publish_them(app, client, auth, world):
    petition = filed(client, world, [("anh.jpg", jpeg_with_gps((400, 300)))])
    [photo] = petition.photos
    code, token = petition.code, petition.private_token
    big, small = f"/anh/{photo.id}", f"/anh/{photo.id}/nho"

    # Anonymous: not found, nor on the public page.
    for url in (big, small):
        assert client.get(url).status_code == 404
    public = client.get(f"/kien-nghi/{code}").get_data(as_text=True)
    assert small not in public
    assert big not in public

    # The petitioner, with the private token: yes, and not cached by anyone else.
    for url in (big, small):
        response = client.get(f"{url}?t={token}")
        assert response.status_code == 200
        assert response.mimetype == "image/jpeg"
        assert response.headers["Cache-Control"].count("no-store") == 1
        assert "private" in response.headers["Cache-Control"]
        assert response.headers["Referrer-Policy"] == "no-referrer"
        response.close()
    private = client.get(f"/cua-toi/{token}").get_data(as_text=True)
    assert unescape(f"{small}?t={token}") in unescape(private)

    # A wrong or foreign token is no key.
    other = filed(client, world, [("khac.jpg", jpeg_with_orientation((60, 40), 1))])
    assert client.get(f"{big}?t={other.private_token}").status_code == 404
    wrong = token[:-1] + ("y" if token.endswith("x") else "x")
    assert client.get(f"{big}?t={wrong}").status_code == 404

    # Ward staff: yes.
    auth.as_role(world, "ward_staff")
    response = client.get(big)
    assert response.status_code == 200
    response.close()

    # Staff publish it; now anyone may see it, and the public page shows the thumbnail.
    response = client.post(f"/quan-ly/kien-nghi/{code}/anh/{photo.id}", data={"publish": "1"})
    assert response.status_code == 303
    auth.logout()
    db.session.expire_all()
    assert db.session.get(Photo, photo.id).published is True
    for url in (big, small):
        response = client.get(url)
        assert response.status_code == 200
        assert "public" in response.headers["Cache-Control"]
        response.close()
    public = client.get(f"/kien-nghi/{code}").get_data(as_text=True)
    assert f'src="{small}"' in public
    event = db.session.scalar(select(PetitionEvent).where(PetitionEvent.kind == EventKind.PHOTO))
    assert event.data == {"photo": photo.id, "published": True}


def test_unit_staff_see_only_photos_of_their_petitions(app, client, auth, world):
    petition = filed(client, world, [("anh.jpg", jpeg_with_orientation((60, 40), 1))])
    [photo] = petition.photos
    factories.assign(world, petition, "infra")

    auth.as_role(world, "other_unit_staff")
    assert client.get(f"/anh/{photo.id}").status_code == 404
    auth.logout()

    auth.as_role(world, "unit_staff")
    response = client.get(f"/anh/{photo.id}")
    assert response.status_code == 200
    response.close()
    # Unit staff cannot publish.
    response = client.post(
        f"/quan-ly/kien-nghi/{petition.code}/anh/{photo.id}", data={"publish": "1"}
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Photo, photo.id).published is False


# --- adding photos later --------------------------------------------------------------------


def add_info(client, token, text, files):
    return client.post(
        f"/cua-toi/{token}",
        data={"text": text, "photos": [(io.BytesIO(content), name) for name, content in files]},
        content_type="multipart/form-data",
    )


def test_petitioner_adds_text_and_photos_on_the_private_page(app, client, world):
    petition = filed(client, world, [("dau.jpg", jpeg_with_orientation((60, 40), 1))])
    token = petition.private_token

    response = add_info(
        client, token, "Hôm nay rác lại bị đổ thêm.", [("sau.jpg", jpeg_with_gps())]
    )

    assert response.status_code == 303
    db.session.expire_all()
    petition = db.session.get(Petition, petition.id)
    assert len(petition.photos) == 2
    added = petition.photos[1]
    assert added.published is False
    assert max(open_stored(app, added.stored_name).size) <= 2048
    assert open_stored(app, added.stored_name).getexif().get_ifd(GPS) == {}
    assert len(stored_files(app)) == 4
    info = petition.events[-1]
    assert info.kind == EventKind.INFO_ADDED
    assert info.public_note == "Hôm nay rác lại bị đổ thêm."


def test_a_bad_photo_on_the_private_page_changes_nothing(app, client, world):
    petition = filed(client, world, [("dau.jpg", jpeg_with_orientation((60, 40), 1))])
    token, version = petition.private_token, petition.version
    files_before = stored_files(app)
    events_before = len(petition.events)
    [first] = petition.photos
    first_bytes = (upload_dir(app) / first.stored_name).read_bytes()

    response = add_info(
        client,
        token,
        "Bổ sung kèm ảnh hỏng.",
        [("tot.jpg", jpeg_with_orientation((60, 40), 1)), ("hong.jpg", b"GIF89a-but-broken")],
    )

    assert response.status_code == 422
    assert "không phải ảnh" in field_errors(response)
    assert response.headers["Cache-Control"] == "no-store"
    db.session.expire_all()
    petition = db.session.get(Petition, petition.id)
    assert petition.version == version
    assert len(petition.events) == events_before
    assert [p.id for p in petition.photos] == [first.id]
    assert count(Photo) == 1
    assert stored_files(app) == files_before
    assert (upload_dir(app) / first.stored_name).read_bytes() == first_bytes
    assert "ảnh hỏng" not in petition.search_key


def test_photos_for_a_merged_petition_are_refused_and_their_files_removed(app, client, world):
    # The photos are fine and get written; the service then refuses: the files must go.
    target = factories.file(world, title="Rác đầu ngõ 12, kiến nghị chính")
    petition = filed(client, world, [])
    services.merge(petition, world.users["ward_staff"], into=target)
    db.session.commit()

    response = add_info(client, petition.private_token, "Thêm ảnh.", [("anh.jpg", jpeg_with_gps())])

    assert response.status_code == 422
    assert target.code in unescape(response.get_data(as_text=True))
    assert count(Photo) == 0
    assert stored_files(app) == []


def test_too_many_photos_on_the_private_page_are_refused(app, client, world):
    petition = filed(client, world, [])
    files = [(f"anh-{i}.jpg", jpeg_with_orientation((60, 40), 1)) for i in range(6)]

    response = add_info(client, petition.private_token, "", files)

    assert response.status_code == 422
    assert "tối đa 5 ảnh" in field_errors(response)
    assert count(Photo) == 0
    assert stored_files(app) == []
