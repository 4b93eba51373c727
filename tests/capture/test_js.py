"""The pure parts of the capture scripts (timeline taps, clock, show_if), under Node's test runner."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JS_TESTS = sorted((Path(__file__).parent / "js").glob("*.test.mjs"))


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_capture_scripts_pass_their_node_tests() -> None:
    result = subprocess.run(
        ["node", "--test", *map(str, JS_TESTS)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
