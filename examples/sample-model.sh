#!/usr/bin/env bash
# Writes a small, real model directory (the complete artifact contract, reference/ included)
# for tests, benchmarks and anyone trying the server: generates a synthetic data set and
# trains briefly on CPU (about 20-40 s on one core).
#
#   examples/sample-model.sh DIR [image|tabular]
#
#   image    (default) face-attributes multi-head CNN, 64x64 RGB, heads beard, mustache,
#            glasses, hair_length, hair_color
#   tabular  iris-like tensor model, 4 features -> species
#
# Environment: PYTHON (default /usr/bin/python3, Debian's interpreter with python3-torch),
# SAMPLE_SEED (default 7), SAMPLE_COUNT (images, default 1500), extra trainer options in
# SAMPLE_TRAIN_ARGS (e.g. "--epochs=3").
set -euo pipefail

dir=${1:?usage: examples/sample-model.sh DIR [image|tabular]}
kind=${2:-image}
python=${PYTHON:-/usr/bin/python3}
seed=${SAMPLE_SEED:-7}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/modelship-sample.XXXXXX")
trap 'rm -rf "$work"' EXIT

mkdir -p "$dir"
export TERMINATION_MESSAGE_PATH="$work/termination-message.json"
# shellcheck disable=SC2086 # SAMPLE_TRAIN_ARGS is a list of options on purpose
case "$kind" in
  image)
    "$python" "$here/datasets/face_attributes.py" --out "$work/data" --count "${SAMPLE_COUNT:-1500}" --seed "$seed" >/dev/null
    "$python" "$here/trainers/image-classifier/train.py" --data "$work/data" --out "$dir" \
      --seed="$seed" --width=8 --epochs=14 --patience=3 --reference_size=120 --max_seconds=50 \
      ${SAMPLE_TRAIN_ARGS:-}
    ;;
  tabular)
    "$python" "$here/trainers/tabular/train.py" --data "$work/data" --out "$dir" --generate \
      --generate_seed="$seed" --seed="$seed" ${SAMPLE_TRAIN_ARGS:-}
    ;;
  *)
    echo "sample-model.sh: unknown kind '$kind' (image or tabular)" >&2
    exit 2
    ;;
esac
echo "sample model ($kind) written to $dir: $(cat "$TERMINATION_MESSAGE_PATH")"
