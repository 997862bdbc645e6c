"""The public petition page and the lookup page stay light: scripts/page_weight.py in Chromium."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from portal.extensions import db
from portal.petitions import services
from tests import factories

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "page_weight.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("page_weight", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def busy_petition(live_server):
    """A petition with a place on the map and a public history of several steps."""
    world = live_server.world
    petition = factories.file(world)
    factories.assign(world, petition)
    services.post_update(
        petition,
        world.users["unit_staff"],
        public_note="Đã khảo sát hiện trường, lên phương án thu gom.",
    )
    db.session.commit()
    return petition


def test_petition_and_lookup_pages_are_within_budget(browser, live_server, busy_petition):
    page_weight = _load_script()
    weights = [
        page_weight.measure(browser, live_server.url, path)
        for path in page_weight.pages_for(busy_petition.code)
    ]
    print(page_weight.report(weights, details=True))
    for weight in weights:
        assert weight.requests <= 10, page_weight.report([weight], details=True)
        assert weight.bytes <= 150_000, page_weight.report([weight], details=True)
        # Every text answer came compressed.
        for resource in weight.resources:
            if resource.url.endswith((".js", ".css")) or "." not in resource.url.rsplit("/")[-1]:
                assert resource.encoding == "gzip", resource
    petition_page, lookup = weights
    assert any("leaflet" in r.url for r in petition_page.resources), "the map was measured"
    # Coming back, the fingerprinted files come from the cache: only the page and its data.
    assert petition_page.repeat_requests <= 2
    assert lookup.repeat_requests == 1


def test_the_script_serves_the_demo_ward_and_fails_above_budget(browser):
    """``make weight`` runs the script on its own demo app; a tight budget makes it fail."""
    tight = subprocess.run(
        [sys.executable, str(SCRIPT), "--budget-kb", "20", "--budget-requests", "2"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert tight.returncode == 1, tight.stdout + tight.stderr
    rows = {line.split()[0]: line for line in tight.stdout.splitlines() if line.startswith("/")}
    assert set(rows) == {"/tra-cuu"} | {r for r in rows if r.startswith("/kien-nghi/KN-")}
    assert len(rows) == 2
    assert all(row.endswith("OVER") for row in rows.values())
    assert "Above budget" in tight.stderr
