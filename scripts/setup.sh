#!/usr/bin/env bash
# Installs everything lodestone needs to build, test, benchmark and run its demo on Debian 12.
# Idempotent: safe to run again. Needs root (or sudo) for apt-get.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential cmake pkg-config clang
  libassimp-dev assimp-testmodels assimp-utils
  libmeshoptimizer-dev gltfpack
  libdraco-dev draco
  libhiredis-dev redis-server
  libarchive-dev libzstd-dev zstd p7zip-full
  libsodium-dev libssl-dev libjansson-dev
  libmicrohttpd-dev libseccomp-dev
  libprotobuf-c-dev protobuf-c-compiler
  curl python3 python3-cryptography time
  python3-yaml
  libpng-dev libjpeg62-turbo-dev libwebp-dev
  chromium
)

missing=()
# Node.js may come from elsewhere with its own npm; only ask Debian for it when absent.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm tools for the tests (tools/package.json): the Khronos glTF Validator, glTF-Transform,
# three.js and playwright-core (which drives Debian's chromium; it never downloads a browser).
tools_missing=0
for p in $(node -e 'for (const d of Object.keys(require(process.argv[1]).dependencies)) console.log(d)' "$here/tools/package.json"); do
  [ -f "$here/tools/node_modules/$p/package.json" ] || tools_missing=1
done
if [ "$tools_missing" = 1 ]; then
  echo "setup: installing the npm test tools (tools/package.json)"
  (cd "$here/tools" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --silent)
fi
echo "setup: ok"
