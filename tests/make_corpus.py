#!/usr/bin/env python3
"""make_corpus.py OUT: a stand-in for ../shared/corpus (scans, textured, remeshed) made from
parametric surfaces, for a checkout without ../shared. Same file names, formats and counts as the
real files where the tests assert them (../shared/corpus/README.md): igea.ply is a binary PLY of
tristrips with 268,686 triangles, stanford-bunny.obj 69,451, nefertiti.obj 99,938, horse.ply (binary,
with normals) 96,966, spot.obj 2,928 quads with UVs, an .mtl and a 1024x1024 PNG of 78,699 bytes, and
remeshed/homer/ one closed surface (homer.off) with six re-tessellations of it. The objects are
distinct shapes (different proportions and genus) so that similarity tests have real non-matches.
Scans carry fine ripples (high-frequency terms) so that each coarser LOD really loses detail.
Deterministic: the same files every run."""
import math
import os
import random
import struct
import sys
import zlib


def star(u, v, a, b, c, bumps):
    """A point on a closed star-shaped surface: an ellipsoid (a, b, c) scaled by smooth bumps.
    u in [0, 2pi) around, v in (0, pi) pole to pole."""
    r = 1.0
    for (k, l, amp) in bumps:
        r += amp * math.cos(k * u) * math.sin(l * v)
    return (a * r * math.sin(v) * math.cos(u), b * r * math.sin(v) * math.sin(u), c * r * math.cos(v))


def torus(u, v, big, small, squash):
    return ((big + small * math.cos(v)) * math.cos(u), (big + small * math.cos(v)) * math.sin(u),
            squash * small * math.sin(v))


def grid(surface, cols, rows, v0, v1, closed_v=False):
    """Vertices of a (cols x rows+1) grid over u in [0, 2pi) (wrapping) and v in [v0, v1].
    Returns (positions, triangles)."""
    vrows = rows if closed_v else rows + 1
    pos = []
    for j in range(vrows):
        for i in range(cols):
            u = 2 * math.pi * i / cols
            v = v0 + (v1 - v0) * j / rows
            pos.append(surface(u, v))
    tris = []
    for j in range(rows):
        jn = (j + 1) % vrows
        for i in range(cols):
            i1 = (i + 1) % cols
            a, b, c, d = j * cols + i, j * cols + i1, jn * cols + i, jn * cols + i1
            tris.append((a, c, b))
            tris.append((b, c, d))
    return pos, tris


def geodesic(surface, n, rotation_seed=0):
    """A closed surface tessellated by near-equal triangles: an icosahedron whose faces are each cut
    into n * n triangles, projected to the unit sphere (optionally turned by a seeded rotation, a
    different tessellation of the same surface) and then mapped radially by surface(u, v).
    Returns (positions, triangles), 20 * n * n triangles."""
    t = (1 + math.sqrt(5)) / 2
    ico = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t), (0, -1, -t), (0, 1, -t),
           (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]
    faces = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4), (11, 10, 2),
             (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9), (4, 9, 5), (2, 4, 11),
             (6, 2, 10), (8, 6, 7), (9, 8, 1)]
    rng = random.Random(rotation_seed)
    a, b, c = (rng.uniform(0, 2 * math.pi) for _ in range(3)) if rotation_seed else (0.0, 0.0, 0.0)

    def turn(p):
        x, y, z = p
        y, z = y * math.cos(a) - z * math.sin(a), y * math.sin(a) + z * math.cos(a)
        x, z = x * math.cos(b) + z * math.sin(b), -x * math.sin(b) + z * math.cos(b)
        x, y = x * math.cos(c) - y * math.sin(c), x * math.sin(c) + y * math.cos(c)
        return x, y, z

    index, pos, tris = {}, [], []

    def vertex(f, i, j):
        # the same global point from every face that shares it: key on the integer weights
        corners = faces[f]
        weights = {corners[0]: n - i - j, corners[1]: i, corners[2]: j}
        key = tuple(sorted((k, w) for k, w in weights.items() if w))
        if key not in index:
            p = [sum(ico[k][d] * w for k, w in weights.items()) / n for d in range(3)]
            length = math.sqrt(sum(x * x for x in p))
            x, y, z = turn(tuple(x / length for x in p))
            u = math.atan2(y, x) % (2 * math.pi)
            v = math.acos(max(-1.0, min(1.0, z)))
            index[key] = len(pos)
            pos.append(surface(u, v))
        return index[key]

    for f in range(20):
        for i in range(n):
            for j in range(n - i):
                tris.append((vertex(f, i, j), vertex(f, i + 1, j), vertex(f, i, j + 1)))
                if i + j < n - 1:
                    tris.append((vertex(f, i + 1, j), vertex(f, i + 1, j + 1), vertex(f, i, j + 1)))
    return pos, tris


def fmt(x):
    return "%.9g" % x


def write_obj(path, pos, tris, extra=""):
    with open(path, "w") as f:
        f.write(extra)
        f.write("".join("v %s %s %s\n" % tuple(fmt(c) for c in p) for p in pos))
        f.write("".join("f %d %d %d\n" % (t[0] + 1, t[1] + 1, t[2] + 1) for t in tris))


def write_off(path, pos, tris):
    with open(path, "w") as f:
        f.write("OFF\n%d %d 0\n" % (len(pos), len(tris)))
        f.write("".join("%s %s %s\n" % tuple(fmt(c) for c in p) for p in pos))
        f.write("".join("3 %d %d %d\n" % t for t in tris))


def vertex_normals(pos, tris):
    n = [[0.0, 0.0, 0.0] for _ in pos]
    for t in tris:
        p0, p1, p2 = pos[t[0]], pos[t[1]], pos[t[2]]
        e1 = [p1[k] - p0[k] for k in range(3)]
        e2 = [p2[k] - p0[k] for k in range(3)]
        c = (e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0])
        for v in t:
            for k in range(3):
                n[v][k] += c[k]
    out = []
    for v in n:
        length = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) or 1.0
        out.append((v[0] / length, v[1] / length, v[2] / length))
    return out


def make_igea(path):
    """Binary PLY whose faces are one tristrips element (one strip per triangle, -1 between):
    268,686 triangles of a geodesic head (n = 116, the last 434 left out: a small hole)."""
    pos, tris = geodesic(lambda u, v: star(u, v, 0.8, 0.7, 1.0, [(3, 2, 0.06), (5, 3, 0.03), (1, 1, 0.08), (23, 17, 0.012), (41, 37, 0.006)]), 116)
    strip = []
    for t in tris[:268686]:
        strip += [t[0], t[1], t[2], -1]
    strip.pop()
    with open(path, "wb") as f:
        f.write(("ply\nformat binary_little_endian 1.0\ncomment lodestone stand-in for igea\n"
                 "element vertex %d\nproperty float x\nproperty float y\nproperty float z\n"
                 "element tristrips 1\nproperty list int int vertex_indices\nend_header\n" % len(pos)).encode())
        f.write(b"".join(struct.pack("<3f", *p) for p in pos))
        f.write(struct.pack("<i", len(strip)) + struct.pack("<%di" % len(strip), *strip))


def make_horse(path):
    """Binary PLY with normals: a long body on a thin torus-like base (genus 1)."""
    pos, tris = grid(lambda u, v: torus(u, v, 1.0, 0.35, 1.6), 397, 123, 0, 2 * math.pi, closed_v=True)
    tris = tris[:96966]
    nrm = vertex_normals(pos, tris)
    with open(path, "wb") as f:
        f.write(("ply\nformat binary_little_endian 1.0\nelement vertex %d\nproperty float x\nproperty float y\n"
                 "property float z\nproperty float nx\nproperty float ny\nproperty float nz\n"
                 "element face %d\nproperty list uchar int vertex_indices\nend_header\n"
                 % (len(pos), len(tris))).encode())
        f.write(b"".join(struct.pack("<6f", *(p + n)) for p, n in zip(pos, nrm)))
        f.write(b"".join(struct.pack("<B3i", 3, *t) for t in tris))


def png(width, height, rows, pad_to=None):
    """A PNG (8-bit RGB) from raw rows; with pad_to, a tEXt chunk makes it exactly that many bytes."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\x00" + r for r in rows)
    head = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    body = chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    if pad_to is not None:
        room = pad_to - len(head) - len(body) - 12 - len(b"Comment\x00")
        assert room >= 0, "texture too large for its stand-in size"
        head += chunk(b"tEXt", b"Comment\x00" + b"x" * room)
    return head + body


def make_spot(folder):
    """2,928 quads with UVs (a 61 x 48 band around a bumpy body), an .mtl and a 1024x1024 PNG."""
    cols, rows = 61, 48
    surface = lambda u, v: star(u, v, 1.3, 0.6, 0.8, [(2, 1, 0.1), (4, 2, 0.05)])
    lines = ["mtllib spot.mtl\n", "usemtl spot\n"]
    for j in range(rows + 1):
        for i in range(cols + 1):
            p = surface(2 * math.pi * i / cols, 0.2 + 2.7 * j / rows)
            lines.append("v %s %s %s\n" % tuple(fmt(c) for c in p))
    for j in range(rows + 1):
        for i in range(cols + 1):
            lines.append("vt %s %s\n" % (fmt(i / cols), fmt(j / rows)))
    for j in range(rows):
        for i in range(cols):
            a, b = j * (cols + 1) + i + 1, j * (cols + 1) + i + 2
            c, d = a + cols + 1, b + cols + 1
            lines.append("f %d/%d %d/%d %d/%d %d/%d\n" % (a, a, b, b, d, d, c, c))
    with open(os.path.join(folder, "spot.obj"), "w") as f:
        f.write("".join(lines))
    with open(os.path.join(folder, "spot.mtl"), "w") as f:
        f.write("newmtl spot\nKa 1 1 1\nKd 1 1 1\nmap_Kd spot_texture.png\n")
    rows_px = []
    for y in range(1024):
        row = bytearray()
        for bx in range(16):  # 64-pixel tiles of 16 x 16 colours
            row += bytes(((bx * 16 + 40) & 0xff, ((y >> 6) * 15 + 30) & 0xff, 200 if (bx + (y >> 6)) & 1 else 60)) * 64
        rows_px.append(bytes(row))
    with open(os.path.join(folder, "spot_texture.png"), "wb") as f:
        f.write(png(1024, 1024, rows_px, pad_to=78699))


HOMER_BUMPS = [(2, 3, 0.12), (3, 1, 0.07), (5, 4, 0.04)]


def homer(u, v):
    return star(u, v, 0.55, 0.45, 1.0, HOMER_BUMPS)


def make_homer(folder):
    """homer.off and six other tessellations of the same closed surface (other resolutions and
    orientations of the geodesic grid, one coarse 'simplified' copy)."""
    versions = {
        "homer.off": (32, 0),
        "homer_35.off": (35, 2),
        "homer_40.off": (40, 3),
        "homer_0.15_35.off": (34, 4),
        "homer_0.15_40.off": (38, 5),
        "homer_0.15_40_simplified.off": (22, 6),
        "homer_0.00235_mmgs.off": (42, 7),
    }
    for name, (n, seed) in versions.items():
        pos, tris = geodesic(homer, n, rotation_seed=seed)
        write_off(os.path.join(folder, name), pos, tris)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_corpus.py OUT")
    out = sys.argv[1]
    for sub in ("scans", "textured/spot", "remeshed/homer"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    make_igea(os.path.join(out, "scans/igea.ply"))
    # the bunny: a squat, lumpy body; nefertiti: a tall narrow bust
    pos, tris = geodesic(lambda u, v: star(u, v, 1.0, 0.9, 0.75, [(1, 2, 0.2), (2, 1, 0.15), (6, 5, 0.03)]), 59)
    write_obj(os.path.join(out, "scans/stanford-bunny.obj"), pos, tris[:69451])
    pos, tris = geodesic(lambda u, v: star(u, v, 0.35, 0.4, 1.4, [(1, 1, 0.25), (3, 3, 0.05), (19, 23, 0.012), (37, 31, 0.006)]), 71)
    write_obj(os.path.join(out, "scans/nefertiti.obj"), pos, tris[:99938])
    make_horse(os.path.join(out, "scans/horse.ply"))
    make_spot(os.path.join(out, "textured/spot"))
    make_homer(os.path.join(out, "remeshed/homer"))


if __name__ == "__main__":
    main()
