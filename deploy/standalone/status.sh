#!/usr/bin/env bash
# Shows the standalone cluster's processes and jobs (REST API).
#   deploy/standalone/status.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
url="$(rest_url)"
for p in jobmanager taskmanager; do
  if is_running "$p"; then echo "$p: running (pid $(cat "$PID_DIR/$p.pid"))"; else echo "$p: not running"; fi
done
if curl -fs "$url/overview" >/dev/null 2>&1; then
  echo "overview: $(curl -fs "$url/overview")"
  echo "jobs:     $(curl -fs "$url/jobs/overview" | sed 's/"tasks":{[^}]*},//g')"
else
  echo "no REST API at $url"
fi
