#!/usr/bin/env bash
# Shared settings of the standalone-cluster scripts. Sourced, not run.
#   MPVSS_STANDALONE_DIR   where pids, logs, checkpoints and savepoints go (default /tmp/mpvss-standalone)
#   FLINK_CONF_DIR         Flink configuration (default deploy/standalone/conf)
#   JAVA                   java binary (default: $JAVA_HOME/bin/java or java)
# Ports, so that several clusters (or other services) can share a machine; unset = the value in config.yaml:
#   MPVSS_REST_PORT        JobManager REST API (rest.port, config.yaml: 8081)
#   MPVSS_RPC_PORT         JobManager RPC (jobmanager.rpc.port, config.yaml: 6123)
#   MPVSS_JM_METRICS_PORT  Prometheus endpoint of the JobManager (metrics.reporter.prom.port; a port or a range)
#   MPVSS_TM_METRICS_PORT  Prometheus endpoint of the TaskManager (metrics.reporter.prom.port; a port or a range)
#   MPVSS_FLINK_PROPERTIES more Flink settings for the JobManager, TaskManager and client, as whitespace-separated
#                          key=value pairs (e.g. "heartbeat.interval=1s heartbeat.timeout=5s")
set -euo pipefail

STANDALONE_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$STANDALONE_HOME/../.." && pwd)"
export FLINK_CONF_DIR="${FLINK_CONF_DIR:-$STANDALONE_HOME/conf}"
WORK_DIR="${MPVSS_STANDALONE_DIR:-/tmp/mpvss-standalone}"
mkdir -p "$WORK_DIR" && WORK_DIR="$(cd "$WORK_DIR" && pwd)"   # absolute: it becomes a file:// URI below
LOG_DIR="$WORK_DIR/log"
PID_DIR="$WORK_DIR/pid"
mkdir -p "$LOG_DIR" "$PID_DIR"

die() { echo "${0##*/}: $*" >&2; exit 1; }

port_var() { # name value [range]: a port number, or with "range" also a range a-b
  if [[ "${3:-}" == range ]]; then
    [[ -z "$2" || "$2" =~ ^[0-9]{1,5}(-[0-9]{1,5})?$ ]] || die "$1 must be a port number or a range a-b, found '$2'"
  else
    [[ -z "$2" || "$2" =~ ^[0-9]{1,5}$ ]] || die "$1 must be a port number, found '$2'"
  fi
}
port_var MPVSS_REST_PORT "${MPVSS_REST_PORT:-}"
port_var MPVSS_RPC_PORT "${MPVSS_RPC_PORT:-}"
port_var MPVSS_JM_METRICS_PORT "${MPVSS_JM_METRICS_PORT:-}" range
port_var MPVSS_TM_METRICS_PORT "${MPVSS_TM_METRICS_PORT:-}" range

# Flink settings given on the command line of every process (Flink's -D dynamic properties win over config.yaml):
# the ports above, checkpoints under $MPVSS_STANDALONE_DIR when it is set, and $MPVSS_FLINK_PROPERTIES (last: wins).
FLINK_DYNAMIC=()
[[ -n "${MPVSS_STANDALONE_DIR:-}" ]] && FLINK_DYNAMIC+=(-D "execution.checkpointing.dir=file://$WORK_DIR/checkpoints")
[[ -n "${MPVSS_REST_PORT:-}" ]] && FLINK_DYNAMIC+=(-D "rest.port=$MPVSS_REST_PORT")
[[ -n "${MPVSS_RPC_PORT:-}" ]] && FLINK_DYNAMIC+=(-D "jobmanager.rpc.port=$MPVSS_RPC_PORT")
for kv in ${MPVSS_FLINK_PROPERTIES:-}; do
  [[ "$kv" == *=* ]] || die "MPVSS_FLINK_PROPERTIES: '$kv' is not key=value"
  FLINK_DYNAMIC+=(-D "$kv")
done

if [[ -z "${JAVA:-}" ]]; then
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi
fi
command -v "$JAVA" >/dev/null 2>&1 || die "java not found (install a JDK 17+ or set JAVA_HOME)"

# Flink's distribution (flink-dist) is not on Maven Central, so the cluster runs on the project's own Maven
# classpath: flink-runtime, flink-clients, the RocksDB state backend, ONNX Runtime, the Kafka connector,
# log4j (cli/target/classpath.txt, written by `mvn package`). The job classes are NOT on it: they come with the
# submitted job jar, as on a real cluster.
CP_FILE="$REPO_ROOT/cli/target/classpath.txt"
JOB_JAR="$(ls "$REPO_ROOT"/flink-job/target/mpvss-flink-job-*-job.jar 2>/dev/null | head -n1 || true)"
if [[ ! -f "$CP_FILE" || -z "$JOB_JAR" ]]; then
  command -v mvn >/dev/null 2>&1 || die "no build found and mvn is missing: build with 'mvn -DskipTests install'"
  echo "building (mvn install of flink-job and cli) ..." >&2
  (cd "$REPO_ROOT" && mvn -B -q -Dmaven.test.skip=true -pl cli -am install) >&2
  JOB_JAR="$(ls "$REPO_ROOT"/flink-job/target/mpvss-flink-job-*-job.jar | head -n1)"
fi
# Like a Flink distribution's lib/: Flink, its state backends, ONNX Runtime (provided by the cluster, as in the
# container image) and logging; but not what the job jar brings itself (the Kafka connector and kafka-clients,
# Jackson) nor the demo's in-process broker and test kit. Two copies of kafka-clients (one here, one in the job
# jar) would break class loading: "loader constraint violation ... OffsetResetStrategy".
FLINK_CP="$(tr ':' '\n' <"$CP_FILE" | grep -vE '/(org/apache/kafka|com/fasterxml/jackson|org/junit|org/apiguardian|org/opentest4j)/|/flink-connector-kafka-|/mpvss-flink-job-' | paste -sd: -)"

# What Flink 2 on Java 17 needs (the same list as Flink's env.java.opts.all default).
JVM_OPENS=(
  --add-exports=java.base/sun.net.util=ALL-UNNAMED
  --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.text=ALL-UNNAMED
  --add-opens=java.base/java.time=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED
)

# JVM memory flags and dynamic properties for a process, computed by Flink itself from config.yaml
# (what bin/config.sh does with BashJavaUtils in the distribution). $1 = GET_JM_RESOURCE_PARAMS | GET_TM_RESOURCE_PARAMS
flink_memory_params() {
  local out
  out="$("$JAVA" -cp "$FLINK_CP" -Dlog4j2.configurationFile="$FLINK_CONF_DIR/log4j-cli.properties" \
      -Dlog.file="$LOG_DIR/bash-java-utils.log" org.apache.flink.runtime.util.bash.BashJavaUtils "$1" \
      --configDir "$FLINK_CONF_DIR" 2>&1)" || die "BashJavaUtils failed: $out"
  echo "$out" | grep '^BASH_JAVA_UTILS_EXEC_RESULT:' | sed 's/^BASH_JAVA_UTILS_EXEC_RESULT://'
}

rest_url() {
  local host port
  host="$(sed -n 's/^ *address: *//p' "$FLINK_CONF_DIR/config.yaml" | tail -n1)"
  port="${MPVSS_REST_PORT:-$(awk '/^rest:/{r=1} r && /^ *port:/{print $2; exit}' "$FLINK_CONF_DIR/config.yaml")}"
  echo "http://${host:-localhost}:${port:-8081}"
}

# Flink's own client (bin/flink in a distribution) against this cluster's REST API: CliFrontend ACTION [args].
flink_cli() {
  local action="$1"; shift
  "$JAVA" "${JVM_OPENS[@]}" -Dlog.file="$LOG_DIR/client.log" \
    -Dlog4j.configurationFile="$FLINK_CONF_DIR/log4j-cli.properties" \
    -Dlog4j2.configurationFile="$FLINK_CONF_DIR/log4j-cli.properties" \
    -cp "$FLINK_CP" org.apache.flink.client.cli.CliFrontend "$action" ${FLINK_DYNAMIC[@]+"${FLINK_DYNAMIC[@]}"} "$@"
}

# The ids of the TaskManagers the JobManager counts (a killed one stays until its heartbeat times out).
taskmanager_ids() { { curl -fs "$(rest_url)/taskmanagers" || true; } | { grep -o '"id":"[^"]*"' || true; } | sed 's/"id":"\(.*\)"/\1/' | sort; }

# A job's state (RUNNING, FINISHED, ...) from the REST API.
job_state() { curl -fs "$(rest_url)/jobs/$1" | sed -n 's/.*"state":"\([A-Z]*\)".*/\1/p' | head -n1; }

# A process that is alive (a killed one can linger as a zombie until its parent reaps it: not running).
is_running() {
  [[ -f "$PID_DIR/$1.pid" ]] || return 1
  local stat
  stat="$(ps -o stat= -p "$(cat "$PID_DIR/$1.pid")" 2>/dev/null || true)"
  [[ -n "$stat" && "$stat" != Z* ]]
}
