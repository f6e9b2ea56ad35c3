#!/usr/bin/env bash
# The README's first command: installs everything (scripts/setup.sh), then runs a real multi-round
# self-correction experiment (BBQ, baseline vs self-correct, 5 rounds) on the default model and
# writes its report. Idempotent: a finished run is reused, a killed one is resumed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ISC=${ISC_BUILD_DIR:-build}/isc
STORE=results/quickstart.sqlite
mkdir -p results
"$ISC" run runs/bbq-selfcorrect.yaml --limit "${ISC_QUICKSTART_LIMIT:-200}" --out "$STORE" --reuse \
  --html results/quickstart.html
