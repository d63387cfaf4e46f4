#!/usr/bin/env bash
# Builds the benchmark jar and runs JMH, then prints ops/s, p50/p99 and AMB 1P1S / ArrayBlockingQueue.
#
# Usage: amb-benchmarks/run-benchmarks.sh [INCLUDE_REGEX] [JMH options...]
#   INCLUDE_REGEX  JMH include pattern; default: dev.amb.benchmarks.inmemory
#                  (other backends' benchmarks live in sibling packages: run them by name)
#   JMH options    passed through and override the defaults below, e.g. -f 2 -i 10 -prof gc
#                  (set the result file with RESULT=..., not -rff, so the summary can read it)
# Environment: SKIP_BUILD=1 reuses the last jar; RESULT=path sets the JSON result file.
set -euo pipefail

cd "$(dirname "$0")/.."
include="dev.amb.benchmarks.inmemory"
if [[ $# -gt 0 && "$1" != -* ]]; then
	include="$1"
	shift
fi
result="${RESULT:-amb-benchmarks/target/jmh-result.json}"
jar="amb-benchmarks/target/amb-benchmarks.jar"

if [[ "${SKIP_BUILD:-0}" != "1" ]]; then
	./mvnw -B -q -pl amb-benchmarks -am package -DskipTests
fi

echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(java -version 2>&1 | head -1)"
echo "Load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine is noisy: compare numbers from one run only)"

# Defaults: one fork, 3 warm-up and 5 measured iterations of 3 s, each unless given on the command line
# (JMH refuses an option given twice).
args=()
default() {
	local option="$1" value="$2" given
	for given in "${@:3}"; do
		[[ "$given" == "$option" ]] && return
	done
	args+=("$option" "$value")
}
default -f 1 "$@"
default -wi 3 "$@"
default -w 3s "$@"
default -i 5 "$@"
default -r 3s "$@"
default -rf json "$@"
default -rff "$result" "$@"
rm -f "$result"
java -jar "$jar" "$include" "${args[@]}" "$@"
if [[ ! -s "$result" ]]; then
	echo "No JMH result in $result (did JMH fail, or find no benchmark matching '$include'?)" >&2
	exit 1
fi

python3 - "$result" <<'PY'
import json, sys

with open(sys.argv[1]) as f:
    runs = json.load(f)

def short(name):
    parts = name.split('.')
    return parts[-2] + '.' + parts[-1]

print()
print('%-56s %16s %12s %10s %10s' % ('benchmark', 'ops/s', '+-', 'p50 us', 'p99 us'))
throughput = {}
for run in runs:
    metric = run['primaryMetric']
    name = short(run['benchmark'])
    if run['mode'] == 'thrpt':
        throughput[name] = metric['score']
        print('%-56s %16.0f %12.0f %10s %10s' % (name, metric['score'], metric['scoreError'], '', ''))
    elif run['mode'] == 'sample':
        pct = metric['scorePercentiles']
        print('%-56s %16s %12s %10.2f %10.2f' % (name, '', '', pct['50.0'], pct['99.0']))
    else:
        print('%-56s %16.3f %12.3f %s' % (name, metric['score'], metric['scoreError'], metric['scoreUnit']))

amb = throughput.get('InMemoryThroughputBenchmark.amb1P1S')
abq = throughput.get('InMemoryThroughputBenchmark.abqHandOff')
if amb and abq:
    print()
    print('AMB 1P1S / ArrayBlockingQueue hand-off: %.0f / %.0f = %.1f%% (requirement: at least 50%%)'
          % (amb, abq, 100.0 * amb / abq))
PY
