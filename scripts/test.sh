#!/usr/bin/env bash
# The project's test command (README: "Run the tests"). It sets up what a fresh Debian
# machine lacks (Python packages for model-ops, a JDK and Maven), then runs every test:
# the model-ops suite (PyTorch), the parity vectors of the bundled and of a freshly
# exported tiny model, and the Maven build with the Java unit, harness and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

step "set-up: system packages"
need_apt=()
command -v java  >/dev/null 2>&1 || need_apt+=(openjdk-17-jdk-headless)
command -v mvn   >/dev/null 2>&1 || need_apt+=(maven)
# ffmpeg: `mpvss produce` of a video file is tested end to end against the broker
command -v ffmpeg >/dev/null 2>&1 || need_apt+=(ffmpeg)
# curl: the standalone-cluster scripts wait on Flink's REST API with it (scripts/test-cluster.sh)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
# chromium: the live view (mpvss view) is tested in a headless browser; python3-confluent-kafka (+ Pillow, numpy):
# the Python consumer example examples/python/masks_to_png.py is tested against the broker
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
/usr/bin/python3 -c 'import confluent_kafka, PIL, numpy' >/dev/null 2>&1 \
  || need_apt+=(python3-confluent-kafka python3-pil python3-numpy)
# GStreamer's RTSP server (python3-gi, x264enc): the camera gateway pulling from an RTSP server (CamerasRtspPullTest)
/usr/bin/python3 cli/src/test/python/rtsp_server.py --check >/dev/null 2>&1 \
  || need_apt+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
                gstreamer1.0-plugins-ugly)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "missing ${need_apt[*]}: install them (apt-get) or run as root" >&2; exit 1; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
model-ops/setup.sh

PY=/usr/bin/python3
PARITY="$ROOT/target/parity"
rm -rf "$PARITY"; mkdir -p "$PARITY"

step "model-ops tests (pytest)"
"$PY" -m pytest -q model-ops/tests

step "parity vectors: the bundled model and a fresh tiny export"
"$PY" model-ops/scripts/parity_vectors.py --bundle model-ops/bundle --out "$PARITY/bundle"
"$PY" model-ops/scripts/export.py --preset tiny --random-init --out "$PARITY/tiny-bundle" --vectors "$PARITY/tiny"

step "Java: build, unit, harness, parity and end-to-end tests (Maven)"
mvn -B -ntp verify \
  -Dmpvss.parity.dirs="$ROOT/model-ops/bundle=$PARITY/bundle,$PARITY/tiny-bundle=$PARITY/tiny"

# The README's other command, on the jars `mvn verify` just built: guards the launcher itself (it once picked
# the -tests.jar that verify writes next to the module jar) and the demo's whole path on embedded defaults.
step "demo: ./mpvss demo on the built jars"
MPVSS_NO_BUILD=1 ./mpvss demo --out "$ROOT/target/demo-smoke"
test -s "$ROOT/target/demo-smoke/summary.json"

# Second stage: the job on a standalone cluster of separate processes (broker, JobManager, TaskManager), with a
# TaskManager killed, stop-with-savepoint, rescaling and the Prometheus endpoint (scripts/test-cluster.sh).
step "cluster: failover, savepoints, rescale and metrics on a standalone cluster"
scripts/test-cluster.sh
