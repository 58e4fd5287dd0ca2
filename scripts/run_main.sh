#!/usr/bin/env bash
# The README's main job on the embedded default (photographic synthetic shoes), end to end:
#   synthetic data -> TFRecord shards -> quick training -> SavedModel export ->
#   the local TF-Serving-compatible gRPC server -> a scripted 4-turn edit session over gRPC
#   -> out/demo_session/strip.png
# Re-running reuses what is already there (the build, a finished run, the export) and resumes
# a training run that was killed. Environment overrides: DATA_DIR, RUN_DIR, EXPORT_DIR, OUT_DIR,
# NUM_SESSIONS, EPOCHS, CONFIG, DATASET; EDITOR_APP=1 ends by serving the interactive editor on the new model.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
. "$ROOT/scripts/setup_env.sh"
cd "$ROOT"

DATASET="${DATASET:-photo_zap_seq}"
CONFIG="${CONFIG:-quick}"
DATA_DIR="${DATA_DIR:-data}"
RUN_DIR="${RUN_DIR:-runs/${CONFIG}_${DATASET}}"
EXPORT_DIR="${EXPORT_DIR:-exports}"
OUT_DIR="${OUT_DIR:-out/demo_session}"
NUM_SESSIONS="${NUM_SESSIONS:-20000}"
MODEL=seqattngan
EPOCH_FLAG=()
[ -n "${EPOCHS:-}" ] && EPOCH_FLAG=(--epochs="$EPOCHS")
start=$(date +%s)
step() { echo; echo "=== [$(( $(date +%s) - start ))s] $*"; }

# Lines TensorFlow's C++ runtime writes to stderr on this kind of machine that are no fault, so
# that every warning or error the job shows is one to read. TF_CPP_MIN_LOG_LEVEL cannot select
# them (it would hide every error), so they are dropped by pattern, each for a known reason:
# - "cuda_platform.cc:51] failed call to cuInit: ... UNKNOWN ERROR (303)": the tensorflow wheel
#   is built with CUDA and probes for a GPU driver on every start; there is none on a CPU-only
#   machine (CUDA_VISIBLE_DEVICES="" or -1 does not stop the probe: tested).
# - "oneDNN supports DT_BOOL only on platforms with AVX-512": oneDNN (turned on in setup_env.sh
#   for its speed) runs boolean ops with the default kernels on this CPU.
# - "meta_optimizer.cc:...] remapper failed: INVALID_ARGUMENT: Mutation::Apply error": grappler's
#   fusion pass cannot fuse a BiasAdd whose output the gradient also reads, and grappler keeps
#   that graph as it was before the pass. Turning the pass off ({"remapping": False}) would only
#   lose the fusions it does make in the other graphs.
# - "op_level_cost_estimator.cc:...] Error in PredictCost() for the op: ...": grappler's cost
#   model has no estimate for an op of unknown rank (the server's Softmax) and leaves it out of
#   its estimate; the op runs as usual.
# - "All log messages before absl::InitializeLog() is called are written to STDERR": absl's
#   note that comes with the first such line.
TF_NOISE="cuda_platform\.cc:[0-9]+\] failed call to cuInit"
TF_NOISE+="|oneDNN supports DT_BOOL only on platforms with AVX-512"
TF_NOISE+="|meta_optimizer\.cc:[0-9]+\] remapper failed: INVALID_ARGUMENT: Mutation::Apply error"
TF_NOISE+="|op_level_cost_estimator\.cc:[0-9]+\] Error in PredictCost\(\) for the op: "
TF_NOISE+="|^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"
# Runs "$@" with those lines dropped from its stderr (stdout untouched); returns its status.
tf_quiet() {
  { "$@" 2>&1 1>&3 3>&- | { grep -v -E --line-buffered "$TF_NOISE" >&2 3>&- || true; }; } 3>&1
}

step "1/5 build $DATASET ($NUM_SESSIONS sessions) under $DATA_DIR"
python scripts/build_dataset.py --dataset="$DATASET" --data_dir="$DATA_DIR" \
  --num_sessions="$NUM_SESSIONS" --seed=0

step "2/5 train the $CONFIG config into $RUN_DIR (resumes if interrupted)"
tf_quiet python scripts/train.py --dataset="$DATASET" --config="$CONFIG" --data_dir="$DATA_DIR" \
  --run_dir="$RUN_DIR" --verbose=2 "${EPOCH_FLAG[@]}"

step "3/5 export to $EXPORT_DIR/$MODEL/<version>"
latest=$(ls -1 "$EXPORT_DIR/$MODEL" 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tail -1 || true)
if [ -n "$latest" ] && [ "$EXPORT_DIR/$MODEL/$latest" -nt "$RUN_DIR/final.weights.h5" ] \
    && [ "$EXPORT_DIR/$MODEL/$latest" -nt "$RUN_DIR/config.json" ]; then
  echo "version $latest is newer than the run's weights and config: keeping it"
else
  tf_quiet python scripts/export.py --run_dir="$RUN_DIR" --export_dir="$EXPORT_DIR" --model_name="$MODEL"
fi

step "4/5 serve $EXPORT_DIR/$MODEL on 127.0.0.1 (a free port)"
PORT_FILE="$(mktemp)"
rm -f "$PORT_FILE"
python scripts/serve.py --model_base_path="$EXPORT_DIR/$MODEL" --model_name="$MODEL" \
  --port=0 --port_file="$PORT_FILE" 2> >(grep -v -E --line-buffered "$TF_NOISE" >&2) &
SERVER_PID=$!
trap 'kill -TERM $SERVER_PID 2>/dev/null || true; wait $SERVER_PID 2>/dev/null || true' EXIT
# Loading and warming up the model takes a while on a busy 2-core machine (150 s seen): wait up
# to 10 minutes, or until the server process has ended.
for _ in $(seq 1 600); do
  [ -s "$PORT_FILE" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 1
done
[ -s "$PORT_FILE" ] || { echo "the server did not come up (its log is above)" >&2; exit 1; }
PORT=$(cat "$PORT_FILE")
echo "serving on 127.0.0.1:$PORT"

step "5/5 scripted edit session over gRPC (examples/shoe_edits.txt)"
tf_quiet python scripts/edit.py --server="127.0.0.1:$PORT" --model_name="$MODEL" --from_dataset \
  --data_dir="$DATA_DIR" --dataset="$DATASET" --commands=examples/shoe_edits.txt \
  --out_dir="$OUT_DIR"

step "done"
echo "  shards:          $DATA_DIR/$DATASET/"
echo "  run:             $RUN_DIR (strips in $RUN_DIR/strips/, TensorBoard in $RUN_DIR/tensorboard/)"
echo "  SavedModel:      $EXPORT_DIR/$MODEL/"
echo "  edit session:    $OUT_DIR/ (strip: $(ls "$OUT_DIR"/*strip*.png 2>/dev/null | head -1))"
echo
EDITOR_CMD=(python scripts/editor_app.py --server="127.0.0.1:$PORT" --model_name="$MODEL"
  --data_dir="$DATA_DIR" --dataset="$DATASET")
if [ "${EDITOR_APP:-0}" = 1 ]; then
  echo "Interactive editor on the model just served: http://127.0.0.1:7860/ (Ctrl-C stops both)"
  echo "  ${EDITOR_CMD[*]}"
  "${EDITOR_CMD[@]}"
else
  echo "Edit in the browser: EDITOR_APP=1 bash scripts/run_main.sh keeps this server up and runs"
  echo "  ${EDITOR_CMD[*]}      # http://127.0.0.1:7860/"
  echo "or, once this job has stopped its server:"
  echo "  python scripts/serve.py --model_base_path=$EXPORT_DIR/$MODEL --model_name=$MODEL --port=8500 &"
  echo "  python scripts/editor_app.py --server=127.0.0.1:8500 --model_name=$MODEL --data_dir=$DATA_DIR --dataset=$DATASET"
fi
