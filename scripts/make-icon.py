#!/usr/bin/env python3
"""Draws assets/icon.png (256x256): a stethoscope-green rounded square with a pulse line,
the app's mark. Pure standard library so it runs anywhere; rerun it to change the icon."""
import math, struct, zlib, pathlib

SIZE = 256
BG = (22, 110, 96)
LINE = (255, 255, 255)

def rounded_alpha(x, y, r=48):
    cx = min(max(x, r), SIZE - 1 - r)
    cy = min(max(y, r), SIZE - 1 - r)
    d = math.hypot(x - cx, y - cy)
    return max(0.0, min(1.0, r - d + 0.5))

# The pulse: flat, a spike up, a dip, flat, drawn as a polyline.
points = [(36, 140), (92, 140), (112, 70), (136, 190), (156, 120), (170, 140), (220, 140)]

def dist_to_segment(px, py, a, b):
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))

rows = []
for y in range(SIZE):
    row = bytearray([0])
    for x in range(SIZE):
        a = rounded_alpha(x, y)
        d = min(dist_to_segment(x, y, points[i], points[i + 1]) for i in range(len(points) - 1))
        line = max(0.0, min(1.0, 9.0 - d))
        rgb = [round(BG[c] * (1 - line) + LINE[c] * line) for c in range(3)]
        row += bytes(rgb + [round(255 * a)])
    rows.append(bytes(row))

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
out = pathlib.Path(__file__).resolve().parent.parent / "assets" / "icon.png"
out.write_bytes(png)
print(f"wrote {out} ({len(png)} bytes)")
