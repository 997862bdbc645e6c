"""Real processes for the tests of section "beyond one machine" and "nothing lost":
gunicorn app servers, a resident filing through HTTP, a PostgreSQL cluster of the test's own.

Everything listens on 127.0.0.1 only, and every loop here is bounded in count and time.
"""

from __future__ import annotations

import contextlib
import glob
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests import factories
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[1]
CODE = re.compile(r"KN-\d{4}-\d{5}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def missing(message: str):
    """A tool or service the test needs is not here: a failure in CI, a skip elsewhere."""
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


class AppServer:
    """``gunicorn wsgi:app`` in a process group of its own, so SIGKILL takes every worker."""

    def __init__(self, database_url: str, upload_dir: Path, *, workers: int = 2, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(
            os.environ,
            DATABASE_URL=database_url,
            UPLOAD_DIR=str(upload_dir),
            SECRET_KEY="test-secret-for-processes",
            PORTAL_ENV="development",
            RATELIMIT_ENABLED="false",
            GEOCODER="offline",
            PYTHONUNBUFFERED="1",
            **{k: str(v) for k, v in env.items()},
        )
        self.workers = workers
        self.process: subprocess.Popen | None = None
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in __exit__

    def start(self, timeout: float = 60) -> AppServer:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={self.workers}",
                "--timeout=30",
                "--graceful-timeout=2",
                "--no-control-socket",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.output()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once: nothing gets to clean up."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        # The workers are gone too once the port refuses connections.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                return
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()

    def output(self, tail: int = 5000) -> str:
        self.log.seek(0)
        return self.log.read()[-tail:]

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        self.log.close()


def small_jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), ((seed * 37) % 256, (seed * 91) % 256, 120)).save(out, "JPEG")
    return out.getvalue()


class Resident:
    """Files petitions the way a browser does: the form (for its CSRF token), then POST."""

    def __init__(self, world_ids: dict, *, timeout: float = 20):
        self.http = requests.Session()
        self.world_ids = world_ids
        self.timeout = timeout

    def file(self, base_url: str, n: int, *, photos: int = 0) -> requests.Response:
        form = self.http.get(f"{base_url}/kien-nghi/moi", timeout=self.timeout)
        form.raise_for_status()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text).group(1)
        lat, lon = factories.INSIDE_WEST
        return self.http.post(
            f"{base_url}/kien-nghi/moi",
            data={
                "csrf_token": token,
                "category_id": str(self.world_ids["category"]),
                "title": f"Đèn đường hỏng số {n}",
                "description": "Cả đoạn ngõ tối, đi lại nguy hiểm.",
                "latitude": str(lat),
                "longitude": str(lon),
            },
            files=[("photos", (f"anh-{n}-{i}.jpg", small_jpeg(n + i))) for i in range(photos)],
            allow_redirects=False,
            timeout=self.timeout,
        )

    def receipt(self, base_url: str, response: requests.Response) -> tuple[str, str]:
        """(private token, code) from a successful filing: what the resident is shown."""
        location = response.headers["Location"]
        token = re.search(r"/cua-toi/([^?]+)", location).group(1)
        page = self.http.get(base_url + location, timeout=self.timeout)
        page.raise_for_status()
        return token, CODE.search(page.text).group(0)


# --- a PostgreSQL cluster of the test's own ---------------------------------------------------


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _version_key(path: str) -> int:
    match = re.search(r"/postgresql/(\d+)/", path)
    return int(match.group(1)) if match else 0


class PrivateCluster:
    """initdb + pg_ctl on a free port in a temporary folder: ours to stop and start.

    The shared server on 5432 that the other tests use is never touched. As root the
    cluster runs as the ``postgres`` system user (PostgreSQL refuses to run as root).
    """

    def __init__(self):
        self.bin = _postgres_bin()
        if self.bin is None:
            missing("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        self.as_root = os.geteuid() == 0
        if self.as_root and not shutil.which("runuser"):
            missing("runuser is needed to run PostgreSQL as the postgres user")
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="kien-nghi-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        if self.as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/portal"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=60)

    def init(self) -> PrivateCluster:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        import psycopg

        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as admin:
            admin.execute('CREATE DATABASE "portal"')
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
