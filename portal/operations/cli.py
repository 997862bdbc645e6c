"""``flask portal backup``, ``restore`` and ``clean-uploads``, added to the ``portal`` group."""

from __future__ import annotations

from datetime import timedelta

import click

from portal.extensions import db


@click.command("backup")
@click.argument("destination", type=click.Path(dir_okay=True, writable=True))
def backup_command(destination):
    """Sao lưu cơ sở dữ liệu và tệp tải lên vào một tệp (.tar.gz) có bản kê mã kiểm tra.

    DESTINATION là tên tệp, hoặc một thư mục (tên tệp theo ngày giờ).
    """
    from portal.operations.backup import BackupError, create_backup

    try:
        path, manifest = create_backup(destination)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    tables = manifest["database"]["tables"]
    click.echo(
        f"Đã sao lưu vào {path}: {sum(tables.values())} dòng trong {len(tables)} bảng "
        f"({manifest['database']['dialect']}), {len(manifest['uploads']['files'])} tệp."
    )


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--force", is_flag=True, help="Thay cả khi cơ sở dữ liệu hoặc kho tệp đang có dữ liệu."
)
def restore_command(source, force):
    """Khôi phục từ một bản sao lưu sau khi kiểm tra mã kiểm tra của mọi tệp.

    Dừng các tiến trình ứng dụng và worker trước khi khôi phục.
    """
    from portal.operations.backup import BackupError, restore_backup

    try:
        result = restore_backup(source, force=force)
    except BackupError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    database = result.manifest["database"]
    click.echo(
        f"Đã khôi phục bản sao lưu lúc {result.manifest['created_at']}: "
        f"{sum(result.tables.values())} dòng trong {len(result.tables)} bảng, "
        f"{result.files} tệp; số dòng khớp bản kê."
    )
    if database.get("alembic_revision"):
        click.echo(
            f"Phiên bản lược đồ: {database['alembic_revision']} "
            "(chạy `flask db upgrade` nếu mã nguồn mới hơn)."
        )


@click.command("clean-uploads")
@click.option(
    "--grace-minutes",
    default=60,
    show_default=True,
    type=click.IntRange(0),
    help="Chỉ xoá tệp không dùng đến cũ hơn chừng này (lâu hơn mọi yêu cầu).",
)
@click.option("--dry-run", is_flag=True, help="Chỉ liệt kê, không xoá.")
def clean_uploads_command(grace_minutes, dry_run):
    """Xoá tệp tải lên không còn dòng nào tham chiếu (để lại sau sự cố); báo tệp bị thiếu."""
    from portal.operations.uploads import clean_orphans

    check = clean_orphans(timedelta(minutes=grace_minutes), dry_run=dry_run)
    verb = "Sẽ xoá" if dry_run else "Đã xoá"
    click.echo(
        f"{verb} {len(check.removed)} tệp không dùng đến; giữ {check.kept} tệp đang dùng"
        f" và {len(check.recent_orphans)} tệp mới ghi."
    )
    if check.missing:
        for name in check.missing:
            click.echo(f"Thiếu tệp: {name}", err=True)
        raise click.ClickException(f"{len(check.missing)} tệp được tham chiếu nhưng không còn.")


COMMANDS = [backup_command, restore_command, clean_uploads_command]
