"""The capture shell, the service worker, the manifest, the offline page and the icons."""

from __future__ import annotations

import json
import re
import struct
import zlib
from pathlib import Path

from fastapi.testclient import TestClient

from app.capture import service as capture_service
from app.capture.icons import ICONS

STATIC = Path(capture_service.STATIC_DIR)


def test_capture_shell_is_the_same_for_everyone_and_holds_no_user_data(volunteer, trainer):
    client, user = volunteer
    response = client.get("/capture?assignment=3")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    page = response.text
    assert 'id="capture-root"' in page
    assert "/static/js/capture.js" in page
    assert 'rel="manifest"' in page
    # Cached by the worker for every user and query string: no email, no name, no token.
    assert user.email not in page
    assert user.display_name not in page
    assert "csrf" not in page.lower()
    assert client.get("/capture").text == page
    # A trainer gets the very same shell.
    assert trainer[0].get("/capture?adhoc=1").text == page


def test_capture_needs_a_volunteer_or_trainer(client, organizer, admin):
    response = client.get("/capture")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert organizer[0].get("/capture").status_code == 403
    assert admin[0].get("/capture").status_code == 403


def test_service_worker_is_public_uncached_scoped_to_root_and_versioned(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["service-worker-allowed"] == "/"
    assert response.headers["cache-control"] == "no-cache"
    source = response.text
    version = re.search(r'const VERSION = "([0-9a-f]{12})";', source)
    assert version, "the version placeholder was not filled in"
    assert version.group(1) == capture_service.shell_version()
    precache = json.loads(re.search(r"const PRECACHE_ASSETS = (\[.*?\]);", source).group(1))
    for url in (
        "/capture",
        "/offline",
        "/manifest.webmanifest",
        "/static/css/app.css",
        "/static/css/capture.css",
        "/static/js/capture.js",
        "/static/js/store.js",
        "/static/js/outbox.js",
        "/static/js/register-sw.js",
        "/static/icons/icon-192.png",
    ):
        assert url in precache
    assert any(u.startswith("/static/vendor/htmx-") for u in precache)
    # The worker never touches writes or the API.
    assert 'request.method !== "GET"' in source
    assert 'startsWith("/api/")' in source


def test_every_precached_url_answers_for_a_signed_in_volunteer(volunteer):
    client, _ = volunteer
    for url in capture_service.precache_urls():
        response = client.get(url)
        assert response.status_code == 200, url


def test_version_follows_the_content_of_the_shell(tmp_path, monkeypatch):
    a = tmp_path / "a.js"
    a.write_text("one")
    signature = ((str(a), 3, 1),)
    monkeypatch.setattr(capture_service, "APP_DIR", tmp_path)
    first = capture_service._version_for(signature)
    a.write_text("two")
    second = capture_service._version_for(((str(a), 3, 2),))
    assert first != second


def test_manifest_makes_the_app_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == manifest["background_color"] == "#11151c"
    assert manifest["start_url"] == "/my/assignments"
    assert manifest["scope"] == "/"
    sizes = {(i["sizes"], i["purpose"]) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon["src"]


def _png_size(data: bytes) -> tuple[int, int]:
    """Check a PNG the hard way: signature, chunk CRCs, and the pixel data length."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", (0, 0)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 6)
            size = (width, height)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height = size
    assert len(zlib.decompress(idat)) == (1 + 4 * width) * height
    return size


def test_icons_are_valid_pngs_of_the_declared_sizes():
    for name, size, _maskable in ICONS:
        assert _png_size((STATIC / "icons" / name).read_bytes()) == (size, size)


def test_offline_page_is_public_and_generic(client: TestClient):
    response = client.get("/offline")
    assert response.status_code == 200
    assert "You are offline" in response.text
    assert "csrf" not in response.text.lower()
    assert 'href="/capture"' in response.text
