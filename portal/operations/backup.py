"""``flask portal backup`` and ``restore``: the database and the uploads in one archive.

The archive is a tar file (gzip-compressed when its name ends in ``.gz`` or ``.tgz``):

- ``database.pgdump``: ``pg_dump --format=custom`` of a PostgreSQL database, or
  ``database.sqlite3``: a copy made with SQLite's online backup API;
- ``uploads/<name>``: every file of the upload store (local folder or S3 bucket);
- ``manifest.json``: what the archive holds, with the SHA-256 and size of every member,
  the row count of every table and the Alembic revision of the schema.

Both database copies are consistent snapshots taken while the portal runs. The database
is copied first and the uploads second: photos are written before their rows commit, so
every file a row of the copy refers to is already in the store when it is listed.

A restore checks every checksum before it changes anything, refuses a database or an
upload store that holds anything unless ``force`` is given, replaces the database in one
transaction (PostgreSQL) or one backup-API copy (SQLite), writes the uploads, and checks
the row counts against the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import MetaData, create_engine, func, select
from sqlalchemy.engine import URL, make_url

from portal.extensions import db
from portal.storage import PARTIAL_SUFFIX, check_name, get_storage
from portal.timeutil import utcnow

FORMAT = "kien-nghi-portal-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
UPLOADS = "uploads/"
DUMP_NAMES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}


class BackupError(RuntimeError):
    """The backup or restore cannot be done; the message says why, in Vietnamese."""


@dataclass
class RestoreResult:
    manifest: dict
    tables: dict[str, int]
    files: int


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for block in iter(lambda: source.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _dialect() -> str:
    name = db.engine.dialect.name
    if name not in DUMP_NAMES:
        raise BackupError(f"Không sao lưu được cơ sở dữ liệu loại “{name}”.")
    return name


def table_counts(connection=None) -> dict[str, int]:
    """Rows per table of the current database, every table it holds (not only ours)."""
    if connection is None:
        with db.engine.connect() as own:
            return table_counts(own)
    meta = MetaData()
    meta.reflect(bind=connection)
    return {
        name: connection.scalar(select(func.count()).select_from(table))
        for name, table in sorted(meta.tables.items())
    }


def _alembic_revision(connection, counts: dict[str, int]) -> str | None:
    if "alembic_version" not in counts:
        return None
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


# --- PostgreSQL tools ---------------------------------------------------------------------


def _tool(name: str) -> str:
    folder = current_app.config.get("PG_BIN_DIR") or ""
    found = shutil.which(name, path=folder or None)
    if not found:
        raise BackupError(
            f"Không tìm thấy chương trình {name} (cài gói postgresql-client hoặc đặt PG_BIN_DIR)."
        )
    return found


def _libpq_env(url: URL) -> dict[str, str]:
    """Connection settings for pg_dump, pg_restore and psql; the password never in argv."""
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value is not None:
            env[key] = str(value)
    for key, value in url.query.items():  # e.g. ?sslmode=require, ?host=/run/postgresql
        libpq = {"sslmode": "PGSSLMODE", "host": "PGHOST", "port": "PGPORT"}.get(key)
        if libpq and isinstance(value, str):
            env[libpq] = value
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} thất bại: {done.stderr.strip()[-2000:]}")


def _dump_postgresql(target: Path) -> tuple[dict[str, int], str | None]:
    """pg_dump of the snapshot in which the rows were counted, so the two agree."""
    options = {"isolation_level": "REPEATABLE READ"}
    with db.engine.connect().execution_options(**options) as connection, connection.begin():
        snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        counts = table_counts(connection)
        revision = _alembic_revision(connection, counts)
        _run(
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                f"--file={target}",
            ],
            _libpq_env(connection.engine.url),
        )
    return counts, revision


def _restore_postgresql(dump: Path, workdir: Path) -> None:
    """Drop every table and load the dump, all in one transaction: all or nothing."""
    url = db.engine.url
    env = _libpq_env(url)
    script = workdir / "restore.sql"
    _run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            f"--file={script}",
            str(dump),
        ],
        env,
    )
    meta = MetaData()
    meta.reflect(bind=db.engine)
    preparer = db.engine.dialect.identifier_preparer
    drops = workdir / "drop.sql"
    drops.write_text(
        "".join(
            f"DROP TABLE IF EXISTS {preparer.format_table(t)} CASCADE;\n"
            for t in meta.tables.values()
        ),
        encoding="utf-8",
    )
    db.session.remove()
    db.engine.dispose()
    # An app server still holding a table would make DROP wait forever: give up instead.
    env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c lock_timeout=30s".strip()
    _run(
        [
            _tool("psql"),
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            f"--file={drops}",
            f"--file={script}",
        ],
        env,
    )


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_path() -> Path:
    database = make_url(str(db.engine.url)).database
    if not database or database == ":memory:":
        raise BackupError("Cơ sở dữ liệu SQLite trong bộ nhớ không sao lưu được.")
    return Path(database)


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy even while others write."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _dump_sqlite(target: Path) -> tuple[dict[str, int], str | None]:
    _copy_sqlite(_sqlite_path(), target)
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            counts = table_counts(connection)
            return counts, _alembic_revision(connection, counts)
    finally:
        engine.dispose()


# --- backup ---------------------------------------------------------------------------------


def default_archive_name() -> str:
    return f"kien-nghi-{utcnow().strftime('%Y%m%d-%H%M%S')}.tar.gz"


def _tar_mode(path: Path, writing: bool) -> str:
    compressed = path.name.endswith((".gz", ".tgz"))
    if writing:
        return "w:gz" if compressed else "w"
    return "r:*"


def create_backup(destination: str | Path) -> tuple[Path, dict]:
    """Write the archive; a folder as ``destination`` gets a dated file name inside it."""
    destination = Path(destination)
    if destination.is_dir():
        destination = destination / default_archive_name()
    if destination.exists():
        raise BackupError(f"Tệp {destination} đã có; chọn tên khác.")
    dialect = _dialect()
    dump_name = DUMP_NAMES[dialect]
    storage = get_storage()
    with tempfile.TemporaryDirectory(prefix="kien-nghi-backup-") as workdir:
        dump = Path(workdir) / dump_name
        dump_database = _dump_postgresql if dialect == "postgresql" else _dump_sqlite
        counts, revision = dump_database(dump)
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "created_at": utcnow().isoformat(timespec="seconds") + "Z",
            "database": {
                "dialect": dialect,
                "file": dump_name,
                "sha256": _sha256_file(dump),
                "size": dump.stat().st_size,
                "alembic_revision": revision,
                "tables": counts,
            },
            "uploads": {"storage": storage.kind, "files": []},
        }
        partial = destination.with_name(destination.name + PARTIAL_SUFFIX)
        try:
            with tarfile.open(partial, _tar_mode(destination, writing=True)) as archive:
                archive.add(dump, arcname=dump_name)
                for item in sorted(storage.list(), key=lambda i: i.name):
                    if item.name.endswith(PARTIAL_SUFFIX):
                        continue  # a write in progress, or left by a crash
                    try:
                        data = storage.read(item.name)
                    except FileNotFoundError:
                        continue  # deleted since it was listed
                    _add_bytes(archive, UPLOADS + item.name, data, item.modified)
                    manifest["uploads"]["files"].append(
                        {
                            "name": UPLOADS + item.name,
                            "sha256": hashlib.sha256(data).hexdigest(),
                            "size": len(data),
                        }
                    )
                body = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
                _add_bytes(archive, MANIFEST, body, utcnow())
            with open(partial, "rb") as written:
                os.fsync(written.fileno())
            os.replace(partial, destination)
        finally:
            partial.unlink(missing_ok=True)
    return destination, manifest


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes, modified: datetime) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(modified.timestamp())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


# --- restore --------------------------------------------------------------------------------


def read_archive(source: str | Path, workdir: Path) -> dict:
    """Unpack into ``workdir`` and check every member against the manifest."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"Không có tệp sao lưu {source}.")
    try:
        with tarfile.open(source, _tar_mode(source, writing=False)) as archive:
            archive.extractall(workdir, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupError(f"Tệp sao lưu {source} hỏng hoặc không đọc được: {error}") from None
    try:
        manifest = json.loads((workdir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BackupError(f"Tệp {source} không có bản kê (manifest.json) hợp lệ.") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise BackupError(f"Tệp {source} không phải bản sao lưu của cổng kiến nghị.")
    for member in manifest["uploads"]["files"]:
        name = member.get("name", "")
        try:
            check_name(name.removeprefix(UPLOADS))
        except FileNotFoundError:
            raise BackupError(f"Bản kê có tên tệp không hợp lệ: {name!r}.") from None
        if not name.startswith(UPLOADS):
            raise BackupError(f"Bản kê có tên tệp không hợp lệ: {name!r}.")
    expected = [
        {k: manifest["database"][k] for k in ("sha256", "size")}
        | {"name": manifest["database"]["file"]},
        *manifest["uploads"]["files"],
    ]
    bad = []
    for member in expected:
        path = workdir / member["name"]
        if (
            not path.is_file()
            or path.stat().st_size != member["size"]
            or _sha256_file(path) != member["sha256"]
        ):
            bad.append(member["name"])
    if bad:
        raise BackupError(
            f"Tệp sao lưu không khớp mã kiểm tra ({len(bad)} tệp, ví dụ {bad[0]}); không khôi phục."
        )
    return manifest


def holdings() -> tuple[dict[str, int], int]:
    """(non-empty tables, files in the upload store) of what a restore would replace."""
    counts = {n: c for n, c in table_counts().items() if c and n != "alembic_version"}
    files = sum(1 for item in get_storage().list() if not item.name.endswith(PARTIAL_SUFFIX))
    return counts, files


def restore_backup(source: str | Path, *, force: bool = False) -> RestoreResult:
    dialect = _dialect()
    storage = get_storage()
    with tempfile.TemporaryDirectory(prefix="kien-nghi-restore-") as tmp:
        workdir = Path(tmp)
        manifest = read_archive(source, workdir)
        if manifest["database"]["dialect"] != dialect:
            raise BackupError(
                f"Bản sao lưu là của {manifest['database']['dialect']}, "
                f"cơ sở dữ liệu hiện tại là {dialect}."
            )
        tables, files = holdings()
        if (tables or files) and not force:
            rows = sum(tables.values())
            raise BackupError(
                f"Cơ sở dữ liệu đang có {rows} dòng trong {len(tables)} bảng và kho tệp có "
                f"{files} tệp; thêm --force để thay toàn bộ bằng bản sao lưu."
            )
        dump = workdir / manifest["database"]["file"]
        if dialect == "postgresql":
            _restore_postgresql(dump, workdir)
        else:
            db.session.remove()
            db.engine.dispose()
            _copy_sqlite(dump, _sqlite_path())
        db.engine.dispose()
        wanted = {m["name"][len(UPLOADS) :] for m in manifest["uploads"]["files"]}
        for item in list(storage.list()):
            if item.name not in wanted:
                storage.delete(item.name)
        for member in manifest["uploads"]["files"]:
            storage.save(member["name"][len(UPLOADS) :], (workdir / member["name"]).read_bytes())
    counts = table_counts()
    if counts != manifest["database"]["tables"]:
        differing = sorted(
            n
            for n in set(counts) | set(manifest["database"]["tables"])
            if counts.get(n) != manifest["database"]["tables"].get(n)
        )
        raise BackupError(f"Số dòng sau khi khôi phục không khớp bản kê: {', '.join(differing)}.")
    return RestoreResult(manifest, counts, len(manifest["uploads"]["files"]))
