#!/usr/bin/env bash
# http_bench.sh [BUILD_DIR]: LOD serving throughput of `lodestone serve` against nginx serving
# the same file on loopback, in the same run: wrk -t2 -c32 -d10s on GET /v1/assets/ID/lods/0
# (with an ops key) and on nginx's copy of the LOD file. Prints requests/s of both and the ratio
# (issue 4's bar: >= 0.5, goal 0.9).
# Needs redis-server, curl, wrk and nginx (Debian packages wrk, nginx: install them for the
# benchmark only). Everything runs under a temp dir and is stopped on exit.
# Env: LDS_SHARED_DIR (the shared/ folder with the corpus), BENCH_MODEL (default: the corpus bunny, else an assimp test model), BENCH_DURATION (10s),
#      BENCH_FORMAT (glb|draco|meshopt, default glb), BENCH_LEVEL (default 0).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
bin=$build/cli/lodestone
duration=${BENCH_DURATION:-10s}
format=${BENCH_FORMAT:-glb}
level=${BENCH_LEVEL:-0}
for tool in redis-server curl wrk nginx; do
  command -v "$tool" >/dev/null 2>&1 || { echo "http_bench: $tool is not installed" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "http_bench: $bin not built" >&2; exit 2; }
shared=${LDS_SHARED_DIR:-$here/../shared}
model=${BENCH_MODEL:-$shared/corpus/scans/stanford-bunny.obj}
[ -f "$model" ] || model=/usr/share/assimp/models/PLY/Wuson.ply

tmp=$(mktemp -d /tmp/lds-http-bench.XXXXXX)
chmod 755 "$tmp"
redis_pid="" serve_pid="" nginx_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill -TERM "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
  [ -n "$redis_pid" ] && kill -TERM "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

mkdir -p "$tmp/redis" "$tmp/home" "$tmp/www" "$tmp/nginx"
redis-server --port 0 --unixsocket "$tmp/redis/redis.sock" --unixsocketperm 700 --dir "$tmp/redis" \
  --appendonly yes --appendfsync always --save '' --logfile "$tmp/redis/redis.log" &
redis_pid=$!
export LODESTONE_HOME=$tmp/home LODESTONE_REDIS_URL=unix://$tmp/redis/redis.sock
for _ in $(seq 100); do [ -S "$tmp/redis/redis.sock" ] && break; sleep 0.1; done
"$bin" keys init >/dev/null 2>&1
key=$("$bin" keys create --role ops --name bench 2>/dev/null)
port=$(free_port)
LODESTONE_LISTEN=127.0.0.1:$port "$bin" serve >"$tmp/serve.log" 2>&1 &
serve_pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 300); do curl -sf "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

name=$(basename "$model")
asset=$(curl -sf -H "Authorization: Bearer $key" --data-binary "@$model" \
  "$base/v1/assets?filename=$name&title=bench&license=CC0-1.0" | python3 -c 'import json,sys; print(json.load(sys.stdin)["asset"]["id"])')
status=""
for _ in $(seq 600); do
  status=$(curl -sf -H "Authorization: Bearer $key" "$base/v1/assets/$asset" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
  [ "$status" = ready ] || [ "$status" = failed ] && break
  sleep 0.2
done
[ "$status" = ready ] || { echo "http_bench: $name ended '$status'" >&2; exit 1; }
url="$base/v1/assets/$asset/lods/$level?format=$format"
curl -sf -H "Authorization: Bearer $key" -o "$tmp/www/lod.glb" "$url"
chmod 644 "$tmp/www/lod.glb"
bytes=$(stat -c %s "$tmp/www/lod.glb")

nport=$(free_port)
cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  types { model/gltf-binary glb; }
  server { listen 127.0.0.1:$nport; root $tmp/www; etag on; }
}
EOF
nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" &
nginx_pid=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$nport/lod.glb" && break; sleep 0.1; done

rps() { awk '/^Requests\/sec:/ {print $2}'; }
echo "file: LOD$level $format of $name, $bytes bytes"
echo "lodestone: wrk -t2 -c32 -d$duration $url"
lds_out=$(wrk -t2 -c32 -d"$duration" -H "Authorization: Bearer $key" "$url")
echo "$lds_out" | sed 's/^/  /'
echo "nginx: wrk -t2 -c32 -d$duration http://127.0.0.1:$nport/lod.glb"
ngx_out=$(wrk -t2 -c32 -d"$duration" "http://127.0.0.1:$nport/lod.glb")
echo "$ngx_out" | sed 's/^/  /'
lds_rps=$(echo "$lds_out" | rps)
ngx_rps=$(echo "$ngx_out" | rps)
ratio=$(python3 -c "print('%.2f' % ($lds_rps / $ngx_rps))")
echo "RESULT lodestone ${lds_rps} req/s, nginx ${ngx_rps} req/s, ratio ${ratio} (file ${bytes} bytes)"
