#!/usr/bin/env bash
# Creates the MPVSS topics (frames, masks, frames-dlq) from kafka-config/topics.properties with Apache Kafka's
# kafka-topics.sh. Existing topics are left alone (--if-not-exists).
#
#   kafka-config/create-topics.sh --bootstrap-server HOST:PORT [--command-config client.properties]
#                                 [--replication-factor N] [--partitions N] [--spec FILE] [--dry-run]
#                                 [--frames-max-bytes N]
#
# max.message.bytes of frames and frames-dlq is derived from the spec's frames.max-bytes (the job's option of the
# same name; --frames-max-bytes overrides it): frames +64 KiB, frames-dlq +128 KiB (kafka-config/README.md).
#
# kafka-topics.sh is looked up in $KAFKA_HOME/bin, then on PATH. Without a Kafka distribution use
# `./mpvss topics --bootstrap-servers HOST:PORT` (same spec file, Java Admin client).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
spec="$here/topics.properties"
bootstrap=""
command_config=""
rf_override=""
partitions_override=""
dry_run=0
frames_max_bytes=""

usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "create-topics.sh: $*" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --bootstrap-server|--bootstrap-servers) bootstrap="${2:-}"; shift 2 ;;
    --command-config) command_config="${2:-}"; shift 2 ;;
    --replication-factor) rf_override="${2:-}"; shift 2 ;;
    --partitions) partitions_override="${2:-}"; shift 2 ;;
    --spec) spec="${2:-}"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    --frames-max-bytes) frames_max_bytes="${2:-}"; shift 2 ;;
    -h|--help|help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ -n "$bootstrap" ]] || { usage >&2; die "--bootstrap-server HOST:PORT is required"; }
[[ -f "$spec" ]] || die "no topic spec file: $spec"
[[ -z "$command_config" || -f "$command_config" ]] || die "no such --command-config file: $command_config"

kafka_topics=""
if [[ -n "${KAFKA_HOME:-}" && -x "$KAFKA_HOME/bin/kafka-topics.sh" ]]; then
  kafka_topics="$KAFKA_HOME/bin/kafka-topics.sh"
elif command -v kafka-topics.sh >/dev/null 2>&1; then
  kafka_topics="$(command -v kafka-topics.sh)"
elif command -v kafka-topics >/dev/null 2>&1; then
  kafka_topics="$(command -v kafka-topics)"   # Confluent packaging
fi
if [[ -z "$kafka_topics" && $dry_run -eq 0 ]]; then
  die "kafka-topics.sh not found (set KAFKA_HOME or put it on PATH; or use ./mpvss topics, or --dry-run)"
fi

# the spec: key=value lines, '#' comments
prop() { grep -E "^$1=" "$spec" | tail -n1 | cut -d= -f2- || true; }
topics=$(grep -E '^[A-Za-z0-9._-]+\.partitions=' "$spec" | sed 's/\.partitions=.*//')
frames_max_bytes="${frames_max_bytes:-$(prop 'frames\.max-bytes')}"
frames_max_bytes="${frames_max_bytes:-4194304}"
[[ "$frames_max_bytes" =~ ^[0-9]+$ && "$frames_max_bytes" -ge 1024 && "$frames_max_bytes" -le 268435456 ]] \
  || die "frames.max-bytes must be bytes between 1024 and 268435456, found '$frames_max_bytes'"
headroom=65536
[[ -n "$topics" ]] || die "no <topic>.partitions entries in $spec"

for t in $topics; do
  p="${partitions_override:-$(prop "$t.partitions")}"
  rf="${rf_override:-$(prop "$t.replication-factor")}"
  rf="${rf:-1}"
  args=(--bootstrap-server "$bootstrap" --create --if-not-exists --topic "$t" --partitions "$p"
        --replication-factor "$rf")
  [[ -n "$command_config" ]] && args+=(--command-config "$command_config")
  while IFS= read -r line; do
    kv="${line#"$t".config.}"
    name="${kv%%=*}"
    value="${kv#*=}"
    # min.insync.replicas above the replication factor would make the topic unwritable
    if [[ "$name" == "min.insync.replicas" && "$value" -gt "$rf" ]]; then value="$rf"; fi
    args+=(--config "$name=$value")
  done < <(grep -E "^${t//./\\.}\.config\." "$spec" | { if [[ "$t" == frames || "$t" == frames-dlq ]]; then
             grep -v '\.config\.max\.message\.bytes='; else cat; fi; } || true)
  case "$t" in
    frames) args+=(--config "max.message.bytes=$((frames_max_bytes + headroom))") ;;
    frames-dlq) args+=(--config "max.message.bytes=$((frames_max_bytes + 2 * headroom))") ;;
  esac
  if [[ $dry_run -eq 1 ]]; then
    echo "${kafka_topics:-kafka-topics.sh} ${args[*]}"
  else
    echo "creating $t (partitions=$p, replication-factor=$rf)"
    "$kafka_topics" "${args[@]}"
  fi
done
