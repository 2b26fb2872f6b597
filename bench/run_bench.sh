#!/usr/bin/env bash
# `make bench`: the SQS end-to-end benchmark, postbox and moto_server measured in the same run
# the same way: the server pinned to CPU 0 (`taskset -c 0`), the load generator on CPU 1,
# 1 KiB messages, SendMessageBatch(10) / ReceiveMessage(10, long poll) / DeleteMessageBatch,
# postbox with fsync'd sends. Every run is bounded by --seconds; servers are stopped by PID.
# postbox also runs the same workload in the query protocol (reported as a share of the JSON
# figure), a FIFO workload (high-throughput mode, BENCH_GROUPS message groups, default 100;
# reported as messages/s and as a share of the standard-queue figure) and SNS
# fan-out workloads (Publish to a topic with 1, 10 and 100 queue subscriptions, each run
# BENCH_FANOUT_SECONDS long, default SECONDS). Issue 3's strongest fsync-before-ack peer,
# Redis streams with `appendfsync always`, runs the same workload pinned the same way
# (bench/redis_loadgen.cc says how the calls map), and moto_server as the SQS emulator peer.
# Last, send-to-receive latency at a light fixed rate (50 and 1,000 msg/s, one message per
# send, BENCH_LATENCY_SECONDS long, default SECONDS), postbox and Redis one after the other.
#
# Usage: bench/run_bench.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
build=${1:-build}
seconds=${2:-10}
loadgen="$build/postbox-loadgen"
producers=${BENCH_PRODUCERS:-32}
consumers=${BENCH_CONSUMERS:-16}
# Producers outrun consumers, so the load generator bounds the messages sent but not yet
# received; at saturation the send-to-receive latency is about this backlog / throughput.
backlog=${BENCH_BACKLOG:-1000}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server on port $1 did not start" >&2
  return 1
}
# postbox answers on its port while it loads its state: wait until /readyz says it serves.
wait_ready() {
  for _ in $(seq 300); do
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
      "http://127.0.0.1:$1/readyz" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "postbox on port $1 did not become ready" >&2
  return 1
}
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "workload: ${seconds}s, 1 KiB messages, batches of 10, $producers producer and $consumers consumer connections, at most $backlog messages outstanding"

port=$(free_port)
taskset -c 0 "$build/postbox" serve --dev --listen "127.0.0.1:$port" --data-dir "$work/postbox" \
  --server-io-threads 1 > "$work/postbox.log" 2>&1 &
pids+=($!)
wait_ready "$port"
postbox=$(taskset -c 1 "$loadgen" --port "$port" --seconds "$seconds" \
  --producers "$producers" --consumers "$consumers" --max-backlog "$backlog")
echo "postbox: $postbox"
# The same workload in SQS's query protocol (form bodies, XML answers), as Celery/kombu and
# older SDKs speak it; reported as a share of the JSON figure.
query=$(taskset -c 1 "$loadgen" --port "$port" --seconds "$seconds" --queue bench-query \
  --protocol query --producers "$producers" --consumers "$consumers" --max-backlog "$backlog")
echo "postbox query protocol: $query"
# FIFO workload on the same server: high-throughput mode, messages spread over $groups groups.
groups=${BENCH_GROUPS:-100}
fifo=$(taskset -c 1 "$loadgen" --port "$port" --seconds "$seconds" --queue bench-fifo \
  --fifo 1 --groups "$groups" --producers "$producers" --consumers "$consumers" --max-backlog "$backlog")
echo "postbox FIFO ($groups groups): $fifo"

# SNS fan-out on the same server: Publish to a topic with 1, 10 and 100 queue subscriptions
# (raw delivery), consumers draining every queue; published and delivered messages/s.
fanout_seconds=${BENCH_FANOUT_SECONDS:-$seconds}
fanouts=()
for n in 1 10 100; do
  result=$(taskset -c 1 "$loadgen" --port "$port" --seconds "$fanout_seconds" --queue bench \
    --fanout "$n" --producers 16 --consumers 16 --max-backlog "$backlog")
  echo "postbox SNS fan-out to $n queues: $result"
  fanouts+=("$result")
done

redis_port=$(free_port)
mkdir "$work/redis"
taskset -c 0 redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work/redis" --save "" \
  --appendonly yes --appendfsync always --daemonize no > "$work/redis.log" 2>&1 &
pids+=($!)
wait_port "$redis_port"
redis=$(taskset -c 1 "$build/postbox-loadgen-redis" --port "$redis_port" --seconds "$seconds" \
  --producers "$producers" --consumers "$consumers" --max-backlog "$backlog")
echo "redis streams (appendfsync always): $redis"

moto_port=$(free_port)
taskset -c 0 python3 -m moto.server -H 127.0.0.1 -p "$moto_port" > "$work/moto.log" 2>&1 &
pids+=($!)
wait_port "$moto_port"
moto=$(taskset -c 1 "$loadgen" --port "$moto_port" --seconds "$seconds" \
  --producers "$producers" --consumers "$consumers" --max-backlog "$backlog")
echo "moto:    $moto"

# Light-load latency, postbox and the Redis peer alternately on the same machine: one
# message per send at a fixed total rate, one long-polling consumer. At 1,000 msg/s the sends
# are spread over 8 connections, since each waits for its fsync before the next.
latency_seconds=${BENCH_LATENCY_SECONDS:-$seconds}
latencies=()
for rate in 50 1000; do
  senders=$([ "$rate" -ge 1000 ] && echo 8 || echo 1)
  pb=$(taskset -c 1 "$loadgen" --port "$port" --seconds "$latency_seconds" --queue "latency$rate" \
    --batch 1 --rate "$rate" --producers "$senders" --consumers 1)
  rd=$(taskset -c 1 "$build/postbox-loadgen-redis" --port "$redis_port" \
    --seconds "$latency_seconds" --stream "latency$rate" --batch 1 --rate "$rate" \
    --producers "$senders" --consumers 1)
  echo "latency at $rate msg/s: postbox $pb"
  echo "latency at $rate msg/s: redis   $rd"
  latencies+=("$pb" "$rd")
done

python3 - "${latencies[@]}" <<'PY'
import json, sys
runs = [json.loads(a) for a in sys.argv[1:]]
for p, rd in zip(runs[0::2], runs[1::2]):
    print("send-to-receive at %d msg/s: postbox p50 %.2f ms, p99 %.2f ms; redis streams p50 %.2f ms, "
          "p99 %.2f ms" % (p["rate"], p["p50_ms"], p["p99_ms"], rd["p50_ms"], rd["p99_ms"]))
PY

python3 - "$postbox" "$moto" "$fifo" "$redis" "$query" "${fanouts[@]}" <<'PY'
import json, sys
p, m, f, rd, q = (json.loads(a) for a in sys.argv[1:6])
for r in (json.loads(a) for a in sys.argv[6:]):
    print("fan-out to %d queues: %.0f published/s, %.0f delivered/s, p99 publish-to-receive %.1f ms"
          % (r["fanout"], r["sent_per_s"], r["received_per_s"], r["p99_ms"]))
def ratio(a, b):
    return a["received_per_s"] / b["received_per_s"] if b["received_per_s"] else float("inf")
print("end to end: postbox %.0f msg/s (p50 %.1f ms, p99 %.1f ms), moto %.0f msg/s: %.1fx"
      % (p["received_per_s"], p["p50_ms"], p["p99_ms"], m["received_per_s"], ratio(p, m)))
print("peer: redis streams (appendfsync always) %.0f msg/s (p50 %.1f ms, p99 %.1f ms): "
      "postbox is %.2fx" % (rd["received_per_s"], rd["p50_ms"], rd["p99_ms"], ratio(p, rd)))
share = f["received_per_s"] / p["received_per_s"] if p["received_per_s"] else 0
print("query protocol: postbox %.0f msg/s (p50 %.1f ms, p99 %.1f ms): %.2f of the JSON figure"
      % (q["received_per_s"], q["p50_ms"], q["p99_ms"], ratio(q, p)))
print("FIFO: postbox %.0f msg/s (p50 %.1f ms, p99 %.1f ms): %.2f of the standard-queue figure"
      % (f["received_per_s"], f["p50_ms"], f["p99_ms"], share))
PY
