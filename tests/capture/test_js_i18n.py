"""The capture in Spanish, offline too: every message the capture scripts show through t() or
tn() has a Spanish entry in app/static/js/locale-es.js, with the same placeholders."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parents[2] / "app" / "static" / "js"
SCRIPTS = ("capture.js", "timeline.js", "form.js", "outbox.js", "register-sw.js")
SINGLE = re.compile(r'\bt\(\s*"((?:[^"\\]|\\.)*)"')
PLURAL = re.compile(r'\btn\(\s*[^,]+,\s*"((?:[^"\\]|\\.)*)",\s*"((?:[^"\\]|\\.)*)"')
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _messages() -> set[str]:
    found: set[str] = set()
    for name in SCRIPTS:
        source = (JS / name).read_text(encoding="utf-8")
        found.update(json.loads(f'"{m}"') for m in SINGLE.findall(source))
        for one, many in PLURAL.findall(source):
            found.update((json.loads(f'"{one}"'), json.loads(f'"{many}"')))
    return found


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_every_capture_message_has_its_spanish():
    dumped = subprocess.run(
        ["node", "--input-type=module", "-e",
         f"import {{ ES }} from '{(JS / 'locale-es.js').as_uri()}'; console.log(JSON.stringify(ES));"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    spanish = json.loads(dumped)
    messages = _messages()
    assert len(messages) > 100
    missing = sorted(m for m in messages if not spanish.get(m, "").strip())
    assert missing == [], "add these to app/static/js/locale-es.js: " + "; ".join(missing)
    for english, translated in spanish.items():
        assert set(PLACEHOLDER.findall(translated)) == set(PLACEHOLDER.findall(english)), english
