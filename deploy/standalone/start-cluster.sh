#!/usr/bin/env bash
# Starts a local standalone Flink session cluster: one JobManager (StandaloneSessionClusterEntrypoint) and one
# TaskManager (TaskManagerRunner), each a JVM process on the project's Maven classpath, configured by
# deploy/standalone/conf. Waits until the REST API answers and the TaskManager has registered.
#   deploy/standalone/start-cluster.sh
# Run again after a TaskManager died: it starts only what is not running, and waits until the NEW TaskManager has
# registered (the JobManager keeps counting a killed one until its heartbeat times out).
# Then: submit.sh (a job), status.sh, stop.sh (stop with a savepoint), stop-cluster.sh.
# Logs: $MPVSS_STANDALONE_DIR/log (default /tmp/mpvss-standalone); ports: see env.sh.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

command -v curl >/dev/null 2>&1 || die "curl not found (used to wait for the REST API)"
url="$(rest_url)"

start_process() { # name main-class resource-params-kind metrics-port
  local name="$1" main="$2" kind="$3" metrics_port="$4"
  if is_running "$name"; then echo "$name already running (pid $(cat "$PID_DIR/$name.pid"))"; return 1; fi
  local params jvm dyn extra=()
  params="$(flink_memory_params "$kind")"
  jvm="$(echo "$params" | head -n1)"
  dyn="$(echo "$params" | sed -n 2p)"
  [[ -n "$metrics_port" ]] && extra=(-D "metrics.reporter.prom.port=$metrics_port")
  # shellcheck disable=SC2086
  nohup "$JAVA" $jvm "${JVM_OPENS[@]}" \
    -Dlog.file="$LOG_DIR/$name.log" -Dlog4j.configurationFile="$FLINK_CONF_DIR/log4j.properties" \
    -Dlog4j2.configurationFile="$FLINK_CONF_DIR/log4j.properties" \
    -cp "$FLINK_CP" "$main" --configDir "$FLINK_CONF_DIR" $dyn ${FLINK_DYNAMIC[@]+"${FLINK_DYNAMIC[@]}"} ${extra[@]+"${extra[@]}"} \
    >>"$LOG_DIR/$name.out" 2>&1 </dev/null &
  echo $! >"$PID_DIR/$name.pid"
  echo "started $name (pid $!, log $LOG_DIR/$name.log)"
}

start_process jobmanager org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint \
  GET_JM_RESOURCE_PARAMS "${MPVSS_JM_METRICS_PORT:-}" || true
for _ in $(seq 1 120); do
  curl -fs "$url/overview" >/dev/null 2>&1 && break
  is_running jobmanager || { tail -n 30 "$LOG_DIR/jobmanager.out" "$LOG_DIR/jobmanager.log" >&2; die "the JobManager exited"; }
  sleep 0.5
done
curl -fs "$url/overview" >/dev/null || die "the JobManager's REST API did not come up at $url"
echo "JobManager REST API at $url"

# The TaskManagers the JobManager counts now: after a TaskManager was killed, the dead one is still among them, so
# "at least one registered" is not the test; a TaskManager id that was not there before is.
before="$(taskmanager_ids)"
if start_process taskmanager org.apache.flink.runtime.taskexecutor.TaskManagerRunner GET_TM_RESOURCE_PARAMS \
    "${MPVSS_TM_METRICS_PORT:-}"; then
  new=""
  for _ in $(seq 1 240); do
    new="$(comm -13 <(echo "$before") <(taskmanager_ids) | head -n1)"
    [[ -n "$new" ]] && break
    is_running taskmanager || { tail -n 30 "$LOG_DIR/taskmanager.out" "$LOG_DIR/taskmanager.log" >&2; die "the TaskManager exited"; }
    sleep 0.5
  done
  [[ -n "$new" ]] || die "the new TaskManager did not register with the JobManager in 120 s (log: $LOG_DIR/taskmanager.log)"
  echo "TaskManager $new registered"
elif [[ -z "$before" ]]; then
  die "a TaskManager process is running but none is registered with the JobManager (log: $LOG_DIR/taskmanager.log)"
fi
echo "cluster up: $(curl -fs "$url/overview")"
