#!/usr/bin/env bash
# Regenerates docs/BENCHMARKS.md end to end (issue 4):
#   1. build the job (Maven; JMH classes are generated at test-compile),
#   2. generate the held-out synthetic test split with model-ops' generator, at the bundle's resolution,
#   3. `mpvss eval`: quality against cost at K = 1,2,3,5,10 through the operator, + fp32/fp16/uint8 mask state,
#   4. `mpvss bench`: embedded Kafka + Flink MiniCluster, S = 1,8,64 streams, K=1 against K=5, latency for
#      exactly-once and at-least-once, model-only bound, profile, state bytes, memory,
#   5. JMH microbenchmarks of the Java hot paths,
#   6. docs/BENCHMARKS.md (+ docs/img/tradeoff.png) from the outputs of 3-5, with the machine and these commands.
#
# Sizes are flags (defaults: about 15-20 minutes on a 2-core machine):
#   scripts/bench.sh [--model.dir DIR] [--clips N] [--frames N] [--intervals 1,2,3,5,10] [--streams 1,8,64]
#                    [--frames-total N] [--paced-seconds N] [--jmh "-f 1 -wi 2 -w 1s -i 3 -r 1s"]
#                    [--out DIR] [--doc docs/BENCHMARKS.md] [--threads N] [--no-build] [--quick]
# --threads: ONNX Runtime intra-op threads (inference.threads) for eval and bench, default 1 (Flink, the broker and
#            the clients need the other core); bench also measures model-only with 1 and 2 threads.
# --quick: a smoke run (few clips, streams 1,8, short JMH); it still writes the doc, so use it with --doc elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

MODEL=model-ops/bundle
CLIPS=20
FRAMES=40
INTERVALS=1,2,3,5,10
STREAMS=1,8,64
FRAMES_TOTAL=320
PACED_SECONDS=6
JMH_OPTS="-f 1 -wi 2 -w 1s -i 3 -r 1s"
OUT=target/bench
DOC=docs/BENCHMARKS.md
BUILD=1
THREADS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --model.dir) MODEL=$2; shift 2 ;;
    --clips) CLIPS=$2; shift 2 ;;
    --frames) FRAMES=$2; shift 2 ;;
    --intervals) INTERVALS=$2; shift 2 ;;
    --streams) STREAMS=$2; shift 2 ;;
    --frames-total) FRAMES_TOTAL=$2; shift 2 ;;
    --paced-seconds) PACED_SECONDS=$2; shift 2 ;;
    --jmh) JMH_OPTS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --doc) DOC=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --threads) THREADS=$2; shift 2 ;;
    --quick) CLIPS=3; FRAMES=20; INTERVALS=1,5; STREAMS=1,8; FRAMES_TOTAL=100; PACED_SECONDS=3
             JMH_OPTS="-f 1 -wi 1 -w 1s -i 1 -r 1s"; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

PY=/usr/bin/python3
START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
step() { printf '\n==> [%s, +%ds] %s\n' "$(date -u +%H:%M:%S)" "$(( $(date +%s) - START ))" "$*"; }
mkdir -p "$OUT"
CMDS="$OUT/commands.txt"
: > "$CMDS"
# run CMD...: print it, record it for the doc, run it
# (classpaths are recorded as the expressions that build them, not as their long expansions)
run() {
  local rec="$*"
  [ -n "${TCP:-}" ] && rec=${rec//"$TCP"/"$SNAP/test:$SNAP/job:\$(cat $SNAP/test-classpath.txt)"}
  [ -n "${CP:-}" ] && rec=${rec//"$CP"/"$SNAP/main:$SNAP/job:\$(cat $SNAP/classpath.txt)"}
  printf '%s\n' "$rec" >> "$CMDS"; printf '$ %s\n' "$rec"; "$@"
}

if [ ! -f "$MODEL/manifest.json" ]; then
  echo "bench.sh: no model bundle at $MODEL (manifest.json missing)" >&2; exit 1
fi

if [ "$BUILD" = 1 ]; then
  step "build (Maven, tests not run)"
  run mvn -B -q -ntp -DskipTests install
  (cd flink-job && mvn -B -q -ntp dependency:build-classpath -Dmdep.includeScope=test \
      -Dmdep.outputFile=target/test-classpath.txt >/dev/null)
fi
# A snapshot of the build for this run: a concurrent `mvn clean`/compile in the checkout must not pull classes from
# under a long run. MPVSS_CP / MPVSS_TEST_CP override the classpaths (development only).
SNAP="$OUT/classes"
if [ -z "${MPVSS_CP:-}" ]; then
  rm -rf "$SNAP" && mkdir -p "$SNAP"
  # main: the tools (cli) and the job's classes; the tools' classpath names the job module's jar: point it at the copy
  cp -r cli/target/classes "$SNAP/main"
  cp -r flink-job/target/classes "$SNAP/job"
  cp -r flink-job/target/test-classes "$SNAP/test"
  tr ':' '\n' < cli/target/classpath.txt | grep -v '/mpvss-flink-job-[^/]*\.jar$' | paste -sd: - > "$SNAP/classpath.txt"
  cp flink-job/target/test-classpath.txt "$SNAP/test-classpath.txt"
fi
CP=${MPVSS_CP:-"$SNAP/main:$SNAP/job:$(cat "$SNAP/classpath.txt")"}
# the terminal gets progress lines and errors; everything else goes to $OUT/mpvss.log
JAVA=(java -Xmx6g -Dlog4j2.configurationFile=log4j2-cli.properties -Dmpvss.log.console.level=error
      -Dmpvss.log.file="$OUT/mpvss.log" -cp "$CP")

step "test split: $CLIPS clips x $FRAMES frames at the bundle's resolution (model-ops generator)"
read -r H W < <("$PY" -c "import json,sys; m=json.load(open(sys.argv[1])); print(m['input']['height'], m['input']['width'])" "$MODEL/manifest.json")
SPLIT="$OUT/test-split"
rm -rf "$SPLIT"
run "$PY" model-ops/scripts/synth.py --split test --clips "$CLIPS" --frames "$FRAMES" --height "$H" --width "$W" \
    --format jpg --out "$SPLIT"

step "eval: K=$INTERVALS through the operator (+ state.mask-precision=fp32,fp16 at K=5 against the default uint8)"
run "${JAVA[@]}" io.mpvss.cli.Mpvss eval --clips "$SPLIT" --model.dir "$MODEL" --intervals "$INTERVALS" \
    --compare state.mask-precision=fp32,fp16,uint8 --compare-k 5 --inference.threads "$THREADS" --out "$OUT/eval"

step "bench: S=$STREAMS streams, K=1 vs K=5, Kafka + Flink, model-only bound, state, memory"
run "${JAVA[@]}" io.mpvss.cli.Mpvss bench --clips "$SPLIT" --model.dir "$MODEL" --streams "$STREAMS" \
    --intervals 1,5 --frames-total "$FRAMES_TOTAL" --paced-seconds "$PACED_SECONDS" --inference.threads "$THREADS" \
    --out "$OUT/bench"

step "JMH microbenchmarks ($JMH_OPTS)"
Q=$("$PY" -c "import json,sys; m=json.load(open(sys.argv[1])); print(m['queries'], m['query_dim'], len(m['classes']))" "$MODEL/manifest.json")
read -r NQ QD NC <<< "$Q"
TCP=${MPVSS_TEST_CP:-"$SNAP/test:$SNAP/job:$(cat "$SNAP/test-classpath.txt")"}
# shellcheck disable=SC2086
run java -cp "$TCP" org.openjdk.jmh.Main $JMH_OPTS -p size="${H}x${W}" -p queries="$NQ" -p queryDim="$QD" \
    -p classes="$NC" -rf json -rff "$OUT/jmh.json" 'io\.mpvss\.jmh\..*'

step "machine"
{
  echo "cores (nproc): $(nproc)"
  echo "cpu: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
  echo "memory: $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
  echo "os: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") $(uname -r)"
  echo "load average (1, 5, 15 min) at the start: $LOAD_START, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "run: $(date -u -d @"$START" '+%Y-%m-%d %H:%M') to $(date -u '+%H:%M') UTC"
  java -version 2>&1 | head -3
  echo "ONNX Runtime: $(sed -n 's#.*onnxruntime[^/]*/\([0-9.]*\)/.*#\1#p' <<< "$(tr ':' '\n' < cli/target/classpath.txt | grep onnxruntime | head -1)") (CPU execution provider)"
  echo "model: $MODEL ($(sed -n 's/.*"name": *"\([^"]*\)".*/\1/p' "$MODEL/manifest.json" | head -1), input ${W}x${H} WxH)"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt"

step "docs: $DOC"
mkdir -p "$(dirname "$DOC")/img"
PLOT="$(dirname "$DOC")/img/tradeoff.png"
cp "$OUT/eval/tradeoff.png" "$PLOT"
{ echo "# the whole run:"; echo "scripts/bench.sh"; echo; echo "# which ran:"; cat "$CMDS"; } > "$OUT/commands-doc.txt"
"${JAVA[@]}" io.mpvss.bench.BenchmarksDoc --eval "$OUT/eval/eval.json" --bench "$OUT/bench/bench.json" \
    --jmh "$OUT/jmh.json" --machine "$OUT/machine.txt" --commands "$OUT/commands-doc.txt" --plot "$PLOT" --out "$DOC"
step "done in $(( ($(date +%s) - START) / 60 )) min"
