"""scripts/make_histories.py never overwrites committed histories."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import ROOT

SCRIPT = ROOT / "scripts" / "make_histories.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_version_is_required():
    result = run()
    assert result.returncode == 2
    assert "--version" in result.stderr


def test_an_existing_version_folder_is_refused_and_left_as_it_was():
    baseline = ROOT / "tests" / "histories" / "1.0"
    before = {path.name: path.read_bytes() for path in baseline.iterdir()}
    result = run("--version", "1.0")
    assert result.returncode == 2
    assert "tests/histories/1.0 exists" in result.stderr
    assert {path.name: path.read_bytes() for path in baseline.iterdir()} == before
    assert not [p for p in baseline.parent.iterdir() if p.name.startswith(".")]  # no staging


def test_the_payout_baseline_is_refused_too():
    result = run("--workflow", "payout", "--version", "1.0")
    assert result.returncode == 2
    assert "tests/histories/payout/1.0 exists" in result.stderr


@pytest.mark.parametrize("version", ["1", "v9", "1.0.1", "0.9", "1.01"])
def test_a_version_that_is_not_major_minor_is_refused(version):
    result = run("--version", version)
    assert result.returncode == 2
    assert "MAJOR.MINOR" in result.stderr
    assert not (ROOT / "tests" / "histories" / version).exists()


def test_an_unknown_scenario_is_refused_before_anything_starts():
    result = run("--version", "9.9", "--only", "no_such_scenario")
    assert result.returncode == 2
    assert "unknown scenario" in result.stderr
    assert not (ROOT / "tests" / "histories" / "9.9").exists()
    helper = run("--version", "9.9", "--only", "decide")  # a helper, not a scenario
    assert helper.returncode == 2 and "unknown scenario" in helper.stderr
