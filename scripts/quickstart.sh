#!/usr/bin/env bash
# The README's first command: installs everything (scripts/setup.sh), then runs a real multi-round
# self-correction experiment (BBQ, baseline vs self-correct, 5 rounds, hidden states of 3 layers)
# on the default model, scores the bias concept on it, and writes its report. Idempotent: a finished run is reused, a killed one is resumed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ISC=${ISC_BUILD_DIR:-build}/isc
STORE=results/quickstart.sqlite
mkdir -p results
# A store written by an older isc (another schema version) is kept under a new name, never changed.
if [ -f "$STORE" ] && ! "$ISC" report "$STORE" --json >/dev/null 2>results/.quickstart-check.err; then
  if grep -q "is older than this isc" results/.quickstart-check.err; then
    old="results/quickstart.$(date -u +%Y%m%d-%H%M%S).old-schema.sqlite"
    echo "quickstart: $STORE was written by an older isc; kept as $old, starting a new store"
    mv "$STORE" "$old"
    for ext in -wal -shm; do [ -f "$STORE$ext" ] && mv "$STORE$ext" "$old$ext"; done
  fi
fi
rm -f results/.quickstart-check.err
"$ISC" run runs/bbq-selfcorrect.yaml --limit "${ISC_QUICKSTART_LIMIT:-200}" --out "$STORE" --reuse --no-report
# The bias concept (BBQ stereotype statements vs their anti-stereotyped counterparts), learnt on the
# run's model at the captured layers, scored on every stored hidden state; then the report.
"$ISC" concept score "$STORE" --concept concepts/bias.yaml --limit 1000 --seed 1 -q \
  --directions-out results/quickstart.bias.directions.json
# The per-round table with the concept statistics, and the HTML report.
"$ISC" report "$STORE" --html results/quickstart.html --directions results/quickstart.bias.directions.json
# The mechanism analyses (latent-concept fit, simulation task with baselines, CL/CS theory,
# predict-stop after the fact); the HTML report has them too.
"$ISC" analyze "$STORE" --directions results/quickstart.bias.directions.json -o results/quickstart.mechanism.txt
echo "quickstart: mechanism analyses in results/quickstart.mechanism.txt"
