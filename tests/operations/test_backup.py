"""``flask portal backup`` and ``restore``: a round trip keeps every row and every file."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import uuid

import pytest

from portal.operations.backup import table_counts
from portal.storage import LocalStorage
from tests import factories
from tests.conftest import PG_ADMIN_URL, _pg_admin_connect, make_app
from tests.operations.test_uploads import filed_with_photo


@pytest.fixture
def empty_database(backend, tmp_path):
    """A second, empty database of the same kind to restore into."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"portal_restore_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with _pg_admin_connect() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with _pg_admin_connect() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_in(app, *args: str):
    """``flask portal …`` against ``app``: the fixture's app context would win otherwise."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=["portal", *args])


def checksums(folder) -> dict[str, str]:
    return {
        item.name: hashlib.sha256((folder / item.name).read_bytes()).hexdigest()
        for item in LocalStorage(folder).list()
    }


def some_history(app, client, world) -> None:
    for _ in range(3):
        filed_with_photo(client, world)
    petition = factories.file(world, petitioner_email="nguoidan@example.vn")
    factories.assign(world, petition)


def test_a_backup_restored_into_an_empty_database_has_every_row_and_file(
    app, client, world, tmp_path, empty_database
):
    some_history(app, client, world)
    rows_before = table_counts()
    files_before = checksums(tmp_path / "uploads")
    assert rows_before["petition"] == 4 and len(files_before) == 6

    archive = tmp_path / "sao-luu.tar.gz"
    made = app.test_cli_runner().invoke(args=["portal", "backup", str(archive)])
    assert made.exit_code == 0, made.output
    assert f"Đã sao lưu vào {archive}" in made.output and "6 tệp" in made.output
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        for member in manifest["uploads"]["files"]:
            data = tar.extractfile(member["name"]).read()
            assert hashlib.sha256(data).hexdigest() == member["sha256"]
    assert manifest["database"]["tables"] == rows_before

    target = make_app(empty_database, tmp_path / "restored")
    restored = run_in(target, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert "số dòng khớp bản kê" in restored.output
    with target.app_context():
        assert table_counts() == rows_before
    assert checksums(tmp_path / "restored" / "uploads") == files_before

    # A second restore over the data just restored: refused without --force.
    again = run_in(target, "restore", str(archive))
    assert again.exit_code == 1
    assert "thêm --force" in again.output
    forced = run_in(target, "restore", "--force", str(archive))
    assert forced.exit_code == 0, forced.output
    with target.app_context():
        assert table_counts() == rows_before


def test_force_replaces_what_is_there_rows_and_files(app, client, world, tmp_path):
    some_history(app, client, world)
    rows_before = table_counts()
    files_before = checksums(tmp_path / "uploads")
    archive = tmp_path / "sao-luu.tar"
    assert app.test_cli_runner().invoke(args=["portal", "backup", str(archive)]).exit_code == 0

    filed_with_photo(client, world)  # after the backup: must be gone after the restore
    (tmp_path / "uploads" / "khac.jpg").write_bytes(b"not in the backup")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["portal", "restore", str(archive)])
    assert refused.exit_code == 1 and "thêm --force" in refused.output
    assert table_counts()["petition"] == rows_before["petition"] + 1  # nothing changed

    result = runner.invoke(args=["portal", "restore", "--force", str(archive)])
    assert result.exit_code == 0, result.output
    assert table_counts() == rows_before
    assert checksums(tmp_path / "uploads") == files_before


def tampered(archive, target, change) -> None:
    with tarfile.open(archive) as source, tarfile.open(target, "w:gz") as out:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            data = change(member.name, data)
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))


def test_a_damaged_archive_is_refused_before_anything_changes(
    app, client, world, tmp_path, empty_database
):
    some_history(app, client, world)
    archive = tmp_path / "sao-luu.tar.gz"
    assert app.test_cli_runner().invoke(args=["portal", "backup", str(archive)]).exit_code == 0
    damaged = tmp_path / "hong.tar.gz"

    def flip_a_photo(name, data):
        return data[:-1] + bytes([data[-1] ^ 1]) if name.endswith(".thumb.jpg") else data

    tampered(archive, damaged, flip_a_photo)
    target = make_app(empty_database, tmp_path / "restored")
    result = run_in(target, "restore", str(damaged))
    assert result.exit_code == 1
    assert "không khớp mã kiểm tra" in result.output
    with target.app_context():
        assert table_counts() == {}
    assert not (tmp_path / "restored" / "uploads").exists()

    not_ours = tmp_path / "khac.tar.gz"
    tampered(archive, not_ours, lambda name, data: b"{}" if name == "manifest.json" else data)
    result = run_in(target, "restore", str(not_ours))
    assert result.exit_code == 1
    assert "không phải bản sao lưu của cổng kiến nghị" in result.output


def test_backup_into_a_folder_names_the_file_by_date(app, world, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    result = app.test_cli_runner().invoke(args=["portal", "backup", str(folder)])
    assert result.exit_code == 0, result.output
    [made] = folder.iterdir()
    assert made.name.startswith("kien-nghi-") and made.name.endswith(".tar.gz")
    again = app.test_cli_runner().invoke(args=["portal", "backup", str(made)])
    assert again.exit_code == 1 and "đã có" in again.output
