"""``flask portal import-notice FILE [--json] [--dry-run]``."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.meetings import parser
from portal.meetings.parser import parse
from tests.conftest import make_app

NOTICES = Path(__file__).parent / "notices"
SAO_VANG = NOTICES / "sample-thi-tran-sao-vang-2023-07-31.txt"
SCHEMA = json.loads(
    (Path(parser.__file__).parent / "notice.schema.json").read_text(encoding="utf-8")
)


@pytest.fixture
def offline_app(tmp_path):
    """An app whose database cannot be opened: any access would fail loudly."""
    missing = tmp_path / "no-such-dir" / "portal.sqlite3"
    app = make_app(f"sqlite:///{missing}", tmp_path)
    connections = []
    with app.app_context():
        event.listen(db.engine, "connect", lambda *args: connections.append(args))
    app.extensions["test_connections"] = connections
    yield app
    assert connections == [], "the command opened a database connection"
    assert not missing.parent.exists()


def run(app, *args):
    return app.test_cli_runner().invoke(args=["portal", "import-notice", *map(str, args)])


def validate(data: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        data
    )


@pytest.mark.parametrize("path", sorted(NOTICES.glob("*.txt")), ids=lambda p: p.stem)
def test_dry_run_json_prints_one_valid_document(offline_app, path):
    result = run(offline_app, path, "--json", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)  # exactly one JSON document, nothing else
    validate(data)
    assert data == parse(path.read_text(encoding="utf-8")).to_json()
    assert result.stdout == json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def test_dry_run_json_sample_2(offline_app):
    data = json.loads(run(offline_app, SAO_VANG, "--dry-run", "--json").stdout)
    assert data["number"] == "07-TB/BCĐ"
    assert data["issued_on"] == "2023-07-31"
    assert data["meeting_date"] == "2023-07-31"
    assert "Ninh Thị Quỳnh" in run(offline_app, SAO_VANG, "--dry-run", "--json").stdout
    quynh = next(i for i in data["items"] if "Ninh Thị Quỳnh" in i["persons"])
    assert quynh["recurrences"] == [
        {
            "freq": "weekly",
            "weekday": 4,
            "part_of_day": "afternoon",
            "text": "vào chiều thứ Sáu hàng tuần",
        }
    ]


def test_dry_run_docx(offline_app, tmp_path):
    from docx import Document

    document = Document()
    for line in SAO_VANG.read_text(encoding="utf-8").splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    path = tmp_path / "sao-vang.docx"
    path.write_bytes(buffer.getvalue())
    result = run(offline_app, path, "--json", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == parse(SAO_VANG.read_text(encoding="utf-8")).to_json()


def test_dry_run_summary(offline_app):
    result = run(offline_app, SAO_VANG, "--dry-run")
    assert result.exit_code == 0
    assert result.stdout.startswith("Thông báo 07-TB/BCĐ, ngày 31/07/2023")
    assert "14 mục." in result.stdout
    assert "2.3.-1" in result.stdout


def test_without_dry_run_the_notice_is_saved(app, world):
    from sqlalchemy import select

    from portal.meetings.models import ConclusionNotice, Meeting, MeetingKind
    from portal.units.models import Unit

    meeting = Meeting(
        ward=world.ward, kind=MeetingKind.BRIEFING, title="Giao ban", held_on=date(2023, 7, 31)
    )
    db.session.add(meeting)
    db.session.commit()
    result = run(app, SAO_VANG, "--meeting", meeting.id)
    assert result.exit_code == 0, result.output
    assert "Đã lưu thông báo 07-TB/BCĐ" in result.stdout
    notice = db.session.scalar(select(ConclusionNotice))
    assert notice.meeting == meeting and notice.number == "07-TB/BCĐ"
    refs = [i.ref for i in notice.items]
    assert "2.3.-1" in refs and len(refs) == len(set(refs))
    quynh = next(i for i in notice.items if "Ninh Thị Quỳnh" in i.persons)
    assert quynh.recurrences[0]["weekday"] == 4
    # Unknown units named in the notice were created once each.
    names = [u.name for u in db.session.scalars(select(Unit))]
    assert len(names) == len(set(names))
    assert "Công an thị trấn" in names
    missing = run(app, SAO_VANG, "--meeting", 987654)
    assert missing.exit_code != 0 and "Không có hội nghị" in missing.stderr


def test_saving_goes_through_the_given_function(offline_app):
    from portal.cli import import_notice

    saved = []

    def save(notice, text, filename):
        saved.append((notice.number, filename, len(text)))
        return f"Đã lưu {notice.number}."

    with offline_app.app_context():
        import_notice(SAO_VANG, as_json=False, dry_run=False, save=save)
    assert saved == [("07-TB/BCĐ", SAO_VANG.name, len(SAO_VANG.read_text(encoding="utf-8")))]


def _bad(app, path, needle):
    result = run(app, path, "--json", "--dry-run")
    assert result.exit_code != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0]


def test_bad_input(offline_app, tmp_path):
    _bad(offline_app, tmp_path / "khong-co.txt", "Không tìm thấy tệp")

    empty = tmp_path / "rong.txt"
    empty.write_bytes(b"")
    _bad(offline_app, empty, "rỗng")

    binary = tmp_path / "anh.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    _bad(offline_app, binary, "không phải văn bản")

    fake = tmp_path / "gia.docx"
    fake.write_text("THÔNG BÁO\n1. UBND phường làm.", encoding="utf-8")
    _bad(offline_app, fake, "không phải tài liệu Word")

    prose = tmp_path / "thu.txt"
    prose.write_text("Kính gửi anh chị.\nXin cảm ơn.\n", encoding="utf-8")
    _bad(offline_app, prose, "Không tìm thấy mục nào")


def test_dry_run_in_the_regular_app(app):
    """The same through the usual fixture (SQLite and PostgreSQL)."""
    result = app.test_cli_runner().invoke(
        args=["portal", "import-notice", str(SAO_VANG), "--json", "--dry-run"]
    )
    assert result.exit_code == 0, result.stderr
    validate(json.loads(result.stdout))
