"""``flask portal clean-uploads``, added to the ``portal`` group."""

from __future__ import annotations

from datetime import timedelta

import click


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


COMMANDS = [clean_uploads_command]
