"""Draws the app's PNG icons (the courthouse columns of icons/icon.svg) without any image library.

Run `python -m app.capture.icons` after changing the drawing; it rewrites app/static/icons/.
A PNG is a signature, an IHDR chunk, zlib-compressed scanlines (IDAT) and IEND.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

ICON_DIR = Path(__file__).resolve().parent.parent / "static" / "icons"
BACKGROUND = (0x11, 0x15, 0x1C)
ACCENT = (0x7C, 0xC4, 0xFF)
INK = (0xE8, 0xED, 0xF3)
# The icon.svg drawing on its 512 grid: (x, y, width, height, corner radius, colour).
SHAPES: tuple[tuple[float, float, float, float, float, tuple[int, int, int]], ...] = (
    (96, 120, 320, 40, 12, ACCENT),
    (128, 176, 32, 176, 0, INK),
    (240, 176, 32, 176, 0, INK),
    (352, 176, 32, 176, 0, INK),
    (96, 368, 320, 40, 12, ACCENT),
)
SAMPLES = 4  # per axis: 16 samples a pixel smooth the edges


def _inside_rounded(px: float, py: float, x: float, y: float, w: float, h: float, r: float) -> bool:
    if px < x or py < y or px > x + w or py > y + h:
        return False
    if r <= 0:
        return True
    cx = min(max(px, x + r), x + w - r)
    cy = min(max(py, y + r), y + h - r)
    return (px - cx) ** 2 + (py - cy) ** 2 <= r * r


def render_icon(size: int, *, maskable: bool) -> list[bytes]:
    """RGBA scanlines. A maskable icon fills its square and keeps the drawing in the safe zone."""
    # Maskable: the launcher may crop to a circle of 80 % of the width, so shrink the glyph.
    glyph_scale = 0.72 if maskable else 1.0
    offset = 512 * (1 - glyph_scale) / 2
    corner = 0 if maskable else 96
    rows: list[bytes] = []
    step = 512 / size
    for j in range(size):
        row = bytearray([0])  # filter type: none
        for i in range(size):
            acc = [0.0, 0.0, 0.0, 0.0]
            for sj in range(SAMPLES):
                for si in range(SAMPLES):
                    gx = (i + (si + 0.5) / SAMPLES) * step
                    gy = (j + (sj + 0.5) / SAMPLES) * step
                    if not _inside_rounded(gx, gy, 0, 0, 512, 512, corner):
                        continue
                    colour = BACKGROUND
                    lx, ly = (gx - offset) / glyph_scale, (gy - offset) / glyph_scale
                    for x, y, w, h, r, fill in SHAPES:
                        if _inside_rounded(lx, ly, x, y, w, h, r):
                            colour = fill
                            break
                    acc[0] += colour[0]
                    acc[1] += colour[1]
                    acc[2] += colour[2]
                    acc[3] += 255
            n = SAMPLES * SAMPLES
            alpha = acc[3] / n
            if alpha:
                cover = acc[3] / 255
                row += bytes(round(acc[k] / cover) for k in range(3)) + bytes([round(alpha)])
            else:
                row += b"\0\0\0\0"
        rows.append(bytes(row))
    return rows


def encode_png(size: int, scanlines: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(scanlines), 9))
        + chunk(b"IEND", b"")
    )


ICONS = (
    ("icon-192.png", 192, False),
    ("icon-512.png", 512, False),
    ("maskable-192.png", 192, True),
    ("maskable-512.png", 512, True),
)


def write_icons(folder: Path = ICON_DIR) -> list[Path]:
    written = []
    for name, size, maskable in ICONS:
        path = folder / name
        path.write_bytes(encode_png(size, render_icon(size, maskable=maskable)))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_icons():
        print(path, path.stat().st_size, "bytes")
