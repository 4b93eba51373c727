"""What the service worker needs from the server: its precache list and a version.

The version is a hash of every precached file, so any change to the shell (a script, a style,
an icon, the capture template) gives a new worker with a new cache; the browser then installs
it beside the old one and the page decides when to switch (see app/static/js/register-sw.js).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent.parent
STATIC_DIR = APP_DIR / "static"
TEMPLATES_DIR = APP_DIR / "templates"
SW_PATH = STATIC_DIR / "sw.js"
MANIFEST_PATH = STATIC_DIR / "manifest.webmanifest"

# Pages the worker keeps: the capture shell (any query string) and the offline page.
SHELL_PAGES = ("/capture", "/offline", "/manifest.webmanifest")
# Static folders precached whole; the worker serves them cache-first.
PRECACHE_DIRS = ("css", "js", "icons", "vendor")
PRECACHE_SUFFIXES = (".css", ".js", ".png", ".svg")
# Of the vendored files, only what pages load.
PRECACHE_VENDOR_PREFIXES = ("htmx-",)
# Icons only the browser's install asks for (from the manifest, online): not kept offline.
PRECACHE_SKIP = ("icons/icon-512.png", "icons/maskable-192.png", "icons/maskable-512.png")
# Templates whose output the worker caches: their change must change the version too.
SHELL_TEMPLATES = ("capture/page.html", "capture/_shell.html", "offline.html")

VERSION_LINE = 'const VERSION = "dev";'
PRECACHE_LINE = "const PRECACHE_ASSETS = [];"


def precache_files() -> list[Path]:
    """The static files the worker precaches, in a stable order."""
    files: list[Path] = []
    for folder in PRECACHE_DIRS:
        base = STATIC_DIR / folder
        if base.is_dir():
            files.extend(
                p
                for p in base.rglob("*")
                if p.is_file()
                and p.suffix in PRECACHE_SUFFIXES
                and (folder != "vendor" or p.name.startswith(PRECACHE_VENDOR_PREFIXES))
                and p.relative_to(STATIC_DIR).as_posix() not in PRECACHE_SKIP
            )
    return sorted(files)


def precache_urls() -> list[str]:
    """Shell pages first, then every precached static file as its /static URL."""
    statics = [f"/static/{p.relative_to(STATIC_DIR).as_posix()}" for p in precache_files()]
    return [*SHELL_PAGES, *statics]


def _fingerprint_inputs() -> list[Path]:
    templates = [TEMPLATES_DIR / name for name in SHELL_TEMPLATES]
    return [SW_PATH, MANIFEST_PATH, *precache_files(), *(t for t in templates if t.exists())]


def _signature() -> tuple[tuple[str, int, int], ...]:
    return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in _fingerprint_inputs())


@lru_cache(maxsize=4)
def _version_for(signature: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for name, _size, _mtime in signature:
        path = Path(name)
        digest.update(path.relative_to(APP_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def shell_version() -> str:
    """A short content hash of the shell; recomputed only when a file's size or mtime changes."""
    return _version_for(_signature())


def service_worker_source() -> str:
    """sw.js with its version and precache list filled in."""
    source = SW_PATH.read_text(encoding="utf-8")
    if VERSION_LINE not in source or PRECACHE_LINE not in source:
        raise RuntimeError("app/static/sw.js lost its VERSION or PRECACHE_ASSETS line")
    return source.replace(VERSION_LINE, f"const VERSION = {json.dumps(shell_version())};").replace(
        PRECACHE_LINE, f"const PRECACHE_ASSETS = {json.dumps(precache_urls())};"
    )
