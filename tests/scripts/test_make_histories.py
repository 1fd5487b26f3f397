"""scripts/make_histories.py never overwrites committed histories."""

from __future__ import annotations

import subprocess
import sys

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
    v1 = ROOT / "tests" / "histories" / "v1"
    before = {path.name: path.read_bytes() for path in v1.iterdir()}
    result = run("--version", "1")
    assert result.returncode == 2
    assert "tests/histories/v1 exists" in result.stderr
    assert {path.name: path.read_bytes() for path in v1.iterdir()} == before
    assert not [p for p in v1.parent.iterdir() if p.name.startswith(".v")]  # no staging left


def test_an_unknown_scenario_is_refused_before_anything_starts():
    result = run("--version", "999", "--only", "no_such_scenario")
    assert result.returncode == 2
    assert "unknown scenario" in result.stderr
    assert not (ROOT / "tests" / "histories" / "v999").exists()
