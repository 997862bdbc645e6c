"""Path tricks in uploaded file names: photos, notices (.docx/.txt), GeoJSON boundaries.

A client chooses the name of every file it sends. None of those names may decide where
anything is written, and each must come back (in a message or a page) as plain text.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal.extensions import db
from portal.meetings.models import ConclusionNotice
from portal.petitions.models import Petition, Photo
from portal.units.models import Area
from tests import factories

TRICKS = [
    "../../../../tmp/owned.jpg",
    "..\\..\\..\\windows\\owned.jpg",
    "/etc/passwd",
    "/tmp/owned.txt",
    "C:\\Windows\\owned.jpg",
    "....//....//owned.jpg",
    "%2e%2e%2fowned.jpg",
    ".htaccess",
    "a" * 400 + ".jpg",
    "ảnh điểm rác ngõ 12 — Dương Nội.jpg",
    "thông báo kết luận số 07.docx",
    "<img src=x onerror=alert(1)>.jpg",
    "",
]
UUID_NAME = re.compile(r"^[0-9a-f]{32}(\.thumb)?\.jpg$")


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (30, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def everything_outside(tmp_path: Path, upload_dir: Path) -> list[Path]:
    return [p for p in files_under(tmp_path) if upload_dir not in p.parents]


@pytest.fixture
def login(app, world):
    def as_role(role: str):
        client = app.test_client()
        response = client.post(
            "/dang-nhap", data={"email": world.users[role].email, "password": factories.PASSWORD}
        )
        assert response.status_code == 303
        return client

    return as_role


def test_photo_names_never_choose_where_a_photo_is_stored(app, client, world, tmp_path):
    upload_dir = Path(app.config["UPLOAD_DIR"])
    before = set(files_under(tmp_path))
    lat, lon = factories.INSIDE_WEST
    for name in TRICKS:
        response = client.post(
            "/kien-nghi/moi",
            data={
                "category_id": world.categories["ve-sinh-moi-truong"].id,
                "title": "Rác thải đầu ngõ 12",
                "description": "Rác đổ thành đống, bốc mùi.",
                "latitude": lat,
                "longitude": lon,
                "photos": [(io.BytesIO(_jpeg()), name)],
            },
            content_type="multipart/form-data",
        )
        # A file without a name is no file at all (the form sent none): filed without it.
        assert response.status_code == 303, (name, response.get_data(as_text=True)[:1000])
    stored = [p for p in files_under(tmp_path) if p not in before]
    assert stored and all(upload_dir in p.parents for p in stored)
    assert all(UUID_NAME.match(p.name) for p in stored), stored
    assert everything_outside(tmp_path, upload_dir) == [p for p in before]
    assert not Path("/tmp/owned.jpg").exists() and not Path("/tmp/owned.txt").exists()
    assert db.session.scalar(select(func.count()).select_from(Photo)) == len(TRICKS) - 1
    names = set(db.session.scalars(select(Photo.stored_name)))
    assert all(UUID_NAME.match(n) for n in names)


def test_a_refused_photo_names_its_file_as_text(client, world):
    lat, lon = factories.INSIDE_WEST
    name = "../../<script>alert(1)</script>ảnh.jpg"
    response = client.post(
        "/kien-nghi/moi",
        data={
            "category_id": world.categories["ve-sinh-moi-truong"].id,
            "title": "Rác thải đầu ngõ 12",
            "description": "Rác đổ thành đống, bốc mùi.",
            "latitude": lat,
            "longitude": lon,
            "photos": [(io.BytesIO(b"not an image at all"), name)],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "không phải ảnh hợp lệ" in body
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;ảnh.jpg" in body
    assert db.session.scalar(select(func.count()).select_from(Petition)) == 0


def test_a_nul_in_a_file_name_is_refused(client, world):
    lat, lon = factories.INSIDE_WEST
    response = client.post(
        "/kien-nghi/moi",
        data={
            "category_id": world.categories["ve-sinh-moi-truong"].id,
            "title": "Rác thải đầu ngõ 12",
            "description": "Rác đổ thành đống, bốc mùi.",
            "latitude": lat,
            "longitude": lon,
            "photos": [(io.BytesIO(_jpeg()), "anh.jpg\x00.php")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Petition)) == 0


NOTICE = (
    "THÔNG BÁO\nKết luận hội nghị đối thoại\n"
    "1. Phòng Kinh tế, Hạ tầng và Đô thị xử lý điểm rác ngõ 12 trước ngày 30/9/2026.\n"
    "2. Công an Phường tuần tra vào chiều thứ Sáu hàng tuần.\n"
)


def _review_fields(html: str) -> dict:
    from tests.meetings.test_import_http import review_fields

    return review_fields(html)


@pytest.mark.parametrize(
    "name",
    [
        "../../../../tmp/owned.txt",
        "/etc/passwd",
        "..\\..\\thong-bao.txt",
        "thông báo kết luận — Dương Nội.txt",
        "x" * 300 + ".txt",
    ],
)
def test_notice_file_names_are_only_names(app, login, world, tmp_path, name):
    staff = login("ward_staff")
    before = files_under(tmp_path)
    response = staff.post(
        "/hoi-nghi/thong-bao/nhap",
        data={"document": (io.BytesIO(NOTICE.encode()), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    fields = _review_fields(response.get_data(as_text=True))
    fields["op"] = "save"
    for key in [k for k in fields if k.endswith("-choice")]:
        fields[key] = fields[key] or "new"
    saved = staff.post("/hoi-nghi/thong-bao/xem-lai", data=fields)
    assert saved.status_code == 303, saved.get_data(as_text=True)[:2000]
    notice = db.session.scalar(select(ConclusionNotice))
    # Kept as a label only, its end (with the extension) when it is too long.
    assert len(notice.source_filename) <= 255
    assert notice.source_filename.endswith(name[-8:])
    # Reading a notice writes no file anywhere.
    assert files_under(tmp_path) == before
    assert not Path("/tmp/owned.txt").exists()


def test_a_notice_file_name_with_markup_is_shown_as_text(login, world):
    staff = login("ward_staff")
    response = staff.post(
        "/hoi-nghi/thong-bao/nhap",
        data={"document": (io.BytesIO(b"\x00\x01\x02 binary"), "<b>x</b>.docx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<b>x</b>" not in body and "&lt;b&gt;x&lt;/b&gt;.docx" in body


def test_a_number_or_ref_too_long_is_said_on_the_review_screen(login, world):
    staff = login("ward_staff")
    response = staff.post("/hoi-nghi/thong-bao/nhap", data={"text": NOTICE})
    fields = _review_fields(response.get_data(as_text=True))
    fields.update({"op": "save", "number": "07-TB/BCĐ-" + "9" * 80})
    for key in [k for k in fields if k.endswith("-choice")]:
        fields[key] = fields[key] or "new"
    saved = staff.post("/hoi-nghi/thong-bao/xem-lai", data=fields)
    assert saved.status_code == 422
    body = saved.get_data(as_text=True)
    assert "tối đa 60 ký tự" in body
    assert "9" * 80 in body  # what was typed is still there to fix
    fields.update({"number": "07-TB/BCĐ", "items-0-ref": "1." * 30})
    saved = staff.post("/hoi-nghi/thong-bao/xem-lai", data=fields)
    assert saved.status_code == 422 and "tối đa 40 ký tự" in saved.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ConclusionNotice)) == 0


@pytest.mark.parametrize(
    "name", ["../../../tmp/owned.geojson", "/etc/passwd", "ranh giới tổ dân phố.geojson"]
)
def test_boundary_file_names_are_ignored(app, login, world, tmp_path, name):
    admin = login("admin")
    before = files_under(tmp_path)
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": a.name}, "geometry": a.boundary}
            for a in world.areas
        ],
    }
    response = admin.post(
        "/quan-ly/to-dan-pho/",
        data={
            "name_property": "name",
            "document": (io.BytesIO(json.dumps(collection).encode()), name),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert db.session.scalar(select(func.count()).select_from(Area)) == 2
    assert files_under(tmp_path) == before
    assert not Path("/tmp/owned.geojson").exists()
