#!/usr/bin/env bash
# The reliability suite at full size: the tests in tests/reliability with more kills on a larger
# company than `make test` uses, then, for each seed, a demo of the whole 200-person company
# under the hostile fault profile that must publish exactly what a clean demo publishes, each
# from a fresh home. Prints the figures the tests measured and what it compared; exits 1 on a
# difference.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
SEEDS=${RELIABILITY_SEEDS:-11 12}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

export KPIHUB_RELIABILITY_FIGURES="$work/figures.txt"
KPIHUB_RELIABILITY_KILLS=${RELIABILITY_KILLS:-24} \
KPIHUB_RELIABILITY_EMPLOYEES=${RELIABILITY_EMPLOYEES:-60} \
  "$BIN/pytest" -q -o addopts="-ra -n 2 --dist loadfile" tests/reliability || status=1
if [ -f "$KPIHUB_RELIABILITY_FIGURES" ]; then
  sed 's/^/reliability: /' "$KPIHUB_RELIABILITY_FIGURES"
fi

for seed in $SEEDS; do
  for profile in none hostile; do
    home="$work/$seed-$profile"
    echo "reliability: demo seed $seed, faults $profile"
    if ! KPIHUB_HOME="$home" "$BIN/kpihub" demo --seed "$seed" --faults "$profile" \
        >"$work/$seed-$profile.log" 2>&1; then
      echo "reliability: FAILED demo seed $seed faults $profile; its last lines:" >&2
      tail -n 20 "$work/$seed-$profile.log" >&2
      status=1
      continue 2
    fi
  done
  for period in $("$BIN/python" -c \
      'from orchestration.partitions import closed_periods; print(*closed_periods(3))'); do
    clean=$(KPIHUB_HOME="$work/$seed-none" "$BIN/kpihub" scores --period "$period" --json)
    hostile=$(KPIHUB_HOME="$work/$seed-hostile" "$BIN/kpihub" scores --period "$period" --json)
    count=$(printf '%s' "$clean" | "$BIN/python" -c 'import json, sys; print(len(json.load(sys.stdin)))')
    if [ "$clean" = "$hostile" ]; then
      echo "reliability: seed $seed $period: hostile publishes the same $count scores as clean"
    else
      echo "reliability: seed $seed $period: hostile and clean scores DIFFER" >&2
      status=1
    fi
  done
done
exit $status
