"""``flask portal api-key create|list|revoke``: Open311 keys from the command line."""

from __future__ import annotations

import click

from portal.extensions import db

api_key_cli = click.Group(
    "api-key",
    help="Khóa API Open311 của các hệ thống khác, của phường/xã của cổng này "
    "(PORTAL_WARD_CODE): khóa của phường/xã khác không nộp được kiến nghị ở đây.",
)


@api_key_cli.command("create")
@click.argument("name")
@click.option("--contact", default=None, help="Người hoặc đơn vị liên hệ.")
@click.option("--rate-limit", default=None, help="Ví dụ 60/hour (mặc định 60/hour).")
@click.option("--requires-acceptance", is_flag=True, help="Trả token; cán bộ tiếp nhận trước.")
def create_command(name, contact, rate_limit, requires_acceptance):
    """Cấp khóa mới cho phường/xã của cổng này (PORTAL_WARD_CODE) và in ra một lần duy nhất."""
    from portal.api import services
    from portal.cli import deployment_ward

    rate_limit = rate_limit or services.DEFAULT_RATE_LIMIT
    if not services.valid_rate_limit(rate_limit):
        raise click.BadParameter("ví dụ 60/hour, 500/day", param_hint="--rate-limit")
    client, key = services.issue_key(
        name,
        contact=contact,
        rate_limit=rate_limit,
        requires_acceptance=requires_acceptance,
        ward=deployment_ward(),
    )
    db.session.commit()
    click.echo(f"Đã cấp khóa cho {client.name} (số {client.id}). Khóa, chỉ hiện lần này:")
    click.echo(key)


@api_key_cli.command("list")
def list_command():
    """Liệt kê các hệ thống được cấp khóa của phường/xã của cổng này (PORTAL_WARD_CODE)."""
    from portal.api import services

    for client in services.clients():
        state = "đang dùng" if client.is_active else "đã thu hồi"
        key = f"{client.key_prefix}…"
        click.echo(f"{client.id:>4}  {key}  {client.rate_limit:<12} {state:<11} {client.name}")


@api_key_cli.command("revoke")
@click.argument("client_id", type=int)
def revoke_command(client_id):
    """Thu hồi khóa của hệ thống số CLIENT_ID (của phường/xã của cổng này)."""
    from portal.api import services
    from portal.cli import deployment_ward

    ward = deployment_ward()
    client = services.get_client(client_id)
    if client is None:
        raise click.ClickException(f"Không có hệ thống số {client_id} của {ward.name}.")
    services.revoke(client)
    db.session.commit()
    click.echo(f"Đã thu hồi khóa của {client.name}.")
