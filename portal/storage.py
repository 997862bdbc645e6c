"""Where uploaded files live: a local folder by default, any S3-compatible store by setting.

Every upload (today: the re-encoded photos and their thumbnails) goes through the
:class:`Storage` of the application, ``current_app.extensions["storage"]``, so that
several app servers can share one store. Names are ours (uuid hex plus a suffix), never
a user's file name; both backends refuse anything else.

A file is written completely and durably before the database row that refers to it is
committed (the local backend writes a temporary file, fsyncs it and renames it; an S3
``PUT`` is durable when it returns). A crash between the two leaves a file that nothing
refers to, which ``flask portal clean-uploads`` removes later: see docs/production.md.
"""

from __future__ import annotations

import io
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import Response, current_app, send_file

# Ours: letters, digits, dot, dash, underscore; no leading dot, no path separators.
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}")
PARTIAL_SUFFIX = ".part"


def check_name(name: str) -> str:
    """The name if it is one of ours; ``FileNotFoundError`` for anything else."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise FileNotFoundError(name)
    return name


@dataclass(frozen=True)
class StoredObject:
    name: str
    size: int
    modified: datetime  # naive UTC, like every time in the database


class Storage:
    """The seam: what the portal needs from a place that keeps files."""

    kind = "abstract"

    def save(self, name: str, data: bytes) -> None:
        raise NotImplementedError

    def read(self, name: str) -> bytes:
        raise NotImplementedError

    def delete(self, name: str) -> None:
        """Remove a file; a missing one is not an error."""
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def list(self) -> Iterator[StoredObject]:
        """Every file, unfinished local writes (``*.part``) included."""
        raise NotImplementedError

    def response(self, name: str, *, mimetype: str, max_age: int) -> Response:
        """An HTTP response with the file; ``FileNotFoundError`` when it is not there."""
        return send_file(io.BytesIO(self.read(name)), mimetype=mimetype, max_age=max_age)


class LocalStorage(Storage):
    """A folder on this machine (``UPLOAD_DIR``); shared by several servers only over NFS."""

    kind = "local"

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, name: str) -> Path:
        return self.root / check_name(name)

    def save(self, name: str, data: bytes) -> None:
        target = self.path(name)
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.root / f"{uuid.uuid4().hex}{PARTIAL_SUFFIX}"
        with open(partial, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
        # The rename itself is durable only once the folder is synced.
        folder = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def read(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def list(self) -> Iterator[StoredObject]:
        if not self.root.is_dir():
            return
        for entry in os.scandir(self.root):
            if entry.is_file(follow_symlinks=False) and _NAME.fullmatch(entry.name):
                stat = entry.stat(follow_symlinks=False)
                modified = datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None)
                yield StoredObject(entry.name, stat.st_size, modified)

    def response(self, name: str, *, mimetype: str, max_age: int) -> Response:
        path = self.path(name)
        if not path.is_file():
            raise FileNotFoundError(name)
        return send_file(path, mimetype=mimetype, max_age=max_age)


class S3Storage(Storage):
    """A bucket of any S3-compatible store (AWS S3, MinIO, Garage, Ceph RGW…).

    Credentials come from boto3's usual sources (``AWS_ACCESS_KEY_ID`` and
    ``AWS_SECRET_ACCESS_KEY``, a profile, an instance role), never from our settings.
    """

    kind = "s3"

    def __init__(self, bucket: str, *, prefix: str = "", client=None, **client_options):
        if client is None:
            import boto3

            client = boto3.client("s3", **{k: v for k, v in client_options.items() if v})
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _key(self, name: str) -> str:
        return self.prefix + check_name(name)

    def save(self, name: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(name), Body=data)

    def _get(self, name: str):
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(name))
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(name) from None

    def read(self, name: str) -> bytes:
        return self._get(name)["Body"].read()

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(name))

    def exists(self, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def list(self) -> Iterator[StoredObject]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix) :]
                if _NAME.fullmatch(name):
                    modified = item["LastModified"].astimezone(UTC).replace(tzinfo=None)
                    yield StoredObject(name, item["Size"], modified)

    def response(self, name: str, *, mimetype: str, max_age: int) -> Response:
        found = self._get(name)
        return send_file(
            io.BytesIO(found["Body"].read()),
            mimetype=mimetype,
            max_age=max_age,
            etag=found.get("ETag", "").strip('"') or True,
            last_modified=found.get("LastModified"),
        )


class StorageConfigError(RuntimeError):
    """The upload storage settings cannot be used."""


def make_storage(config: dict) -> Storage:
    kind = (config.get("UPLOAD_STORAGE") or "local").lower()
    if kind == "local":
        return LocalStorage(config["UPLOAD_DIR"])
    if kind == "s3":
        if not config.get("S3_BUCKET"):
            raise StorageConfigError("UPLOAD_STORAGE=s3 needs S3_BUCKET.")
        return S3Storage(
            config["S3_BUCKET"],
            prefix=config.get("S3_PREFIX", ""),
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            region_name=config.get("S3_REGION"),
        )
    raise StorageConfigError(f"UPLOAD_STORAGE must be 'local' or 's3', not {kind!r}.")


def get_storage() -> Storage:
    return current_app.extensions["storage"]
