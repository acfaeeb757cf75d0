#!/usr/bin/env bash
# Side by side: no-op `lbdeploy up` of another build against this one, alternating, on the lab's
# scale fleet (whatever `lab up --scale N` left up). Prints each run's wall time (process start
# included) and SSH connections, then the medians. Asserts nothing.
#   git worktree add /tmp/old REV && (cd /tmp/old && ln -s "$PWD/node_modules" . && npm run build)
#   bench/compare.sh /tmp/old/dist/src/cli/main.js [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
other=${1:?usage: bench/compare.sh OTHER_BUILD/dist/src/cli/main.js [RUNS]}
runs=${2:-5}
inv=.lbdeploy/lab/scale.yaml
[ -f "$inv" ] || { echo "no scale fleet: run 'lbdeploy lab up --scale N' first" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
node dist/src/cli/main.js up "$inv" >/dev/null # converged before the first timed run
for i in $(seq "$runs"); do
  for which in other this; do
    main=dist/src/cli/main.js; [ "$which" = other ] && main=$other
    s=$(date +%s%N); node "$main" up "$inv" --json >"$out/run.json"; e=$(date +%s%N)
    conns=$(grep '"type":"recap"' "$out/run.json" | node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(0, "utf8")).connections))')
    echo "$which $(( (e - s) / 1000000 )) $conns" | tee -a "$out/all"
  done
done
for which in other this; do
  grep "^$which " "$out/all" | sort -k2 -n | awk -v w="$which" '{ms[NR]=$2; c[NR]=$3} END {m=int((NR+1)/2); printf "%s: median %d ms, %d connections (%d runs)\n", w, ms[m], c[m], NR}'
done
