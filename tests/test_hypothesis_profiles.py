"""Hypothesis profiles (tests/conftest.py): CI tries the same examples on every run, a fixed
number of them; locally the defaults; a failing property test says how to run it again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FAILING = """
from hypothesis import given, strategies as st


@given(st.integers())
def test_small(n):
    assert n < 10
"""


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def _settings(**env) -> list[str]:
    code = (
        "import tests.conftest\n"
        "from hypothesis import settings\n"
        "s = settings.default\n"
        "print(s.derandomize, s.max_examples, s.database is None, s.print_blob)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_ci_is_derandomized_with_a_fixed_number_of_examples():
    assert _settings(CI="true") == ["True", "50", "True", "True"]


def test_locally_the_defaults_and_the_blob_on_failure():
    assert _settings() == ["False", "100", "False", "True"]
    assert _settings(HYPOTHESIS_PROFILE="ci")[0] == "True"


def _run_failing(tmp_path, *args, **env) -> str:
    (tmp_path / "test_small.py").write_text(FAILING)
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider"),
            *("-q", str(tmp_path / "test_small.py"), *args),
        ],
        cwd=tmp_path,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stdout


def test_a_failure_prints_the_seed_to_run_it_again(tmp_path):
    output = _run_failing(tmp_path)
    assert "Hypothesis seed: " in output
    seed = output.split("--hypothesis-seed=", 1)[1].split()[0]
    assert seed.isdigit()
    assert "@reproduce_failure" in output and "assert 10 < 10" in output
    again = _run_failing(tmp_path, f"--hypothesis-seed={seed}")
    assert "assert 10 < 10" in again
    assert "Hypothesis seed: fixed by --hypothesis-seed" in again


def test_in_ci_a_failure_says_the_run_is_derandomized(tmp_path):
    output = _run_failing(tmp_path, CI="true")
    assert "Hypothesis ran derandomized (profile 'ci')" in output
    assert "assert 10 < 10" in output and "@reproduce_failure" in output
    assert "--hypothesis-seed=" not in output
