"""``flask portal anonymise-expired``: erase personal data at the end of the retention period."""

from __future__ import annotations

import click
from flask import current_app

from portal.extensions import db


@click.command("anonymise-expired")
@click.option("--dry-run", is_flag=True, help="Chỉ đếm, không xóa gì.")
@click.option(
    "--all-wards",
    is_flag=True,
    help="Mọi phường/xã trong cơ sở dữ liệu (mặc định chỉ PORTAL_WARD_CODE).",
)
def anonymise_expired_command(dry_run, all_wards):
    """Xóa thông tin cá nhân của kiến nghị đã kết thúc quá thời hạn lưu trữ (chạy hằng ngày)."""
    from portal.privacy import services
    from portal.timeutil import utcnow
    from portal.units.services import current_ward

    ward = None
    if not all_wards:
        ward = current_ward()
        if ward is None:
            raise click.ClickException(
                f"Chưa có phường/xã mã “{current_app.config['PORTAL_WARD_CODE']}”; "
                "chạy `flask portal setup-ward` hoặc dùng --all-wards."
            )
    ward_id = ward.id if ward is not None else None

    try:
        days = services.retention_days()
    except ValueError:
        raise click.ClickException(
            "PERSONAL_DATA_RETENTION_DAYS phải là số ngày lớn hơn 0."
        ) from None
    now = utcnow()
    if dry_run:
        total = services.preview_expired(now, days, ward_id)
        db.session.rollback()
        click.echo(f"Chạy thử, không xóa gì. {_where(ward)}, thời hạn lưu trữ {days} ngày.")
        _echo(total, "Sẽ xóa")
        for code in total.codes:
            click.echo(f"  {code}")
        return
    total = services.Erasure()
    while True:
        batch = services.anonymise_batch(now, days, ward_id)
        db.session.commit()
        if not batch.petitions:
            break
        total.add(batch)
    click.echo(f"{_where(ward)}, thời hạn lưu trữ {days} ngày.")
    _echo(total, "Đã xóa")


def _where(ward) -> str:
    return ward.name if ward is not None else "Mọi phường/xã"


def _echo(total, verb: str) -> None:
    click.echo(f"{verb} thông tin cá nhân của {total.petitions} kiến nghị:")
    click.echo(f"  người kiến nghị còn thông tin liên hệ: {total.petitioners}")
    click.echo(f"  người cùng kiến nghị: {total.co_signers}")
    click.echo(f"  người theo dõi: {total.follows}")
    click.echo(
        f"  thư (địa chỉ và nội dung): {total.notifications}, trong đó đang chờ gửi: "
        f"{total.cancelled}"
    )
    click.echo(f"  yêu cầu ngừng nhận thư: {total.opt_outs}")


COMMANDS = [anonymise_expired_command]
