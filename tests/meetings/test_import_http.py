"""Importing a notice on the web: paste or upload, review, fix, save — nothing before."""

from __future__ import annotations

import io
import json
import re
from html import unescape
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import func, select

from portal.extensions import db
from portal.meetings.models import ConclusionNotice, NoticeItem
from portal.units.models import Unit

NOTICES = Path(__file__).parent / "notices"
SAO_VANG = (NOTICES / "sample-thi-tran-sao-vang-2023-07-31.txt").read_text(encoding="utf-8")


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def review_fields(html: str) -> dict:
    """Every named input, textarea and selected option of the review form, as a browser sends."""
    fields = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        fields[name] = unescape(value)
    for name, value in re.findall(
        r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S
    ):
        fields[name] = unescape(value)
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        fields[name] = unescape(chosen.group(1)) if chosen else ""
    fields.pop("csrf_token", None)
    return fields


@pytest.fixture
def staff(client, auth, world):
    auth.as_role(world, "ward_staff")
    return client


def start(staff, text=SAO_VANG):
    response = staff.post("/hoi-nghi/thong-bao/nhap", data={"text": text})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_paste_shows_review_and_saves_nothing(staff, world):
    html = start(staff)
    assert "07-TB/BCĐ" in html and "Ninh Thị Quỳnh" in html and "2.3.-1" in html
    assert "Xem lại thông báo" in html
    assert count(ConclusionNotice) == 0 and count(NoticeItem) == 0


def test_save_requires_every_unknown_unit_resolved(staff, world):
    html = start(staff)
    fields = review_fields(html)
    unresolved = [k for k, v in fields.items() if k.endswith("-choice") and v == ""]
    assert unresolved, "the sample names units the test ward does not have"
    response = staff.post("/hoi-nghi/thong-bao/xem-lai", data={**fields, "op": "save"})
    assert response.status_code == 422
    assert "Còn tên đơn vị chưa được xác định" in response.get_data(as_text=True)
    assert count(ConclusionNotice) == 0
    # Fix them: the first is our police unit, the rest are created or dropped.
    fields[unresolved[0]] = str(world.units["police"].id)
    for key in unresolved[1:]:
        fields[key] = "new" if "Công an" not in fields.get(key, "") else "drop"
    response = staff.post("/hoi-nghi/thong-bao/xem-lai", data={**fields, "op": "save"})
    assert response.status_code == 303
    notice = db.session.scalar(select(ConclusionNotice))
    assert notice.number == "07-TB/BCĐ"
    assert world.units["police"] in [u.unit for i in notice.items for u in i.units]
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "2.3.-1" in page


def test_edit_split_merge_delete(staff, world):
    html = start(staff)
    fields = review_fields(html)
    draft = json.loads(fields["draft"])
    n = len(draft["items"])
    # Edit an item's text: its dates are read again.
    fields["items-0-text"] = (
        "UBND hoàn thành việc rà soát trước ngày 15/9/2023.\n---\n"
        "Công an thị trấn tuần tra hằng tuần vào tối thứ Bảy."
    )
    response = staff.post("/hoi-nghi/thong-bao/xem-lai", data={**fields, "op": "split:0"})
    assert response.status_code == 200
    draft = json.loads(review_fields(response.get_data(as_text=True))["draft"])
    assert len(draft["items"]) == n + 1
    first, second = draft["items"][0], draft["items"][1]
    assert first["deadlines"][0]["date"] == "2023-09-15"
    assert (
        second["recurrences"][0]["weekday"] == 5
        and second["recurrences"][0]["part_of_day"] == "evening"
    )
    fields = review_fields(response.get_data(as_text=True))
    response = staff.post("/hoi-nghi/thong-bao/xem-lai", data={**fields, "op": "merge:1"})
    draft = json.loads(review_fields(response.get_data(as_text=True))["draft"])
    assert len(draft["items"]) == n
    assert "tuần tra" in draft["items"][0]["text"] and "rà soát" in draft["items"][0]["text"]
    fields = review_fields(response.get_data(as_text=True))
    response = staff.post("/hoi-nghi/thong-bao/xem-lai", data={**fields, "op": f"delete:{n - 1}"})
    draft = json.loads(review_fields(response.get_data(as_text=True))["draft"])
    assert len(draft["items"]) == n - 1
    assert count(ConclusionNotice) == 0


def test_split_without_mark_or_paragraphs_explains(staff, world):
    fields = review_fields(start(staff))
    fields["items-0-text"] = "Một câu duy nhất không thể tách."
    response = staff.post("/hoi-nghi/thong-bao/xem-lai", data={**fields, "op": "split:0"})
    assert response.status_code == 422
    assert "---" in response.get_data(as_text=True)


def test_duplicate_refs_refused(staff, world):
    fields = review_fields(start(staff))
    for key in [k for k in fields if k.endswith("-choice")]:
        fields[key] = "drop"
    fields["items-1-ref"] = fields["items-0-ref"]
    response = staff.post("/hoi-nghi/thong-bao/xem-lai", data={**fields, "op": "save"})
    assert response.status_code == 422
    assert "bị trùng" in response.get_data(as_text=True)
    assert count(ConclusionNotice) == 0


def test_htmx_review_returns_the_fragment(staff, world):
    fields = review_fields(start(staff))
    response = staff.post(
        "/hoi-nghi/thong-bao/xem-lai",
        data={**fields, "op": "update"},
        headers={"HX-Request": "true", "HX-Target": "review"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and 'name="draft"' in html


def test_upload_docx(staff, world):
    document = Document()
    for line in SAO_VANG.split("\n"):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    response = staff.post(
        "/hoi-nghi/thong-bao/nhap",
        data={"text": "", "document": (buffer, "tb-07.docx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "07-TB/BCĐ" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": ""}, "Hãy dán nội dung thông báo"),
        ({"text": "Xin chào, đây không phải là một thông báo."}, "Không tìm thấy mục nào"),
        ({"text": "", "document": (b"PK\x03\x04 not really", "fake.docx")}, ".docx"),
        ({"text": "", "document": (b"\x00\x01\x02" * 50, "binary.txt")}, ""),
    ],
)
def test_bad_import_input(staff, world, data, message):
    data = dict(data)
    if "document" in data:
        body, name = data["document"]
        data["document"] = (io.BytesIO(body), name)
    response = staff.post("/hoi-nghi/thong-bao/nhap", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(ConclusionNotice) == 0


def test_tampered_draft_is_400(staff, world):
    response = staff.post("/hoi-nghi/thong-bao/xem-lai", data={"draft": "{not json", "op": "save"})
    assert response.status_code == 400


def test_new_unit_created_once_with_alias(staff, world):
    fields = review_fields(start(staff))
    for key in [k for k in fields if k.endswith("-choice")]:
        fields[key] = "new"
    before = count(Unit)
    response = staff.post("/hoi-nghi/thong-bao/xem-lai", data={**fields, "op": "save"})
    assert response.status_code == 303
    names = [u.name for u in db.session.scalars(select(Unit))]
    assert len(names) == len(set(names)) and count(Unit) > before
