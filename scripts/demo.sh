#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install what is needed, build, start the service
# (`lodestone serve` with its own redis-server), upload sample models through the HTTP API, wait
# for them, and print what came out: LOD triangle counts, errors, sizes, times, certificates.
#
# Samples: the scans and two PBR assets in ../shared/corpus when present, otherwise models from Debian's
# assimp-testmodels. The data directory is ./lodestone-data (LODESTONE_HOME), downloads go to
# ./demo-out/. LODESTONE_LISTEN picks the address (default 127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
bin=$root/build/cli/lodestone

export LODESTONE_HOME=${LODESTONE_HOME:-$root/lodestone-data}
export LODESTONE_LISTEN=${LODESTONE_LISTEN:-127.0.0.1:8080}
unset LODESTONE_REDIS_URL
url=http://$LODESTONE_LISTEN
mkdir -p demo-out "$LODESTONE_HOME"

samples=()
shared=../shared/corpus
if [ -d "$shared" ]; then
  samples+=("$shared/scans/stanford-bunny.obj" "$shared/scans/igea.ply" "$shared/scans/horse.ply"
            "$shared/scans/nefertiti.obj" "$shared/textured/spot/spot.obj" "$shared/remeshed/homer/homer.off"
            "$shared/pbr/WaterBottle.glb" "$shared/pbr/Avocado.glb")
else
  m=/usr/share/assimp/models
  samples+=("$m/PLY/Wuson.ply" "$m/OBJ/spider.obj" "$m/glTF2/BoxTextured-glTF-Binary/BoxTextured.glb"
            "$m/STL/Spider_binary.stl" "$m/FBX/spider.fbx" "$m/OFF/Cube.off")
fi

echo "demo: starting lodestone serve on $url (data in $LODESTONE_HOME)"
"$bin" serve --workers 2 > demo-out/serve.log 2>&1 &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null; wait $serve_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf "$url/healthz" >/dev/null 2>&1 && break
  kill -0 $serve_pid 2>/dev/null || { cat demo-out/serve.log; exit 1; }
  sleep 0.1
done
key=$("$bin" keys create --role ops --name demo 2>/dev/null)

python3 - "$url" "$key" "$bin" "${samples[@]}" <<'PY'
import json, os, re, subprocess, sys, time, urllib.request
url, key, binary, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
auth = {"Authorization": "Bearer " + key}

def sidecars(path):
    """An OBJ's .mtl files and the textures they name, from the model's directory."""
    if not path.lower().endswith(".obj"):
        return []
    d, out = os.path.dirname(path), []
    for line in open(path, errors="replace"):
        if line.startswith("mtllib"):
            mtl = os.path.join(d, line.split(None, 1)[1].strip())
            if os.path.isfile(mtl):
                out.append(mtl)
                for l in open(mtl, errors="replace"):
                    if re.match(r"\s*map_Kd\s", l):
                        tex = os.path.join(d, l.split()[-1])
                        if os.path.isfile(tex):
                            out.append(tex)
    return out

def upload(path):
    name = os.path.basename(path)
    extra = sidecars(path)
    if extra:  # multipart: the model and its sidecars
        cmd = ["curl", "-sS", "-H", "Authorization: Bearer " + key, "-F", "file=@%s" % path,
               "-F", "metadata={\"title\": \"%s\", \"license\": \"CC0-1.0\"}" % name]
        cmd += sum((["-F", "file=@%s" % f] for f in extra), [])
        cmd.append(url + "/v1/assets")
    else:
        cmd = ["curl", "-sS", "-H", "Authorization: Bearer " + key, "--data-binary", "@" + path,
               url + "/v1/assets?filename=%s&title=%s&license=CC0-1.0&owner=demo" % (name, name)]
    return json.loads(subprocess.check_output(cmd))

def get(path):
    req = urllib.request.Request(url + path, headers=auth)
    with urllib.request.urlopen(req) as r:
        return r.read()

start = time.time()
assets = []
for f in files:
    if os.path.isfile(f):
        a = upload(f)
        print("uploaded %-22s -> asset %s" % (os.path.basename(f), a["asset"]["id"]))
        assets.append((os.path.basename(f), a["asset"]["id"]))
pending = dict(assets)
while pending and time.time() - start < 600:
    for name, aid in list(pending.items()):
        rec = json.loads(get("/v1/assets/" + aid))
        if rec["status"] in ("ready", "failed"):
            del pending[name]
    time.sleep(0.5)
print("all done in %.1f s\n" % (time.time() - start))

print("%-22s %-6s %9s %5s %9s %9s %9s %9s %9s %7s %4s  %s" % ("model", "status", "triangles", "lods", "last tris",
      "last err", "glb KB", "draco KB", "last KB", "ms", "log", "certificate"))
for name, aid in assets:
    rec = json.loads(get("/v1/assets/" + aid))
    if rec["status"] != "ready":
        print("%-22s %-6s %s" % (name, rec["status"], (rec.get("error") or {}).get("message", "")))
        continue
    m = rec["manifest"]; lods = m["lods"]; last = lods[-1]
    kb = lambda f, level=0: lods[level]["files"].get(f, {}).get("bytes", 0) / 1024
    out = os.path.join("demo-out", name)
    os.makedirs(out, exist_ok=True)
    open(os.path.join(out, "lod0.glb"), "wb").write(get("/v1/assets/%s/lods/0?format=glb" % aid))
    cert = os.path.join(out, "certificate.json")
    open(cert, "wb").write(get("/v1/assets/%s/certificate" % aid))
    ok = subprocess.run([binary, "verify", cert], capture_output=True).returncode == 0
    print("%-22s %-6s %9d %5d %9d %9.5f %9.0f %9.0f %9.0f %7.0f %4d  %s" % (name, rec["status"], m["report"]["triangles"],
          len(lods), last["triangles"], last["error"], kb("glb"), kb("draco"), kb("glb", -1), m["timings_ms"]["total"],
          m["certificate"]["log_index"], "verified" if ok else "INVALID"))
print("\nsigned checkpoint of the transparency log (%s/v1/log/checkpoint):" % url)
print(get("/v1/log/checkpoint").decode())

# Previews: a studio views a model (capped, coarse, watermarked for it); the preview leaks and
# `lodestone trace` names the studio.
ready = [(n, a) for n, a in assets if json.loads(get("/v1/assets/" + a))["status"] == "ready"]
if ready:
    name, aid = max(ready, key=lambda na: json.loads(get("/v1/assets/" + na[1]))["manifest"]["report"]["triangles"])
    studio = subprocess.check_output([binary, "keys", "create", "--role", "studio", "--name", "demo-studio"],
                                     stderr=subprocess.DEVNULL).decode().strip()
    req = urllib.request.Request(url + "/v1/assets/%s/preview" % aid, method="POST",
                                 headers={"Authorization": "Bearer " + studio})
    p = json.loads(urllib.request.urlopen(req).read())
    glb = urllib.request.urlopen(url + p["model_url"]).read()
    leak = os.path.join("demo-out", "leaked-preview.glb")
    open(leak, "wb").write(glb)
    lod0 = json.loads(get("/v1/assets/" + aid))["manifest"]["lods"][0]["files"]["meshopt"]["bytes"]
    print("preview of %s for demo-studio: %d bytes (LOD0 meshopt: %d bytes), expires %s" % (name, len(glb), lod0,
          p["expires"]))
    print("viewer (while the service runs): %s%s" % (url, p["viewer_url"]))
    trace = subprocess.run([binary, "trace", leak, "--asset", aid], capture_output=True, text=True)
    print("lodestone trace: " + (trace.stdout or trace.stderr).strip())
PY
if [ "${DEMO_KEEP:-0}" = 1 ]; then
  echo "DEMO_KEEP=1: the service stays up on $url (Ctrl-C stops it)"
  wait $serve_pid
fi
echo "downloads: demo-out/<model>/ (lod0.glb, certificate.json); service log: demo-out/serve.log"
