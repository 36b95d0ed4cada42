#!/usr/bin/env bash
# Cancels running jobs and stops the standalone TaskManager and JobManager started by start-cluster.sh.
#   deploy/standalone/stop-cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
url="$(rest_url)"
if curl -fs "$url/jobs/overview" >/dev/null 2>&1; then
  for id in $(curl -fs "$url/jobs/overview" | grep -o '"jid":"[0-9a-f]*","name":"[^"]*","start-time":[0-9]*,"end-time":-1' \
      | sed 's/"jid":"\([0-9a-f]*\)".*/\1/'); do
    echo "cancelling job $id"
    curl -fs -X PATCH "$url/jobs/$id?mode=cancel" >/dev/null || true
  done
fi
for p in taskmanager jobmanager; do
  if is_running "$p"; then
    pid="$(cat "$PID_DIR/$p.pid")"
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then echo "$p did not stop in 10 s; killing it"; kill -9 "$pid"; fi
    echo "stopped $p (pid $pid)"
  fi
  rm -f "$PID_DIR/$p.pid"
done
