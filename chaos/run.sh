#!/usr/bin/env bash
# Run every experiment in chaos/ with chaostoolkit against the engines in TEMPORAL_ADDRESS
# (`make chaos` starts them with `orchlab exec`), then the latency experiment once more with
# its mitigation off, and write the resilience report. Each run gets a task queue and a state
# folder of its own, so no run reads another's records. Exit 1 unless every experiment held
# and the run without mitigation deviated.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${ORCHLAB_BIN:-.venv/bin}
out=${ORCHLAB_CHAOS_OUT:-.state/chaos}
stamp=$(date +%s)
mkdir -p "$out/journals"

run() {  # run NAME EXPERIMENT [chaos run options...]
    local name=$1 experiment=$2; shift 2
    local began=$SECONDS
    ORCHLAB_CHAOS_DIR="$out/$name" ORCHLAB_CHAOS_TASK_QUEUE="chaos-$name-$stamp" \
        "$bin/chaos" --no-version-check --log-file "$out/$name.log" run "$experiment" \
        --journal-path "$out/journals/$name.json" "$@" > /dev/null 2>&1
    echo "==> $name: exit $? in $((SECONDS - began)) s (journal $out/journals/$name.json)"
}

held=()
for experiment in chaos/*.json; do
    name=$(basename "$experiment" .json)
    run "$name" "$experiment"
    held+=("$out/journals/$name.json")
done
run dependency-latency-no-mitigation chaos/dependency-latency.json \
    --var-file chaos/vars/no-mitigation.json
"$bin/orchlab" chaos report "${held[@]}" --out "$out/report" \
    --without-mitigation "$out/journals/dependency-latency-no-mitigation.json"
