#!/usr/bin/env bash
# upload_bench.sh [BUILD_DIR]: uploads per minute `lodestone serve` sustains on the corpus scans:
# the scans (shared/corpus/scans/*) are uploaded through the HTTP API ROUNDS times (raw bodies,
# back to back, each acknowledged 202), and the clock runs from the first upload to the last
# asset ready. Prints per-asset times, then uploads/min and the mean time from accept to ready.
# Needs redis-server and curl; runs under a temp dir and stops everything on exit.
# Env: LDS_SHARED_DIR (the shared/ folder), BENCH_ROUNDS (default 2), BENCH_WORKERS (default 2).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
bin=$build/cli/lodestone
shared=${LDS_SHARED_DIR:-$here/../shared}
rounds=${BENCH_ROUNDS:-2}
workers=${BENCH_WORKERS:-2}
for tool in redis-server curl python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "upload_bench: $tool is not installed" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "upload_bench: $bin not built" >&2; exit 2; }
scans=("$shared"/corpus/scans/*)
[ -f "${scans[0]}" ] || { echo "upload_bench: no corpus under $shared/corpus/scans" >&2; exit 2; }

tmp=$(mktemp -d /tmp/lds-upload-bench.XXXXXX)
redis_pid="" serve_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  [ -n "$redis_pid" ] && kill -TERM "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

mkdir -p "$tmp/redis" "$tmp/home"
redis-server --port 0 --unixsocket "$tmp/redis/redis.sock" --unixsocketperm 700 --dir "$tmp/redis" \
  --appendonly yes --appendfsync always --save '' --logfile "$tmp/redis/redis.log" &
redis_pid=$!
export LODESTONE_HOME=$tmp/home LODESTONE_REDIS_URL=unix://$tmp/redis/redis.sock
for _ in $(seq 100); do [ -S "$tmp/redis/redis.sock" ] && break; sleep 0.1; done
"$bin" keys init >/dev/null 2>&1
key=$("$bin" keys create --role ops --name bench 2>/dev/null)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LODESTONE_LISTEN=127.0.0.1:$port "$bin" serve --workers "$workers" >"$tmp/serve.log" 2>&1 &
serve_pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 300); do curl -sf "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

now() { date +%s.%N; }
ids=() names=()
start=$(now)
for round in $(seq "$rounds"); do
  for scan in "${scans[@]}"; do
    name=$(basename "$scan")
    id=$(curl -sf -H "Authorization: Bearer $key" --data-binary "@$scan" \
      "$base/v1/assets?filename=$name&title=$name%20$round&license=CC0-1.0" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["asset"]["id"])')
    ids+=("$id") names+=("$name")
  done
done
accepted=$(now)
failed=0 finished=0
done_at=()
for i in "${!ids[@]}"; do done_at[$i]=""; done
while [ "$finished" -lt ${#ids[@]} ]; do
  for i in "${!ids[@]}"; do
    [ -n "${done_at[$i]}" ] && continue
    status=$(curl -sf -H "Authorization: Bearer $key" "$base/v1/assets/${ids[$i]}" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
    if [ "$status" = ready ] || [ "$status" = failed ]; then
      done_at[$i]=$(now)
      finished=$((finished + 1))
      [ "$status" = failed ] && failed=$((failed + 1))
      printf '%-22s %-7s %6.1f s after the first upload\n' "${names[$i]}" "$status" \
        "$(python3 -c "print(${done_at[$i]} - $start)")"
    fi
  done
  sleep 0.2
done
end=$(now)
count=${#ids[@]}
python3 - "$start" "$accepted" "$end" "$count" "$failed" "$workers" <<'EOF'
import sys
start, accepted, end, count, failed, workers = map(float, sys.argv[1:])
elapsed = end - start
print("RESULT %d uploads (%d failed) in %.1f s with %d workers: %.1f uploads/min (all accepted in %.1f s)"
      % (count, failed, elapsed, workers, count / elapsed * 60, accepted - start))
EOF
