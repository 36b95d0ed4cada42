#!/usr/bin/env bash
# Starts a local standalone Flink session cluster: one JobManager (StandaloneSessionClusterEntrypoint) and one
# TaskManager (TaskManagerRunner), each a JVM process on the project's Maven classpath, configured by
# deploy/standalone/conf. Waits until the REST API answers and the TaskManager has registered.
#   deploy/standalone/start-cluster.sh
# Then: submit.sh (a job), status.sh, stop-cluster.sh. Logs: $MPVSS_STANDALONE_DIR/log (default /tmp/mpvss-standalone).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

command -v curl >/dev/null 2>&1 || die "curl not found (used to wait for the REST API)"
url="$(rest_url)"

start_process() { # name main-class resource-params-kind
  local name="$1" main="$2" kind="$3"
  if is_running "$name"; then echo "$name already running (pid $(cat "$PID_DIR/$name.pid"))"; return; fi
  local params jvm dyn
  params="$(flink_memory_params "$kind")"
  jvm="$(echo "$params" | head -n1)"
  dyn="$(echo "$params" | sed -n 2p)"
  # shellcheck disable=SC2086
  nohup "$JAVA" $jvm "${JVM_OPENS[@]}" \
    -Dlog.file="$LOG_DIR/$name.log" -Dlog4j.configurationFile="$FLINK_CONF_DIR/log4j.properties" \
    -Dlog4j2.configurationFile="$FLINK_CONF_DIR/log4j.properties" \
    -cp "$FLINK_CP" "$main" --configDir "$FLINK_CONF_DIR" $dyn \
    >"$LOG_DIR/$name.out" 2>&1 </dev/null &
  echo $! >"$PID_DIR/$name.pid"
  echo "started $name (pid $!, log $LOG_DIR/$name.log)"
}

start_process jobmanager org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint GET_JM_RESOURCE_PARAMS
for _ in $(seq 1 120); do
  curl -fs "$url/overview" >/dev/null 2>&1 && break
  is_running jobmanager || { tail -n 30 "$LOG_DIR/jobmanager.out" "$LOG_DIR/jobmanager.log" >&2; die "the JobManager exited"; }
  sleep 0.5
done
curl -fs "$url/overview" >/dev/null || die "the JobManager's REST API did not come up at $url"
echo "JobManager REST API at $url"

start_process taskmanager org.apache.flink.runtime.taskexecutor.TaskManagerRunner GET_TM_RESOURCE_PARAMS
for _ in $(seq 1 120); do
  tms="$(curl -fs "$url/overview" | sed -n 's/.*"taskmanagers":\([0-9]*\).*/\1/p')"
  [[ "${tms:-0}" -ge 1 ]] && break
  is_running taskmanager || { tail -n 30 "$LOG_DIR/taskmanager.out" "$LOG_DIR/taskmanager.log" >&2; die "the TaskManager exited"; }
  sleep 0.5
done
[[ "${tms:-0}" -ge 1 ]] || die "no TaskManager registered with the JobManager"
echo "cluster up: $(curl -fs "$url/overview")"
