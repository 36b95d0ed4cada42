#!/usr/bin/env bash
# Submits the MPVSS job jar (flink-job/target/mpvss-flink-job-*-job.jar) to the standalone cluster with Flink's
# own client (org.apache.flink.client.cli.CliFrontend, i.e. `flink run -d`), then waits until it is RUNNING.
#   deploy/standalone/submit.sh --kafka.bootstrap-servers HOST:PORT [--key value ...]
# Every argument goes to the job (JobOptions keys, Flink keys); --model.dir defaults to this repository's
# model-ops/bundle. Prints the job id.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

args=("$@")
if [[ " ${args[*]-} " != *" --model.dir "* ]]; then
  args+=(--model.dir "$REPO_ROOT/model-ops/bundle")
fi
[[ " ${args[*]} " == *" --kafka.bootstrap-servers "* ]] || { echo "submit.sh: --kafka.bootstrap-servers HOST:PORT is required" >&2; exit 2; }
url="$(rest_url)"
curl -fs "$url/overview" >/dev/null 2>&1 || die "no cluster at $url (start it with deploy/standalone/start-cluster.sh)"

out="$("$JAVA" "${JVM_OPENS[@]}" -Dlog.file="$LOG_DIR/client.log" \
    -Dlog4j.configurationFile="$FLINK_CONF_DIR/log4j-cli.properties" \
    -Dlog4j2.configurationFile="$FLINK_CONF_DIR/log4j-cli.properties" \
    -cp "$FLINK_CP" org.apache.flink.client.cli.CliFrontend run -d -c io.mpvss.job.MpvssJob "$JOB_JAR" "${args[@]}" 2>&1)" \
  || { echo "$out" >&2; die "submission failed (client log: $LOG_DIR/client.log)"; }
echo "$out" | grep -v '^$' >&2 || true
job_id="$(echo "$out" | sed -n 's/.*JobID \([0-9a-f]\{32\}\).*/\1/p' | tail -n1)"
[[ -n "$job_id" ]] || die "could not find the job id in the client's output"
for _ in $(seq 1 120); do
  state="$(curl -fs "$url/jobs/$job_id" | sed -n 's/.*"state":"\([A-Z]*\)".*/\1/p' | head -n1)"
  [[ "$state" == RUNNING || "$state" == FAILED || "$state" == FINISHED || "$state" == CANCELED ]] && break
  sleep 0.5
done
echo "job $job_id: ${state:-unknown}"
echo "$job_id"
[[ "$state" == RUNNING || "$state" == FINISHED ]]
