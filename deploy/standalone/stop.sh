#!/usr/bin/env bash
# Stops a job with a savepoint (Flink's client: `flink stop --savepointPath DIR JOB`): sources stop, a last
# savepoint is taken (the Kafka sinks commit everything before it), and the job ends FINISHED. Waits for both, then
# prints the savepoint's path (last line), which submit.sh --from-savepoint takes, at the same or another
# parallelism.
#   deploy/standalone/stop.sh --savepoint DIR [JOB_ID]
# Without JOB_ID, the cluster's one running job. DIR: a directory (or file:// / s3:// URI) every process can reach.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

usage() { echo "usage: stop.sh --savepoint DIR [JOB_ID]" >&2; exit 2; }
target=""
job_id=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --savepoint) [[ $# -ge 2 && -n "$2" ]] || usage; target="$2"; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "stop.sh: unknown option $1" >&2; usage ;;
    *) [[ -z "$job_id" ]] || usage; job_id="$1"; shift ;;
  esac
done
[[ -n "$target" ]] || { echo "stop.sh: --savepoint DIR is required" >&2; usage; }
# A local path becomes an absolute file:// URI: the JobManager resolves it, not this shell.
[[ "$target" == *://* ]] || { mkdir -p "$target"; target="file://$(cd "$target" && pwd)"; }

url="$(rest_url)"
curl -fs "$url/overview" >/dev/null 2>&1 || die "no cluster at $url"
if [[ -z "$job_id" ]]; then
  running="$(curl -fs "$url/jobs" | grep -o '"id":"[0-9a-f]*","status":"RUNNING"' | sed 's/"id":"\([0-9a-f]*\)".*/\1/')"
  [[ -n "$running" ]] || die "no running job at $url"
  [[ "$(echo "$running" | wc -l)" -eq 1 ]] || die "more than one running job at $url: name one ($(echo $running))"
  job_id="$running"
fi
[[ "$(job_state "$job_id")" == RUNNING ]] || die "job $job_id is not running (state: $(job_state "$job_id"))"

echo "stopping job $job_id with a savepoint in $target ..." >&2
out="$(flink_cli stop --savepointPath "$target" "$job_id" 2>&1)" \
  || { echo "$out" >&2; die "stop-with-savepoint failed (client log: $LOG_DIR/client.log; the job keeps running)"; }
path="$(echo "$out" | sed -n 's/.*Savepoint completed\. Path: *//p' | tail -n1)"
[[ -n "$path" ]] || { echo "$out" >&2; die "no savepoint path in the client's output"; }
for _ in $(seq 1 120); do
  state="$(job_state "$job_id")"
  [[ "$state" == FINISHED || "$state" == FAILED || "$state" == CANCELED ]] && break
  sleep 0.5
done
[[ "$state" == FINISHED ]] || die "job $job_id is $state after stop-with-savepoint"
echo "job $job_id: FINISHED, savepoint $path" >&2
echo "$path"
