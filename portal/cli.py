"""``flask portal …``: the commands staff and operators run."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from portal.accounts.models import Role
from portal.extensions import db

portal_cli = AppGroup("portal", help="Lệnh quản trị cổng kiến nghị.")


@portal_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--unit", "unit_name", default=None, help="Tên đơn vị (bắt buộc với unit_staff).")
@click.password_option("--password", help="Ít nhất 10 ký tự.")
def create_user_command(email, full_name, role, unit_name, password):
    """Tạo tài khoản cán bộ."""
    from portal.accounts.services import AccountError, create_user
    from portal.units.models import Unit

    unit = None
    if unit_name:
        unit = db.session.scalar(select(Unit).where(Unit.name == unit_name))
        if unit is None:
            raise click.ClickException(f"Không có đơn vị tên “{unit_name}”.")
    try:
        user = create_user(
            email=email, full_name=full_name, password=password, role=Role(role), unit=unit
        )
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"Đã tạo tài khoản {user.email} ({user.role.value}).")


@portal_cli.command("seed-demo")
@click.option("--force", is_flag=True, help="Cho phép chạy ở chế độ production.")
def seed_demo_command(force):
    """Nạp dữ liệu mẫu: Phường Dương Nội, tổ dân phố, đơn vị, tài khoản, kiến nghị."""
    from portal import demo

    if current_app.config["PORTAL_ENV"] == "production" and not force:
        raise click.ClickException("Không nạp dữ liệu mẫu ở chế độ production (dùng --force).")
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


def register(app: Flask) -> None:
    app.cli.add_command(portal_cli)
