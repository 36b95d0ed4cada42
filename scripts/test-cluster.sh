#!/usr/bin/env bash
# Second CI stage (scripts/test.sh runs it last): the job on a real cluster of separate processes.
# tests/ StandaloneClusterTest (JUnit tag "cluster", Maven profile -Pcluster): a Kafka broker process, a JobManager
# and a TaskManager started by deploy/standalone/start-cluster.sh, the job jar submitted with submit.sh; a
# TaskManager killed with SIGKILL and replaced, stop.sh with a savepoint, restores at parallelism 2 and 1, and the
# TaskManager's Prometheus /metrics scraped. Every port is a free ephemeral port. Measured: 5 min 16 s and 7 min 4 s
# for `time scripts/test-cluster.sh` (the test itself 272 s and 312 s; the rest is Maven) on the 2-core development
# machine shared with other builds (load average 20-31).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v curl >/dev/null 2>&1 || { echo "test-cluster.sh: curl is needed (deploy/standalone scripts)" >&2; exit 1; }
# -am: the job jar (flink-job) and the cluster classpath (cli/target/classpath.txt) come from this build.
mvn -B -ntp verify -Pcluster -pl tests -am -Dtest='StandaloneClusterTest' -Dsurefire.failIfNoSpecifiedTests=false
