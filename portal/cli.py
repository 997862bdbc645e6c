"""``flask portal …``: the commands staff and operators run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from portal.accounts.models import Role
from portal.extensions import db

portal_cli = AppGroup("portal", help="Lệnh quản trị cổng kiến nghị.")


def deployment_ward():
    """The ward this deployment serves (``PORTAL_WARD_CODE``); commands that read or write
    a ward's data act on it alone. Missing: a clear message and a non-zero exit."""
    from portal.units.services import current_ward

    ward = current_ward()
    if ward is None:
        raise click.ClickException(
            f"Chưa có phường/xã mã “{current_app.config['PORTAL_WARD_CODE']}” "
            "(PORTAL_WARD_CODE); hãy chạy `flask portal setup-ward` trước."
        )
    return ward


@portal_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option(
    "--unit",
    "unit_name",
    default=None,
    help="Tên đơn vị (bắt buộc với unit_staff): của phường/xã của tài khoản, hoặc không "
    "thuộc phường/xã nào.",
)
@click.option(
    "--ward",
    "ward_code",
    default=None,
    help="Mã phường/xã của cán bộ (mặc định PORTAL_WARD_CODE, phường/xã của cổng này).",
)
@click.password_option("--password", help="Ít nhất 10 ký tự.")
def create_user_command(email, full_name, role, unit_name, ward_code, password):
    """Tạo tài khoản cán bộ."""
    from portal.accounts.services import AccountError, create_user
    from portal.units.models import Unit, Ward

    # Every new account belongs to a ward: it can log in only on that ward's portal.
    ward_code = (ward_code or current_app.config["PORTAL_WARD_CODE"]).strip()
    ward = db.session.scalar(select(Ward).where(Ward.code == ward_code))
    if ward is None:
        raise click.ClickException(
            f"Chưa có phường/xã mã “{ward_code}”; hãy chạy `flask portal setup-ward` trước."
        )
    unit = None
    if unit_name:
        # Each ward has its own "Công an Phường": the account's ward's, or one of no ward.
        named = list(db.session.scalars(select(Unit).where(Unit.name == unit_name)))
        unit = next((u for u in named if u.ward_id == ward.id), None) or next(
            (u for u in named if u.ward_id is None), None
        )
        if unit is None and named:
            raise click.ClickException(
                f"Đơn vị “{unit_name}” thuộc phường/xã khác, không phải {ward.name}: "
                "tài khoản chỉ gắn được với đơn vị của phường/xã mình hoặc đơn vị không "
                "thuộc phường/xã nào."
            )
        if unit is None:
            raise click.ClickException(f"Không có đơn vị tên “{unit_name}”.")
    try:
        user = create_user(
            email=email,
            full_name=full_name,
            password=password,
            role=Role(role),
            unit=unit,
            ward=ward,
        )
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"Đã tạo tài khoản {user.email} ({user.role.value}, {ward.name}).")


@portal_cli.command("seed-demo")
@click.option("--force", is_flag=True, help="Cho phép chạy ở chế độ production.")
def seed_demo_command(force):
    """Nạp dữ liệu mẫu: Phường Dương Nội, tổ dân phố, đơn vị, tài khoản, kiến nghị."""
    from portal import demo

    if current_app.config["PORTAL_ENV"] == "production" and not force:
        raise click.ClickException("Không nạp dữ liệu mẫu ở chế độ production (dùng --force).")
    from portal.notifications.services import notifications_suppressed

    with notifications_suppressed():  # the demo's invented history sends no e-mail
        result = demo.seed()
    db.session.commit()
    click.echo(f"Dữ liệu mẫu: {result['ward']}, {result['petitions_created']} kiến nghị mới.")
    click.echo(f"Tài khoản mẫu (mật khẩu: {demo.DEMO_PASSWORD}):")
    for email, name, role, _unit in result["accounts"]:
        click.echo(f"  {role.value:<11} {email:<28} {name}")


@portal_cli.command("setup-ward")
@click.option("--code", default=None, help="Mã phường/xã chính thức (mặc định PORTAL_WARD_CODE).")
def setup_ward_command(code):
    """Tạo phường/xã từ danh mục hành chính quốc gia (sau 01/7/2025)."""
    from portal.units.services import UnknownWardCode, ward_from_registry

    code = code or current_app.config["PORTAL_WARD_CODE"]
    try:
        ward = ward_from_registry(code)
    except UnknownWardCode:
        raise click.ClickException(f"Không có phường/xã nào mang mã “{code}”.") from None
    db.session.commit()
    click.echo(f"{ward.name}, {ward.province_name} (mã {ward.code}).")


# Saving an imported notice: ``save(notice, text, filename)`` writes it and returns a
# one-line confirmation.
NoticeSaver = Callable[..., str]


def _notice_saver(meeting_id: int | None) -> NoticeSaver:
    """Save without the review screen: known units are matched, unknown ones created."""

    def save(notice, text: str, filename: str) -> str:
        from portal.meetings import services
        from portal.meetings.models import Meeting

        ward = deployment_ward()
        meeting = None
        if meeting_id is not None:
            meeting = db.session.get(Meeting, meeting_id)
            if meeting is None or meeting.ward_id != ward.id:
                raise click.ClickException(f"Không có hội nghị số {meeting_id} của {ward.name}.")
        draft = services.draft_from_parsed(notice.to_json(), text, filename)
        for item in draft.items:
            for unit in item.units:
                unit.choice = unit.choice or "new"
        try:
            saved = services.save_notice(draft, None, meeting, ward=ward)
        except services.MeetingError as error:
            db.session.rollback()
            raise click.ClickException(str(error.message)) from None
        db.session.commit()
        return f"Đã lưu thông báo {saved.number or saved.title} với {len(saved.items)} mục."

    return save


@portal_cli.command("import-notice")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="In kết quả phân tích dạng JSON.")
@click.option("--dry-run", is_flag=True, help="Chỉ phân tích, không ghi vào cơ sở dữ liệu.")
@click.option(
    "--meeting",
    "meeting_id",
    type=int,
    default=None,
    help="Gắn với hội nghị số … (của phường/xã của cổng này).",
)
def import_notice_command(file, as_json, dry_run, meeting_id):
    """Đọc thông báo kết luận (.docx hoặc .txt) và tách thành các mục.

    Thông báo được lưu là của phường/xã của cổng này (PORTAL_WARD_CODE); đơn vị được
    nhận ra trong số đơn vị của phường/xã đó và đơn vị không thuộc phường/xã nào."""
    import_notice(file, as_json=as_json, dry_run=dry_run, save=_notice_saver(meeting_id))


def import_notice(
    path: Path, *, as_json: bool, dry_run: bool, save: NoticeSaver | None = None
) -> None:
    """Read and parse ``path``; print the result (``dry_run``) or hand it to ``save``."""
    from portal.meetings.documents import DocumentError, read_text
    from portal.meetings.parser import parse

    try:
        text = read_text(path, path.name)
    except DocumentError as error:
        raise click.ClickException(error.message) from None
    notice = parse(text)
    if not notice.items:
        raise click.ClickException(
            f"Không tìm thấy mục nào (1., (1), a), -) trong “{path.name}”: "
            "đây có phải thông báo kết luận không?"
        )
    if not dry_run:
        if save is None:
            raise click.ClickException("Không có cách lưu thông báo; dùng --dry-run.")
        click.echo(save(notice, text, path.name))
        return
    if as_json:
        click.echo(json.dumps(notice.to_json(), ensure_ascii=False, indent=2))
        return
    _echo_notice_summary(notice)


def _echo_notice_summary(notice) -> None:
    issued = f", ngày {notice.issued_on:%d/%m/%Y}" if notice.issued_on else ""
    click.echo(f"Thông báo {notice.number or '(không số)'}{issued}: {notice.title}")
    click.echo(f"{len(notice.items)} mục.")
    for item in notice.items:
        parts = [", ".join(f"{u.name} ({u.role})" for u in item.units)]
        parts += [", ".join(item.persons)]
        parts += [", ".join(f"{d.date:%d/%m/%Y} ({d.kind})" for d in item.deadlines)]
        parts += [", ".join(r.freq for r in item.recurrences)]
        click.echo(f"  {item.ref:<10} " + " | ".join(p for p in parts if p))


@portal_cli.command("close-expired")
def close_expired_command():
    """Đóng các kiến nghị đã giải quyết mà hết thời gian đánh giá (chạy hằng ngày).

    Chỉ kiến nghị của phường/xã của cổng này (PORTAL_WARD_CODE): mỗi phường/xã chạy lệnh
    ở cổng của mình, để thư báo cho người dân dẫn về đúng cổng."""
    from portal.monitoring.services import close_expired

    deployment_ward()
    closed = close_expired()
    db.session.commit()
    click.echo(f"Đã đóng {len(closed)} kiến nghị hết thời gian đánh giá.")


calendar_cli = AppGroup(
    "calendar",
    help="Ngày làm bù, ngày nghỉ thêm: của phường/xã của cổng này, hoặc của mọi phường/xã "
    "(--all-wards).",
)


def _parse_day(value: str):
    from portal.timeutil import parse_date

    try:
        day = parse_date(value)
    except ValueError:
        day = None
    if day is None:
        raise click.BadParameter(f"“{value}” không phải ngày (dd/mm/yyyy hoặc yyyy-mm-dd).")
    return day


_ALL_WARDS = click.option(
    "--all-wards",
    is_flag=True,
    help="Cho mọi phường/xã trong cơ sở dữ liệu (phường/xã vẫn có thể điều chỉnh riêng).",
)


def _whose(all_wards: bool) -> str:
    return "mọi phường/xã" if all_wards else deployment_ward().name


@calendar_cli.command("list")
@click.option("--year", type=int, help="Chỉ năm này.")
def calendar_list_command(year):
    """Liệt kê các điều chỉnh: của phường/xã này và của mọi phường/xã."""
    from portal.monitoring.services import list_overrides

    ward = deployment_ward()
    own, city = list_overrides(year)
    for title, rows in ((ward.name, own), ("Mọi phường/xã", city)):
        click.echo(f"{title}:")
        for row in rows:
            kind = "làm việc" if row.is_working else "nghỉ"
            note = f" ({row.note})" if row.note else ""
            click.echo(f"  {row.day:%d/%m/%Y} {kind}{note}")
        if not rows:
            click.echo("  (không có)")


@calendar_cli.command("set")
@click.argument("day")
@click.option("--working/--off", "is_working", required=True, help="Ngày làm việc hoặc nghỉ.")
@click.option("--note", default="", help="Căn cứ, ví dụ số văn bản.")
@_ALL_WARDS
def calendar_set_command(day, is_working, note, all_wards):
    """Đặt DAY (dd/mm/yyyy) là ngày làm việc (--working) hoặc ngày nghỉ (--off)."""
    from portal.monitoring.services import set_override

    when = _parse_day(day)
    whose = _whose(all_wards)
    set_override(when, is_working, note, every_ward=all_wards)
    db.session.commit()
    kind = "ngày làm việc" if is_working else "ngày nghỉ"
    click.echo(f"{when:%d/%m/%Y} là {kind} của {whose}.")


@calendar_cli.command("delete")
@click.argument("day")
@_ALL_WARDS
def calendar_delete_command(day, all_wards):
    """Xóa điều chỉnh của DAY (dd/mm/yyyy)."""
    from portal.monitoring.services import delete_override

    when = _parse_day(day)
    whose = _whose(all_wards)
    if not delete_override(when, every_ward=all_wards):
        raise click.ClickException(f"{whose} không có điều chỉnh ngày {when:%d/%m/%Y}.")
    db.session.commit()
    click.echo(f"Đã xóa điều chỉnh ngày {when:%d/%m/%Y} của {whose}.")


def register(app: Flask) -> None:
    from portal.api.cli import api_key_cli
    from portal.notifications.cli import COMMANDS as notification_commands
    from portal.operations.cli import COMMANDS as operation_commands
    from portal.privacy.cli import COMMANDS as privacy_commands

    portal_cli.add_command(api_key_cli)
    portal_cli.add_command(calendar_cli)  # flask portal calendar list, set, delete
    for command in notification_commands:  # flask portal worker, flask portal digest
        portal_cli.add_command(command)
    for command in operation_commands:  # flask portal backup, restore, clean-uploads
        portal_cli.add_command(command)
    for command in privacy_commands:  # flask portal anonymise-expired
        portal_cli.add_command(command)
    app.cli.add_command(portal_cli)
