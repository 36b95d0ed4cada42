#!/usr/bin/env bash
# Submits the MPVSS job jar (flink-job/target/mpvss-flink-job-*-job.jar) to the standalone cluster with Flink's
# own client (org.apache.flink.client.cli.CliFrontend, i.e. `flink run -d`), then waits until it is RUNNING.
#   deploy/standalone/submit.sh [--from-savepoint DIR] [--parallelism N] --kafka.bootstrap-servers HOST:PORT [--key value ...]
#     --from-savepoint DIR  restore from a savepoint (or retained checkpoint), e.g. the path stop.sh printed
#                           (flink run -s); the job's state (every stream's key frame) and Kafka offsets come back
#     --parallelism N       the job's parallelism (flink run -p); with --from-savepoint this rescales the job
# Every other argument goes to the job (JobOptions keys, Flink keys); --model.dir defaults to this repository's
# model-ops/bundle. Prints the job id (last line).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

flink_opts=()
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --from-savepoint)
      [[ $# -ge 2 && -n "$2" ]] || { echo "submit.sh: --from-savepoint needs a savepoint path" >&2; exit 2; }
      flink_opts+=(-s "$2"); shift 2 ;;
    --parallelism)
      [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: --parallelism needs a positive integer, found '${2:-}'" >&2; exit 2; }
      flink_opts+=(-p "$2"); shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
if [[ " ${args[*]-} " != *" --model.dir "* ]]; then
  args+=(--model.dir "$REPO_ROOT/model-ops/bundle")
fi
[[ " ${args[*]} " == *" --kafka.bootstrap-servers "* ]] || { echo "submit.sh: --kafka.bootstrap-servers HOST:PORT is required" >&2; exit 2; }
url="$(rest_url)"
curl -fs "$url/overview" >/dev/null 2>&1 || die "no cluster at $url (start it with deploy/standalone/start-cluster.sh)"

out="$(flink_cli run -d ${flink_opts[@]+"${flink_opts[@]}"} -c io.mpvss.job.MpvssJob "$JOB_JAR" "${args[@]}" 2>&1)" \
  || { echo "$out" >&2; die "submission failed (client log: $LOG_DIR/client.log)"; }
echo "$out" | grep -v '^$' >&2 || true
job_id="$(echo "$out" | sed -n 's/.*JobID \([0-9a-f]\{32\}\).*/\1/p' | tail -n1)"
[[ -n "$job_id" ]] || die "could not find the job id in the client's output"
for _ in $(seq 1 120); do
  state="$(job_state "$job_id")"
  [[ "$state" == RUNNING || "$state" == FAILED || "$state" == FINISHED || "$state" == CANCELED ]] && break
  sleep 0.5
done
echo "job $job_id: ${state:-unknown}"
echo "$job_id"
[[ "$state" == RUNNING || "$state" == FINISHED ]]
