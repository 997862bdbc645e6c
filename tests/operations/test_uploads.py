"""``flask portal clean-uploads``: files no row refers to go, after a grace period."""

from __future__ import annotations

import io
import os
import re
import time

from PIL import Image
from sqlalchemy import select

from portal.extensions import db
from portal.petitions.models import Petition
from tests import factories


def filed_with_photo(client, world) -> Petition:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(out, format="JPEG")
    lat, lon = factories.INSIDE_WEST
    response = client.post(
        "/kien-nghi/moi",
        data={
            "category_id": str(world.categories["ve-sinh-moi-truong"].id),
            "title": "Rác đầu ngõ",
            "description": "Rác thải đổ thành đống.",
            "latitude": str(lat),
            "longitude": str(lon),
            "photos": [(io.BytesIO(out.getvalue()), "anh.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    token = re.search(r"/cua-toi/([^?]+)", response.headers["Location"]).group(1)
    return db.session.scalar(select(Petition).where(Petition.private_token == token))


def age(path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_orphans_older_than_the_grace_period_are_removed(app, client, world, tmp_path):
    petition = filed_with_photo(client, world)
    [photo] = petition.photos
    folder = tmp_path / "uploads"
    for name in (photo.stored_name, photo.thumb_name):
        age(folder / name, 5)  # old, but in use: kept
    (folder / "0ld0rphan.jpg").write_bytes(b"left by a crash")
    age(folder / "0ld0rphan.jpg", 2)
    (folder / "c0ffee.part").write_bytes(b"half written")
    age(folder / "c0ffee.part", 2)
    (folder / "n3w0rphan.jpg").write_bytes(b"a request still in progress")

    runner = app.test_cli_runner()
    dry = runner.invoke(args=["portal", "clean-uploads", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Sẽ xoá 2 tệp không dùng đến; giữ 2 tệp đang dùng và 1 tệp mới ghi." in dry.output
    assert (folder / "0ld0rphan.jpg").exists()

    result = runner.invoke(args=["portal", "clean-uploads"])
    assert result.exit_code == 0, result.output
    assert "Đã xoá 2 tệp không dùng đến; giữ 2 tệp đang dùng và 1 tệp mới ghi." in result.output
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [photo.stored_name, photo.thumb_name, "n3w0rphan.jpg"]
    )
    assert client.get(f"/anh/{photo.id}?t={petition.private_token}").status_code == 200


def test_a_row_whose_file_is_gone_is_reported(app, client, world, tmp_path):
    petition = filed_with_photo(client, world)
    [photo] = petition.photos
    (tmp_path / "uploads" / photo.thumb_name).unlink()
    result = app.test_cli_runner().invoke(args=["portal", "clean-uploads"])
    assert result.exit_code == 1
    assert f"Thiếu tệp: {photo.thumb_name}" in result.output
    assert "1 tệp được tham chiếu nhưng không còn" in result.output
