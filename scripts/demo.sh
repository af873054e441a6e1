#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install what is needed, build, and process sample
# models through the whole pipeline, then print what came out.
# Samples: the scans in ../shared/corpus when present, otherwise models from Debian's
# assimp-testmodels. Output goes to ./demo-out/<model>/, the data directory (keys, log) to
# ./lodestone-data/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
bin=$PWD/build/cli/lodestone

samples=()
shared=../shared/corpus
if [ -d "$shared" ]; then
  samples+=("$shared/scans/stanford-bunny.obj" "$shared/scans/igea.ply" "$shared/scans/horse.ply"
            "$shared/scans/nefertiti.obj" "$shared/textured/spot/spot.obj" "$shared/remeshed/homer/homer.off")
else
  m=/usr/share/assimp/models
  samples+=("$m/PLY/Wuson.ply" "$m/OBJ/spider.obj" "$m/glTF2/BoxTextured-glTF-Binary/BoxTextured.glb"
            "$m/STL/Spider_binary.stl" "$m/FBX/spider.fbx" "$m/OFF/Cube.off")
fi

mkdir -p demo-out
printf '%-22s %9s %6s %10s %10s %10s %10s %8s\n' model triangles lods 'lod4 tris' 'lod4 err' 'glb KB' 'draco KB' 'ms'
for f in "${samples[@]}"; do
  [ -f "$f" ] || continue
  name=$(basename "${f%.*}")
  out=demo-out/$name
  if ! "$bin" process "$f" -o "$out" --title "$name" --owner demo --license CC0-1.0 --json > "$out.json" 2> "$out.err"; then
    printf '%-22s failed: %s\n' "$name" "$(cat "$out.err")"
    continue
  fi
  python3 - "$out.json" "$name" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); lods = m["lods"]; last = lods[-1]
kb = lambda lod, f: lod["files"].get(f, {}).get("bytes", 0) / 1024
print("%-22s %9d %6d %10d %10.5f %10.0f %10.0f %8.0f" % (sys.argv[2], m["report"]["triangles"], len(lods),
      last["triangles"], last["error"], kb(lods[0], "glb"), kb(lods[0], "draco"), m["timings_ms"]["total"]))
PY
done
echo
echo "outputs: demo-out/<model>/ (manifest.json, lod*.glb, certificate.json); log: lodestone-data/log"
"$bin" log checkpoint 2>/dev/null || true
