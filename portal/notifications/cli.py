"""``flask portal worker``, ``digest`` and ``deadlines``, added to the ``portal`` group."""

from __future__ import annotations

import click
from flask import current_app

from portal.extensions import db


@click.command("worker")
@click.option("--once", is_flag=True, help="Gửi một lượt thư đến hạn rồi dừng.")
@click.option("--batch", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option(
    "--interval", default=5.0, show_default=True, type=float, help="Số giây chờ khi hàng đợi trống."
)
def worker_command(once, batch, interval):
    """Gửi thư trong hàng đợi (dừng gọn khi nhận SIGTERM/SIGINT)."""
    from portal.notifications.worker import Worker

    worker = Worker(current_app._get_current_object(), batch=batch, poll_interval=interval)
    worker.install_signal_handlers()
    click.echo(f"Gửi thư: {current_app.config['MAIL_SERVER']}:{current_app.config['MAIL_PORT']}")
    total = worker.run(once=once)
    click.echo(
        f"Đã gửi {total.sent}, thử lại sau {total.retried}, thất bại {total.failed}."
        + (" Đã dừng theo yêu cầu." if worker.stopping else "")
    )


@click.command("digest")
@click.option("--weekly", is_flag=True, required=True, help="Thư tổng hợp 7 ngày qua.")
def digest_command(weekly):
    """Xếp hàng thư tổng hợp hằng tuần cho cán bộ (mỗi tuần một lần).

    Chỉ phường/xã của cổng này (PORTAL_WARD_CODE): kiến nghị của phường/xã đó, gửi cho
    cán bộ của phường/xã đó; đường dẫn trong thư về cổng này. Mỗi phường/xã chạy lệnh ở
    cổng của mình."""
    from portal.cli import deployment_ward
    from portal.notifications.digest import queue_weekly

    deployment_ward()
    count = queue_weekly()
    db.session.commit()
    click.echo(f"Đã xếp hàng {count} thư tổng hợp tuần.")


@click.command("deadlines")
def deadlines_command():
    """Nhắc hạn: kiến nghị sắp đến hạn, quá hạn; báo cáo quá hạn cho phường (chạy hằng ngày).

    Chỉ phường/xã của cổng này (PORTAL_WARD_CODE): kiến nghị và mục thông báo kết luận
    của phường/xã đó, gửi cho cán bộ của phường/xã đó; đường dẫn trong thư về cổng này.
    Mỗi phường/xã chạy lệnh ở cổng của mình."""
    from portal.cli import deployment_ward
    from portal.notifications.deadlines import queue_deadline_alerts

    deployment_ward()
    run = queue_deadline_alerts()
    db.session.commit()
    click.echo(run.summary)


COMMANDS = (worker_command, digest_command, deadlines_command)
