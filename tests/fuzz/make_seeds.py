#!/usr/bin/env python3
"""Writes the small seed corpus of the fuzz targets into tests/fuzz/corpus/ (run once; the output is
committed). Every seed is made here, by hand: tiny valid files and a few broken ones."""
import io, json, os, struct, subprocess, tarfile, zipfile

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- import: first byte picks the format (0 ply, 1 stl, 2 obj, 3 glb) ----
ply_ascii = (b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
             b"element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n")
ply_bin = (b"ply\nformat binary_little_endian 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
           b"property float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\n"
           b"element face 1\nproperty list uchar uint vertex_indices\nend_header\n"
           + b"".join(struct.pack("<3f3B", *v, 200, 100, 50) for v in [(0, 0, 0), (1, 0, 0), (0, 1, 0)])
           + struct.pack("<B3I", 3, 0, 1, 2))
ply_strips = (b"ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\n"
              b"element tristrips 1\nproperty list int int vertex_indices\nend_header\n"
              b"0 0 0\n1 0 0\n0 1 0\n1 1 0\n5 0 1 2 -1 3\n")
stl_ascii = (b"solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\n"
             b"endloop\nendfacet\nendsolid t\n")
stl_bin = b"\0" * 80 + struct.pack("<I", 1) + struct.pack("<12fH", 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0)
obj = b"v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\nvt 0 0\nvn 0 0 1\nf 1/1/1 2/1/1 3/1/1 4/1/1\nf -1 -2 -3\n"
positions = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
indices = struct.pack("<3H", 0, 1, 2) + b"\0\0"
binchunk = positions + indices
gltf = {"asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "buffers": [{"byteLength": len(binchunk)}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": 36},
                        {"buffer": 0, "byteOffset": 36, "byteLength": 6}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3",
                       "min": [0, 0, 0], "max": [1, 1, 0]},
                      {"bufferView": 1, "componentType": 5123, "count": 3, "type": "SCALAR"}]}
js = json.dumps(gltf).encode()
js += b" " * (-len(js) % 4)
glb_body = struct.pack("<II", len(js), 0x4E4F534A) + js + struct.pack("<II", len(binchunk), 0x004E4942) + binchunk
glb = struct.pack("<4sII", b"glTF", 2, 12 + len(glb_body)) + glb_body
for name, kind, data in [("ply_ascii", 0, ply_ascii), ("ply_binary", 0, ply_bin), ("ply_strips", 0, ply_strips),
                         ("ply_huge_header", 0, ply_ascii.replace(b"vertex 3", b"vertex 2000000000")),
                         ("ply_bad_index", 0, ply_ascii.replace(b"3 0 1 2", b"3 0 1 9")),
                         ("ply_nan", 0, ply_ascii.replace(b"1 0 0", b"nan inf 0")),
                         ("stl_ascii", 1, stl_ascii), ("stl_binary", 1, stl_bin),
                         ("stl_lying_count", 1, stl_bin[:80] + struct.pack("<I", 99999999) + stl_bin[84:]),
                         ("obj", 2, obj), ("obj_bad_index", 2, b"v 0 0 0\nf 1 2 3\n"), ("glb", 3, glb),
                         ("glb_bad_length", 3, glb[:8] + struct.pack("<I", 0xffffff00) + glb[12:]), ("empty", 0, b"")]:
    put("import", name, bytes([kind]) + data)

# ---- glTF (fuzz_gltf.c): first byte bit 0: 0 .glb, 1 .gltf ----
def b64uri(data):
    import base64
    return "data:application/octet-stream;base64," + base64.b64encode(data).decode()
png = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154"
                    "78da6364 60f85f0f00028701 80eb47ba920000000049454e44ae426082".replace(" ", ""))
# interleaved SHORT positions + normalized UBYTE uvs (stride 12), sparse normals, a strip
inter = b"".join(struct.pack("<3hxx2Bxx", *p, *t) for p, t in
                 [((0, 0, 0), (0, 0)), ((1, 0, 0), (255, 0)), ((0, 1, 0), (0, 255)), ((1, 1, 0), (255, 255))])
sparse = struct.pack("<4H", 0, 1, 2, 3) + struct.pack("<12f", *([0, 0, 1] * 4))
forms_bin = inter + sparse + png
forms = {"asset": {"version": "2.0"}, "extensionsUsed": ["KHR_mesh_quantization", "KHR_texture_transform"],
         "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0, "translation": [1, 2, 3], "children": [1]},
                                               {"mesh": 1, "scale": [-1, 1, 1]}],
         "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "TEXCOORD_0": 1, "NORMAL": 2}, "mode": 5,
                                     "material": 0}]},
                    {"primitives": [{"attributes": {"POSITION": 0}, "mode": 6}, {"attributes": {"POSITION": 0},
                                                                               "mode": 0},
                                    {"attributes": {"POSITION": 0}, "mode": 1}]}],
         "materials": [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0, "extensions": {
             "KHR_texture_transform": {"offset": [0.5, 0], "scale": [2, 2]}}}, "metallicRoughnessTexture": {"index": 1}},
             "normalTexture": {"index": 0, "scale": 0.5}, "occlusionTexture": {"index": 2}, "emissiveFactor": [1, 0, 0],
             "alphaMode": "MASK", "extensions": {"KHR_materials_sheen": {"sheenColorTexture": {"index": 1}}}}],
         "samplers": [{"magFilter": 9729, "wrapS": 33071}],
         "textures": [{"source": 0, "sampler": 0}, {"source": 1}, {"source": 2}],
         "images": [{"bufferView": 3, "mimeType": "image/png"}, {"uri": "tex.png"}, {"uri": "missing.png"}],
         "buffers": [{"byteLength": len(forms_bin)}],
         "bufferViews": [{"buffer": 0, "byteLength": 48, "byteStride": 12},
                         {"buffer": 0, "byteOffset": 48, "byteLength": 8},
                         {"buffer": 0, "byteOffset": 56, "byteLength": 48},
                         {"buffer": 0, "byteOffset": 104, "byteLength": len(png)}],
         "accessors": [{"bufferView": 0, "componentType": 5122, "count": 4, "type": "VEC3", "min": [0, 0, 0],
                        "max": [1, 1, 0]},
                       {"bufferView": 0, "byteOffset": 8, "componentType": 5121, "normalized": True, "count": 4,
                        "type": "VEC2"},
                       {"componentType": 5126, "count": 4, "type": "VEC3", "sparse": {
                           "count": 4, "indices": {"bufferView": 1, "componentType": 5123},
                           "values": {"bufferView": 2}}}]}
def make_glb(doc, binchunk):
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    b = binchunk + b"\0" * (-len(binchunk) % 4)
    body = struct.pack("<II", len(js), 0x4E4F534A) + js + struct.pack("<II", len(b), 0x004E4942) + b
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body
forms_glb = make_glb(forms, forms_bin)
put("gltf", "forms_glb", b"\0" + forms_glb)
as_text = dict(forms, buffers=[{"byteLength": len(forms_bin), "uri": b64uri(forms_bin)}])
put("gltf", "forms_gltf_data_uri", b"\1" + json.dumps(as_text).encode())
put("gltf", "forms_gltf_sidecar", b"\1" + json.dumps(dict(forms, buffers=[{"byteLength": 64, "uri": "a.bin"}])).encode())
put("gltf", "cycle", b"\1" + json.dumps({"asset": {"version": "2.0"}, "nodes": [{"children": [1], "mesh": 0},
                                                                               {"children": [0]}]}).encode())
# the same file through gltfpack -cc (EXT_meshopt_compression) and glTF-Transform's draco
tools = os.path.join(os.path.dirname(root), "..", "..", "tools", "node_modules", ".bin")
import tempfile
with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(tmp, "forms.glb")
    with open(src, "wb") as f:
        f.write(make_glb(dict(forms, materials=[], images=[], textures=[], samplers=[],
                              meshes=[{"primitives": [{"attributes": {"POSITION": 3, "TEXCOORD_0": 1},
                                                       "indices": 4}]}],
                              nodes=[{"mesh": 0}],
                              accessors=forms["accessors"] + [{"bufferView": 4, "componentType": 5126, "count": 4,
                                                               "type": "VEC3", "min": [0, 0, 0], "max": [1, 1, 0]},
                                                              {"bufferView": 5, "componentType": 5123, "count": 6,
                                                               "type": "SCALAR"}],
                              bufferViews=forms["bufferViews"] + [{"buffer": 0, "byteOffset": 104 + len(png),
                                                                   "byteLength": 48},
                                                                  {"buffer": 0, "byteOffset": 152 + len(png),
                                                                   "byteLength": 12}],
                              buffers=[{"byteLength": len(forms_bin) + 60}]),
                         forms_bin + struct.pack("<12f", 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0)
                         + struct.pack("<6H", 0, 1, 2, 2, 1, 3)))
    for name, cmd in [("meshopt", ["gltfpack", "-cc", "-i", src, "-o", os.path.join(tmp, "meshopt.glb")]),
                      ("draco", [os.path.join(tools, "gltf-transform"), "draco", src, os.path.join(tmp, "draco.glb")])]:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(tmp, name + ".glb"), "rb") as f:
            put("gltf", name + "_glb", b"\0" + f.read())

# ---- sandbox wire format (model_wire.c) ----
def material(texture=-1):
    slot = lambda t: struct.pack("<8i6f", t, 0, 0, 0, 0, 0, 0, -1, 1, 0, 0, 0, 1, 1)
    return (struct.pack("<I", 5) + b"stone" + struct.pack("<11f2I", 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0.5, 0, 0)
            + slot(texture) + b"".join(slot(-1) for _ in range(4)) + struct.pack("<Q", 0xffffffffffffffff))
def model(nv=3, ni=3, flags=0, index=2, extra=b""):
    out = b"LDSMODL3" + struct.pack("<6QI", nv, ni, 1, 1, 1 if extra == b"tex" else 0, 1, flags)
    out += struct.pack("<%df" % (3 * nv), *([0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0] * nv)[:3 * nv])
    if flags & 1:
        out += struct.pack("<%df" % (3 * nv), *([0.0, 0.0, 1.0] * nv))
    if flags & 2:
        out += struct.pack("<%df" % (2 * nv), *([0.5] * 2 * nv))
    if flags & 4:
        out += struct.pack("<%df" % (4 * nv), *([1.0] * 4 * nv))
    out += struct.pack("<3I", 0, 1, index)[:4 * ni]
    out += struct.pack("<6I", 0, nv, 0, ni, 0, 0)
    out += material(0 if extra == b"tex" else -1)
    if extra == b"tex":
        out += struct.pack("<I", 8) + b"skin.png" + struct.pack("<I", 9) + b"image/png" + struct.pack("<Q", 4) + b"\x89PNG" + struct.pack("<ii", 1, 1)
    out += struct.pack("<I", 4) + b"warn"
    scene = b'{"roots":[0],"nodes":[{"mesh":0}],"meshes":[{}],"primitives":[{"mesh":0}],"skins":[],"animations":[]}'
    out += struct.pack("<Q", len(scene)) + scene if extra == b"scene" else struct.pack("<Q", 0xffffffffffffffff)
    return out
put("sandbox_wire", "triangle", model())
put("sandbox_wire", "attributes", model(flags=7))
put("sandbox_wire", "texture", model(extra=b"tex"))
put("sandbox_wire", "scene", model(extra=b"scene"))
put("sandbox_wire", "bad_index", model(index=7))
put("sandbox_wire", "huge_count", b"LDSMODL3" + struct.pack("<6QI", 1 << 60, 3, 1, 1, 0, 0, 0))
put("sandbox_wire", "truncated", model()[:40])

# ---- manifests: first byte even = CSV, odd = JSON ----
csv = (b'file,title,license,owner,accession,capture_method,tags\r\n'
       b'a.ply,"A, ""quoted""",CC0,Museum,1.2.3,laser,"x;y"\r\nb/c.obj,C,,,,,\r\n')
put("manifest", "csv", b"\0" + csv)
put("manifest", "csv_bom_lf", b"\0\xef\xbb\xbf" + csv.replace(b"\r\n", b"\n"))
put("manifest", "csv_unterminated", b"\0file\n\"a.ply\n")
put("manifest", "csv_multiline", b'\0file,title\n"a.ply","line\nbreak"\n')
put("manifest", "json", b"\1" + json.dumps([{"file": "a.ply", "title": "A", "tags": ["x", "y"]},
                                             {"file": "b.obj", "tags": "p;q", "owner": None}]).encode())
put("manifest", "json_bad", b'\1[{"file": 1}]')
put("manifest", "json_dup", b'\1[{"file": "a", "file": "b"}]')

# ---- archives ----
def tarball(members, mode="w"):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.GNU_FORMAT) as tf:
        for name, data, kind, link in members:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.size = kind, link, len(data) if kind == tarfile.REGTYPE else 0
            tf.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return buf.getvalue()
R = tarfile.REGTYPE
good = [("manifest.csv", csv, R, ""), ("a.ply", ply_ascii, R, ""), ("b/c.obj", obj, R, ""),
        ("b/c.mtl", b"newmtl m\n", R, "")]
put("archive", "good.tar", tarball(good))
put("archive", "good.tar.gz", tarball(good, "w:gz"))
put("archive", "good.tar.zst", subprocess.run(["zstd", "-q", "-c"], input=tarball(good), stdout=subprocess.PIPE,
                                              check=True).stdout)
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    for name, data, _, _ in good:
        z.writestr(name, data)
    z.writestr("../evil.ply", b"x")
put("archive", "good_then_dotdot.zip", buf.getvalue())
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
    z.writestr("manifest.json", b'[{"file": "a.ply"}]')
    z.writestr("a.ply", ply_ascii)
put("archive", "stored.zip", buf.getvalue())
put("archive", "symlink.tar", tarball([("l.ply", b"", tarfile.SYMTYPE, "/etc/passwd")]))
put("archive", "hardlink.tar", tarball([("a.ply", ply_ascii, R, ""), ("h.ply", b"", tarfile.LNKTYPE, "a.ply")]))
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("bomb.ply", bytes(4 << 20))
put("archive", "small_bomb.zip", buf.getvalue())
print("seeds written to", root)
