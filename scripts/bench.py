"""``make bench``: the portal under load on a city-sized database, with its targets.

Serves the app with gunicorn on loopback against the benchmark database (made by
``scripts/bench_data.py``: 1,000,000 petitions over 100 wards) as the deployment of one
ward, drives each endpoint with ``wrk`` for a bounded time, and prints per endpoint:
requests per second, p50 and p95 latency, the ratio of throughput to a bare endpoint
served by the same gunicorn in the same run, and the peak resident memory (RSS) of the
gunicorn master and workers, read from /proc.

    .venv/bin/python scripts/bench.py                  # 10 s per endpoint
    .venv/bin/python scripts/bench.py --duration 15 --json bench.json

``wrk`` is Debian's package: ``apt-get install wrk``. Only 127.0.0.1 is ever targeted.
The bare endpoint is ``/bench/bare`` (``scripts/bench_app.py``: no database, no
template), added to the app only here. Filing petitions adds rows to the benchmark
database; run ``scripts/bench_data.py`` again for a fresh one.

Targets (ratios in one run, as the issue sets them): lookup ≥ 50 % of the bare
throughput; list and search p95 ≤ 5 × lookup p95; every GeoJSON answer ≤ 2,000
features at any zoom; the dashboard ≤ 500 ms p95. Exit status 1 when one is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
STAFF_EMAIL = "canbo.{code}@bench.kiennghi.vn"
STAFF_PASSWORD = "bench-kien-nghi-2026"  # noqa: S105 - the throwaway benchmark database
HOST = "127.0.0.1"
MAX_FEATURES = 2000

# wrk calls done() once at the end: one JSON line with what we report.
LUA_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "socket_errors": %d, "status_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def lua_script(paths: list[str], *, method: str = "GET", body: str | None = None, cookie=None):
    """A wrk script sending ``paths`` in turn (each thread from its own start)."""
    lines = []
    if cookie:
        lines.append(f'wrk.headers["Cookie"] = {lua_string(cookie)}')
    if body is not None:
        lines.append(f"wrk.method = {lua_string(method)}")
        lines.append(f"wrk.body = {lua_string(body)}")
        lines.append('wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"')
    lines.append("local paths = {" + ", ".join(lua_string(p) for p in paths) + "}")
    lines.append(
        "local i = 0\n"
        "setup = function(thread) thread:set('offset', math.random(#paths)) end\n"
        "init = function(args) i = tonumber(offset or 0) or 0 end\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        "  return wrk.format(nil, paths[i])\n"
        "end"
    )
    return "\n".join(lines) + "\n" + LUA_DONE


# --- a tiny HTTP client for setting up (cookies by hand: no Secure-flag surprises) -----


class Client:
    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, form: dict | None = None):
        connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
        headers = {"Cookie": self.cookie_header} if self.cookies else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        connection.close()
        return response.status, dict(response.getheaders()), data

    def csrf_token(self, path: str) -> str:
        status, _headers, body = self.request("GET", path)
        found = re.search(rb'name="csrf_token"[^>]*?value="([^"]+)"', body) or re.search(
            rb'value="([^"]+)"[^>]*?name="csrf_token"', body
        )
        if status != 200 or not found:
            raise SystemExit(f"No CSRF token on {path} (HTTP {status}).")
        return found.group(1).decode()


# --- gunicorn and its memory ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


class MemoryWatch(threading.Thread):
    """Samples the RSS of the gunicorn master and its workers every 0.2 s."""

    def __init__(self, master: int):
        super().__init__(daemon=True)
        self.master = master
        self.peak_kib = 0
        self.label = ""
        self.peaks: dict[str, int] = {}
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            total = rss_kib(self.master) + sum(rss_kib(p) for p in children(self.master))
            self.peak_kib = max(self.peak_kib, total)
            if self.label:
                self.peaks[self.label] = max(self.peaks.get(self.label, 0), total)
            time.sleep(0.2)


def start_gunicorn(args, port: int, env: dict) -> subprocess.Popen:
    command = [
        str(VENV_BIN / "gunicorn"),
        "--chdir",
        str(ROOT / "scripts"),
        "--workers",
        str(args.workers),
        "--bind",
        f"{HOST}:{port}",
        "--timeout",
        "60",
        "--log-level",
        "warning",
        "bench_app:app",
    ]
    server = subprocess.Popen(command, env=env, cwd=ROOT)  # noqa: S603 - our own command
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped (exit {server.returncode}).")
        try:
            status, _h, _b = Client(port).request("GET", "/healthz")
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 60 s.")


# --- the data the requests use ----------------------------------------------------------


def has_data(database_url: str, ward_code: str) -> bool:
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return bool(
                conn.execute(
                    "SELECT 1 FROM ward w JOIN petition p ON p.ward_id = w.id"
                    " WHERE w.code = %s LIMIT 1",
                    (ward_code,),
                ).fetchone()
            )
    except psycopg.Error:
        return False


def ward_facts(database_url: str, ward_code: str) -> dict:
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT id, boundary FROM ward WHERE code = %s", (ward_code,)).fetchone()
        if row is None:
            raise SystemExit(f"No ward {ward_code} in the benchmark database.")
        ward_id, boundary = row
        boundary = boundary if isinstance(boundary, dict) else json.loads(boundary)
        ring = boundary["coordinates"][0]
        lons, lats = [p[0] for p in ring], [p[1] for p in ring]
        codes = [
            r[0]
            for r in conn.execute(
                "SELECT code FROM petition WHERE ward_id = %s ORDER BY md5(code) LIMIT 500",
                (ward_id,),
            )
        ]
        category = conn.execute(
            "SELECT id FROM category WHERE slug = 've-sinh-moi-truong'"
        ).fetchone()[0]
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM petition), (SELECT count(*) FROM ward),"
            " (SELECT count(*) FROM petition WHERE ward_id = %s),"
            " (SELECT count(*) FROM petition_event)",
            (ward_id,),
        ).fetchone()
    return {
        "ward_id": ward_id,
        "bbox": (min(lons), min(lats), max(lons), max(lats)),
        "codes": codes,
        "category": category,
        "petitions": counts[0],
        "wards": counts[1],
        "ward_petitions": counts[2],
        "events": counts[3],
    }


def bbox_text(bbox) -> str:
    return ",".join(f"{v:.6f}" for v in bbox)


def view_bbox(bbox, zoom: int, width_px: int = 1000, height_px: int = 600):
    """The box a screen of ``width_px`` × ``height_px`` shows at ``zoom``, at the centre."""
    west, south, east, north = bbox
    per_px = 360 / (256 * 2**zoom)
    cx, cy = (west + east) / 2, (south + north) / 2
    return (
        cx - per_px * width_px / 2,
        cy - per_px * height_px / 2,
        cx + per_px * width_px / 2,
        cy + per_px * height_px / 2,
    )


def check_geojson(client: Client, facts: dict) -> list[tuple[str, int, bool]]:
    """Features per answer for the ward and the whole city, zoom 10 to 19."""
    city = (105.5, 20.7, 106.1, 21.3)
    results = []
    for label, box in (("ward", facts["bbox"]), ("city", city)):
        for zoom in range(10, 20):
            for frame in (box, view_bbox(box, zoom)):
                path = f"/ban-do/du-lieu.geojson?bbox={bbox_text(frame)}&zoom={zoom}"
                status, _h, body = client.request("GET", path)
                if status != 200:
                    raise SystemExit(f"{path}: HTTP {status}")
                data = json.loads(body)
                results.append((f"{label} z{zoom}", len(data["features"]), data["truncated"]))
    return results


# --- one endpoint -----------------------------------------------------------------------


@dataclass
class Endpoint:
    name: str
    paths: list[str]
    method: str = "GET"
    form: dict | None = None
    cookie: bool = False
    connections: int | None = None
    result: dict = field(default_factory=dict)


def run_wrk(args, port: int, endpoint: Endpoint, client: Client, workdir: Path, seconds: int):
    body = urllib.parse.urlencode(endpoint.form) if endpoint.form is not None else None
    script = workdir / f"{re.sub(r'[^a-z0-9]+', '-', endpoint.name.lower())}.lua"
    script.write_text(
        lua_script(
            endpoint.paths,
            method=endpoint.method,
            body=body,
            cookie=client.cookie_header if endpoint.cookie else None,
        )
    )
    connections = endpoint.connections or args.connections
    command = [
        args.wrk,
        f"-t{min(args.threads, connections)}",  # wrk wants a connection per thread
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://{HOST}:{port}",
    ]
    output = subprocess.run(  # noqa: S603 - wrk with our arguments, loopback only
        command, capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    line = next((x for x in output.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary for {endpoint.name}:\n{output}")
    data = json.loads(line[len("BENCH ") :])
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data


def machine() -> dict:
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "load_before": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--ward", default="09886", help="PORTAL_WARD_CODE of the deployment")
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    parser.add_argument("--warmup", type=int, default=2, help="seconds before each, not counted")
    parser.add_argument(
        "--bare-seconds", type=int, default=4, help="bare route again before each endpoint"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument(
        "--dashboard-connections", type=int, default=1, help="staff opening it at once"
    )
    parser.add_argument("--only", help="comma-separated endpoint names (bare always runs)")
    parser.add_argument(
        "--no-page-cache",
        action="store_true",
        help="serve without the public pages' cache (PAGE_CACHE_MAX_BYTES=0): every list "
        "and search page is rendered",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--wrk", default=shutil.which("wrk"))
    args = parser.parse_args(argv)
    database_url = args.database_url or DEFAULT_DATABASE_URL
    if not args.wrk:
        print("wrk is not installed. On Debian: apt-get install wrk", file=sys.stderr)
        return 2

    sys.path.insert(0, str(ROOT / "scripts"))
    import bench_data

    if not has_data(database_url, args.ward):
        if args.database_url:
            print(f"No data for ward {args.ward} at {database_url}.", file=sys.stderr)
            return 2
        print("No benchmark database yet: building it (scripts/bench_data.py, a few minutes).")
        bench_data.main([])
    else:
        # A database built by an older checkout: bring its schema up to this one's, as a
        # deployment does before it serves (nothing to do when it is current).
        bench_data.migrate(database_url)
    about = machine()  # the load before we start
    facts = ward_facts(database_url, args.ward)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORTAL_WARD_CODE": args.ward,
        "SECRET_KEY": secrets.token_hex(32),
        # Filing is limited per IP; every request of the benchmark comes from 127.0.0.1.
        "PETITION_RATE_LIMIT": "1000000 per minute",
        "GEOCODER": "offline",
    }
    if args.no_page_cache:
        env["PAGE_CACHE_MAX_BYTES"] = "0"
    print(
        f"Database: {facts['petitions']:,} petitions, {facts['events']:,} events, "
        f"{facts['wards']} wards; this ward ({args.ward}): {facts['ward_petitions']:,}.",
        flush=True,
    )
    server = start_gunicorn(args, port, env)
    watch = MemoryWatch(server.pid)
    watch.start()
    failures: list[str] = []
    try:
        client = Client(port)
        geo = check_geojson(client, facts)
        worst = max(n for _label, n, _t in geo)
        print(f"GeoJSON: {len(geo)} answers (zoom 10–19, ward and city), at most {worst} features.")
        if worst > MAX_FEATURES:
            failures.append(f"GeoJSON answer with {worst} features (> {MAX_FEATURES})")

        staff = Client(port)
        token = staff.csrf_token("/dang-nhap")
        status, headers, _b = staff.request(
            "POST",
            "/dang-nhap",
            {
                "email": STAFF_EMAIL.format(code=args.ward),
                "password": STAFF_PASSWORD,
                "csrf_token": token,
            },
        )
        if status not in (302, 303) or "/dang-nhap" in headers.get("Location", ""):
            raise SystemExit(f"Staff login failed (HTTP {status}).")
        resident = Client(port)
        filing = {
            "csrf_token": resident.csrf_token("/kien-nghi/moi"),
            "category_id": str(facts["category"]),
            # Words the searches below do not look for: the petitions a run files must
            # not make the next run's search results grow.
            "title": "Cây xanh gãy cành chắn lối đi (đo hiệu năng)",
            "description": "Cành cây gãy sau mưa, chắn lối đi. Kiến nghị thử tải.",
            "latitude": f"{(facts['bbox'][1] + facts['bbox'][3]) / 2:.6f}",
            "longitude": f"{(facts['bbox'][0] + facts['bbox'][2]) / 2:.6f}",
            "website": "",
        }
        status, headers, body = resident.request("POST", "/kien-nghi/moi", filing)
        if status != 303:
            raise SystemExit(f"Filing a petition answered {status}, not 303:\n{body[:2000]!r}")

        codes = facts["codes"]
        ward_box = bbox_text(facts["bbox"])
        view = bbox_text(view_bbox(facts["bbox"], 16))
        endpoints = [
            Endpoint("bare", ["/bench/bare"]),
            Endpoint("healthz", ["/healthz"]),
            Endpoint("lookup", [f"/tra-cuu?ma={c}" for c in codes]),
            Endpoint("petition page", [f"/kien-nghi/{c}" for c in codes]),
            Endpoint(
                "list filtered",
                [f"/kien-nghi?status=in_progress&category={facts['category']}", "/kien-nghi"],
            ),
            Endpoint(
                "list search",
                [
                    "/kien-nghi?q=rac+thai",
                    "/kien-nghi?q=cong+thoat+nuoc",
                    "/kien-nghi?q=den+duong+hong",
                    "/kien-nghi?q=lan+chiem+via+he",
                ],
            ),
            Endpoint("geojson ward z14", [f"/ban-do/du-lieu.geojson?bbox={ward_box}&zoom=14"]),
            Endpoint("geojson view z16", [f"/ban-do/du-lieu.geojson?bbox={view}&zoom=16"]),
            Endpoint("staff inbox", ["/quan-ly/", "/quan-ly/?status=in_progress"], cookie=True),
            Endpoint(
                "dashboard",
                ["/giam-sat"],
                cookie=True,
                connections=args.dashboard_connections,
            ),
            Endpoint("file petition", ["/kien-nghi/moi"], method="POST", form=filing),
        ]
        if args.only:
            wanted = {"bare", *(n.strip() for n in args.only.split(","))}
            endpoints = [e for e in endpoints if e.name in wanted]
        bare_endpoint = endpoints[0]
        bursts: list[float] = []  # bare throughput just before each endpoint, and at the end

        def bare_burst(workdir: Path) -> None:
            if args.bare_seconds:
                burst = run_wrk(args, port, bare_endpoint, staff, workdir, args.bare_seconds)
                bursts.append(burst["rps"])

        for index, endpoint in enumerate(endpoints):
            client_for = resident if endpoint.form is not None else staff
            endpoint.cookie = endpoint.cookie or endpoint.form is not None
            with tempfile.TemporaryDirectory() as workdir:
                if index:
                    bare_burst(Path(workdir))
                if args.warmup:
                    run_wrk(args, port, endpoint, client_for, Path(workdir), args.warmup)
                watch.label = endpoint.name
                endpoint.result = run_wrk(
                    args, port, endpoint, client_for, Path(workdir), args.duration
                )
                watch.label = ""
            r = endpoint.result
            print(
                f"  {endpoint.name:<17} {r['rps']:8.1f} req/s  p50 {r['p50_us'] / 1000:7.1f} ms"
                f"  p95 {r['p95_us'] / 1000:7.1f} ms",
                flush=True,
            )
        with tempfile.TemporaryDirectory() as workdir:
            bare_burst(Path(workdir))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        watch.stop.set()

    by_name = {e.name: e.result for e in endpoints}
    bare = by_name["bare"]["rps"] or 1
    # Each endpoint against the bare route measured just before and just after it, so that
    # a machine busy with something else for a while skews both sides alike.
    for index, e in enumerate(endpoints):
        around = bursts[index - 1 : index + 1] if index and len(bursts) > index else []
        e.result["bare_around_rps"] = sum(around) / len(around) if around else bare
    healthz = by_name.get("healthz", {}).get("rps") or None
    print()
    print(
        "| endpoint | req/s | p50 ms | p95 ms | × bare (around) | × healthz | errors "
        f"| peak RSS MiB (master+{args.workers} workers) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for e in endpoints:
        r = e.result
        errors = r["socket_errors"] + r["status_errors"]
        versus_healthz = f"{r['rps'] / healthz:.2f}" if healthz else "–"
        print(
            f"| {e.name} | {r['rps']:.1f} | {r['p50_us'] / 1000:.1f} | {r['p95_us'] / 1000:.1f} "
            f"| {r['rps'] / r['bare_around_rps']:.2f} | {versus_healthz} | {errors} "
            f"| {watch.peaks.get(e.name, 0) / 1024:.0f} |"
        )
        if errors:
            failures.append(f"{e.name}: {errors} errors")
        if not r["requests"]:
            failures.append(f"{e.name}: no request finished in {args.duration} s")
    print(f"\nPeak RSS over the run: {watch.peak_kib / 1024:.0f} MiB (master and workers).")

    def check(label: str, ok: bool, detail: str):
        print(f"  [{'ok' if ok else 'MISSED'}] {label}: {detail}")
        if not ok:
            failures.append(label)

    print("Targets:")
    if "lookup" in by_name:
        lookup = by_name["lookup"]
        around = lookup["bare_around_rps"]
        check(
            "lookup ≥ 50 % of bare",
            lookup["rps"] >= 0.5 * around,
            f"{100 * lookup['rps'] / around:.1f} % (bare {around:.0f} req/s around it)",
        )
        for name in ("list filtered", "list search"):
            if name in by_name:
                ratio = by_name[name]["p95_us"] / max(lookup["p95_us"], 1)
                check(f"{name} p95 ≤ 5 × lookup p95", ratio <= 5, f"{ratio:.1f} ×")
    check("GeoJSON ≤ 2,000 features", worst <= MAX_FEATURES, f"at most {worst}")
    if "dashboard" in by_name:
        p95 = by_name["dashboard"]["p95_us"] / 1000
        done = by_name["dashboard"]["requests"]
        check("dashboard p95 ≤ 500 ms", done > 0 and p95 <= 500, f"{p95:.0f} ms, {done} requests")
    print(
        f"Machine: {about['cpus']} CPUs ({about['cpu_model']}), {about['ram_gib']} GiB; "
        f"load before {about['load_before'][0]:.2f}, after {os.getloadavg()[0]:.2f}; "
        f"{about['date']}."
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": about,
                    "load_after": os.getloadavg(),
                    "data": {k: v for k, v in facts.items() if k != "codes"},
                    "settings": vars(args) | {"json": str(args.json)},
                    "endpoints": {e.name: e.result for e in endpoints},
                    "rss_peak_mib": watch.peak_kib / 1024,
                    "rss_peak_by_endpoint_mib": {k: v / 1024 for k, v in watch.peaks.items()},
                    "bare_bursts_rps": bursts,
                    "geojson": geo,
                    "failures": failures,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    if failures:
        print("Missed: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
