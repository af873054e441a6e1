#!/usr/bin/env python3
"""Builds the archives test_archive needs, good and hostile, into the directory given (issue 5).
Everything is generated here at test time; nothing is copied from elsewhere."""
import io, os, shutil, subprocess, sys, tarfile, tempfile, zipfile

out = sys.argv[1]
os.chdir(out)

PLY = b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n" \
      b"element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"
OBJ = b"mtllib vase.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 0 1\nusemtl clay\nf 1/1 2/2 3/3\n"
MTL = b"newmtl clay\nmap_Kd textures/vase.png\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
GLTF = b'{"asset":{"version":"2.0"},"buffers":[{"uri":"car.bin","byteLength":36}]}'
BIN = bytes(36)
STL = b"solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\nendloop\nendfacet\nendsolid t\n"
CSV = ('file,title,license,owner,accession,capture_method,tags\r\n'
       'scans/bust.ply,"Bust of a man, marble",CC-BY-4.0,Museum of Things,1921.4.7,structured light,"marble;portrait; roman"\r\n'
       'scans/vase.obj,"The ""Blue"" vase",CC0-1.0,,1899.2.1,photogrammetry,ceramic\r\n'
       'models/car.gltf,Car,,,,,\r\n'
       'missing/ghost.ply,Ghost,,,,,\r\n').encode()
JSON = (b'[{"file": "scans/bust.ply", "title": "Bust", "tags": ["marble", "portrait"], "accession": "A1"},'
        b' {"file": "./scans/vase.obj", "title": "Vase", "tags": "ceramic;blue"}]')

GOOD = [("manifest.csv", CSV), ("scans/bust.ply", PLY), ("scans/vase.obj", OBJ), ("scans/vase.mtl", MTL),
        ("scans/textures/vase.png", PNG), ("models/car.gltf", GLTF), ("models/car.bin", BIN),
        ("loose/loose.stl", STL), ("extra/readme.txt", b"hello\n")]


def add(tf, name, data=b"", kind=tarfile.REGTYPE, link=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.mode = 0o644
    tf.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def tar(path, members, mode="w", **kw):
    with tarfile.open(path, mode, format=tarfile.GNU_FORMAT, **kw) as tf:
        for m in members:
            add(tf, *m)


# good archives: tar.zst with manifest.csv, zip and tar.gz with manifest.json
tar("good.tar", [("scans/", b"", tarfile.DIRTYPE)] + GOOD)
subprocess.run(["zstd", "-q", "-f", "--rm", "good.tar", "-o", "good.tar.zst"], check=True)
good_json = [m for m in GOOD if m[0] != "manifest.csv"] + [("manifest.json", JSON)]
with zipfile.ZipFile("good.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for name, data in good_json:
        z.writestr(name, data)
tar("good.tar.gz", good_json, "w:gz")
if shutil.which("7z"):  # 7z archives need the 7z tool (Debian p7zip-full) to be made
    staging = tempfile.mkdtemp(dir=".")
    for name, data in good_json:
        os.makedirs(os.path.join(staging, os.path.dirname(name)), exist_ok=True)
        with open(os.path.join(staging, name), "wb") as f:
            f.write(data)
    subprocess.run(["7z", "a", "-bd", "-y", os.path.abspath("good.7z"), "."], cwd=staging, check=True,
                   stdout=subprocess.DEVNULL)
    shutil.rmtree(staging)

# hostile: paths, links, devices
tar("dotdot.tar", [("ok.ply", PLY), ("../x.ply", PLY)])
tar("dotdot_inner.tar", [("a/../../x.ply", PLY)])
tar("absolute.tar", [("/abs.ply", PLY)])
tar("symlink.tar", [("ok.ply", PLY), ("link.ply", b"", tarfile.SYMTYPE, "/etc/passwd")])
tar("hardlink.tar", [("ok.ply", PLY), ("hard.ply", b"", tarfile.LNKTYPE, "ok.ply")])
tar("device.tar", [("dev.ply", b"", tarfile.CHRTYPE)])
tar("fifo.tar", [("fifo.ply", b"", tarfile.FIFOTYPE)])
tar("duplicate.tar", [("a.ply", PLY), ("a.ply", PLY)])
tar("longname.tar", [("d/" * 700 + "x.ply", PLY)])
with tarfile.open("badutf8.tar", "w", format=tarfile.GNU_FORMAT, encoding="latin-1") as tf:
    add(tf, "caf\u00e9.ply", PLY)
with zipfile.ZipFile("dotdot.zip", "w") as z:
    z.writestr("../../x.ply", PLY)
tar("many.tar", [("m%d.ply" % i, PLY) for i in range(20)])
# zip bomb: 300 MiB of zeros deflates to about 300 KiB (streamed: bounded memory here too)
with zipfile.ZipFile("bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
    with z.open("bomb.ply", "w", force_zip64=True) as f:
        chunk = bytes(1 << 20)
        for _ in range(300):
            f.write(chunk)
# expansion over a (test-lowered) deposit limit without a suspicious ratio
tar("big.tar.gz", [("r%d.ply" % i, os.urandom(600 * 1024)) for i in range(4)], "w:gz")
with open("not_an_archive.ply", "wb") as f:
    f.write(PLY)
with open("garbage.zip", "wb") as f:
    f.write(b"PK\x03\x04" + os.urandom(2000))
# manifests that are broken
tar("badmanifest.tar", [("manifest.csv", b'file,title\n"a.ply,unterminated\n'), ("a.ply", PLY)])
tar("twomanifests.tar", [("manifest.csv", b"file\n"), ("manifest.json", b"[]"), ("a.ply", PLY)])
print("ok")
