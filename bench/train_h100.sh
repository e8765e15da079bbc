#!/usr/bin/env bash
# `plugdata train` itself on one GPU: a ~0.78B Llama built from a config (random weights), a
# synthetic PLUG set, packed 2048-token rows, batch 8, bf16, defaults otherwise (on a GPU:
# flex attention, compiled decoder layers, fixed-shape packed batches). Prints the product's
# own windowed tokens/s and MFU (after the warm-up steps) and its warm-up cost.
#
#   bash bench/train_h100.sh [STEPS] [more plugdata train flags, e.g. --no-compile]
#
# Where the machine lacks trl/datasets, carry wheels in .whl/ (see bench/README or the device
# notes); they are installed into /tmp/site first. Logs go to $OUT (or /tmp/plugbench/out).
set -euo pipefail
STEPS=${1:-120}
shift || true
WORK=${WORK:-/tmp/plugbench}
LOGS=${OUT:-$WORK/out}
mkdir -p "$LOGS"
if [ -z "${NO_WHEELS:-}" ] && [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  wheels=$(ls .whl/*.whl | grep -v pyarrow || true)
  # datasets needs pyarrow >= 24: install the carried one only where the machine's is older
  if ! python3 -c "import pyarrow, sys; sys.exit(int(pyarrow.__version__.split('.')[0]) < 24)"; then
    wheels="$wheels $(ls .whl/pyarrow-*.whl 2>/dev/null || true)"
  fi
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site $wheels
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader || true
python3 -c "import torch, transformers, trl, datasets; print('torch', torch.__version__, \
'transformers', transformers.__version__, 'trl', trl.__version__, 'datasets', datasets.__version__)"
python3 -c "import pyarrow; print('pyarrow', pyarrow.__version__)"
# SET_ARGS: other sizes for bench/train_set.py, e.g. "--hidden 256 --layers 4" for a CPU try
[ -d $WORK/model ] || python3 bench/train_set.py --out $WORK --rows 4000 ${SET_ARGS:-}
start=$(date +%s)
set +e
python3 -m plugdata.train --data $WORK/run --langs zh --model $WORK/model --out $WORK/sft \
  --batch-size ${BATCH:-8} --max-length ${SEQ:-2048} --max-steps "$STEPS" --logging-steps 10 --save-steps 100000 \
  --eval-fraction 0 --lr 1e-5 "$@" > "$LOGS/train.log" 2>&1
rc=$?
set -e
echo "plugdata train exit $rc after $(( $(date +%s) - start )) s"
tr '\r' '\n' < "$LOGS/train.log" | grep -E "Compiling|Warm-up|window_|Throughput|Error|error" \
  | sed -E "s/'(learning_rate|entropy|mean_token_accuracy|epoch|num_tokens)': '[^']*', //g" | tail -25
exit $rc
