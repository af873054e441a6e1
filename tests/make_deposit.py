#!/usr/bin/env python3
"""Builds deposit.tar.zst for test_deposits (issue 5) into the directory given, from
assimp-testmodels (argv[2]): three models with a manifest.csv, one of them an OBJ with its MTL
and textures. Generated at test time; nothing is copied into the repository."""
import io, os, subprocess, sys, tarfile

out, models = sys.argv[1], sys.argv[2]
os.chdir(out)

ITEMS = [  # member, source under models/
    ("scans/wuson.ply", "PLY/Wuson.ply"),
    ("scans/spider/spider.obj", "OBJ/spider.obj"),
    ("scans/spider/spider.mtl", "OBJ/spider.mtl"),
    ("scans/spider/wal67ar_small.jpg", "OBJ/wal67ar_small.jpg"),
    ("scans/spider/wal69ar_small.jpg", "OBJ/wal69ar_small.jpg"),
    ("scans/spider/SpiderTex.jpg", "OBJ/SpiderTex.jpg"),
    ("scans/spider/drkwood2.jpg", "OBJ/drkwood2.jpg"),
    ("scans/spider/engineflare1.jpg", "OBJ/engineflare1.jpg"),
    ("models/box.glb", "glTF2/BoxTextured-glTF-Binary/BoxTextured.glb"),
]
CSV = ('file,title,license,owner,accession,capture_method,tags\r\n'
       'scans/wuson.ply,"Wuson, a figurine",CC-BY-4.0,Museum of Things,1921.4.7,structured light,"ceramic;figurine"\r\n'
       'scans/spider/spider.obj,Spider,CC0-1.0,Museum of Things,1899.2.1,photogrammetry,insect\r\n'
       'models/box.glb,Textured box,CC-BY-4.0,,2001.7.3,CAD model,\r\n').encode()


def add(tf, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tf.addfile(info, io.BytesIO(data))


with tarfile.open("deposit.tar", "w", format=tarfile.GNU_FORMAT) as tf:
    add(tf, "manifest.csv", CSV)
    for member, source in ITEMS:
        with open(os.path.join(models, source), "rb") as f:
            add(tf, member, f.read())
subprocess.run(["zstd", "-q", "-f", "--rm", "deposit.tar", "-o", "deposit.tar.zst"], check=True)
print("ok")
