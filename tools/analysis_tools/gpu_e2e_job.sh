#!/usr/bin/env bash
# End-to-end training speed of the FRED configurations on one GPU machine,
# one after another in one job (the "end to end" table of
# docs/benchmarks.md): stock mmdet YOLOX-s with its own pipeline, this
# project's rgb and dual models, eager and compiled (dynamic and static
# shapes). Each run is its own process (tools/analysis_tools/
# benchmark_train_e2e.py): the real tools/train.py loop with --amp, its
# dataloader workers and hooks, no validation, no freeze stage.
#
# Usage:
#   bash tools/analysis_tools/gpu_e2e_job.sh DATA_ROOT OUT_DIR [TOOL ARGS]
#
#   DATA_ROOT  a converted FRED-layout sample, e.g. the 'large' generated
#              one (1280x720) with its event cache:
#                python tools/misc/generate_fred_sample.py data/fred_large \
#                    --preset large --num-sequences 10 --num-frames 200 \
#                    --num-test 2
#                python tools/dataset_converters/fred_converter.py data/fred_large
#                python tools/dataset_converters/fred_event_cache.py data/fred_large
#   OUT_DIR    gets e2e.json (all runs), e2e.txt (the table) and a folder
#              per run (its log, train_speed.json, inductor cache)
#   TOOL ARGS  more arguments for benchmark_train_e2e.py, e.g. further runs:
#              --run dual-device configs/fred_fusion/<device-path config>.py
#
# Environment (defaults in brackets):
#   RUNS         the runs to do, in order, from: stock rgb rgb-compiled dual
#                dual-compiled dual-compiled-static dual-device
#                dual-device-compiled dual-device-cudagraphs
#                ["stock dual dual-compiled"]
#   SIZE_PASSES  warm-up passes over the multi-scale sizes [1]; 3 for
#                dual-device-cudagraphs (a CUDA graph per size is run,
#                recorded, then replayed)
#   BATCH [64]  WORKERS [16]  WARMUP [10]  WINDOW [200]
#   RUN_TIMEOUT  seconds a run may take [170]; its window ends early (and
#                is marked incomplete) 45 s before, so every run reports
#   EVENT_CACHE  1: rgb / dual runs read event frames from the cache [1]
#   AMP          1: tools/train.py --amp (fp16; needs a GPU) [1]
#   PYTHON       [python]
#
# Time: a run costs its start (imports, dataset, workers), the warm-up (one
# iteration at each of the 11 multi-scale sizes with their compilations and
# cuDNN autotuning, then WORKERS x 2 iterations to drain the prefetch
# queue), WINDOW iterations and the rest of the epoch the window ends in.
# An iteration takes the longer of the step and the data pipeline's time
# for a batch: at the rates measured so far on the H200 machine (0.27-0.6 s
# per batch of 64, docs/benchmarks.md and the data pipeline figures) a
# 200-iteration window alone takes 1-2 minutes, so a 9-minute job holds
# three runs with RUN_TIMEOUT=170 (the default), and the other runs go into
# further jobs (put the stock run first in each: it is the reference of
# the "x first" column). Static shapes compile once per size (11 times):
# give dual-compiled-static a job of its own with a longer RUN_TIMEOUT.
set -euo pipefail

if [ $# -lt 2 ]; then
    sed -n '2,51p' "$0"
    exit 2
fi
DATA_ROOT=$1
OUT_DIR=$2
shift 2

PYTHON=${PYTHON:-python}
RUNS=${RUNS:-"stock dual dual-compiled"}
BATCH=${BATCH:-64}
WORKERS=${WORKERS:-16}
WARMUP=${WARMUP:-10}
WINDOW=${WINDOW:-200}
RUN_TIMEOUT=${RUN_TIMEOUT:-170}
EVENT_CACHE=${EVENT_CACHE:-1}
AMP=${AMP:-1}
SIZE_PASSES=${SIZE_PASSES:-1}

F=configs/fred_fusion
STOCK=$F/yolox_s_stock-rgb_1xb8-300e_fred.py
RGB=$F/yolox_s_rgb_1xb8-300e_fred.py
DUAL=$F/yolox_s_dual-concat_1xb8-300e_fred.py
DEVICE=$F/yolox_s_dual-concat_1xb8-300e_device-aug_fred.py
CACHE=()
if [ "$EVENT_CACHE" = 1 ]; then
    CACHE=(train_dataloader.dataset.dataset.pipeline.0.event_cache=True)
fi

ARGS=()
if [ "$AMP" = 1 ]; then
    ARGS+=(--amp)
fi
for name in $RUNS; do
    case $name in
        stock) ARGS+=(--run stock "$STOCK") ;;
        rgb) ARGS+=(--run rgb "$RGB" "${CACHE[@]}") ;;
        rgb-compiled)
            ARGS+=(--run rgb-compiled "$RGB" "${CACHE[@]}"
                   model.compile_network.shapes=dynamic) ;;
        dual) ARGS+=(--run dual "$DUAL" "${CACHE[@]}") ;;
        dual-compiled)
            ARGS+=(--run dual-compiled "$DUAL" "${CACHE[@]}"
                   model.compile_network.shapes=dynamic) ;;
        dual-compiled-static)
            ARGS+=(--run dual-compiled-static "$DUAL" "${CACHE[@]}"
                   model.compile_network.shapes=static) ;;
        dual-device) ARGS+=(--run dual-device "$DEVICE") ;;
        dual-device-compiled)
            ARGS+=(--run dual-device-compiled "$DEVICE"
                   model.compile_network.shapes=dynamic) ;;
        dual-device-cudagraphs)
            ARGS+=(--run dual-device-cudagraphs "$DEVICE"
                   model.compile_network.shapes=dynamic
                   model.compile_network.mode=reduce-overhead) ;;
        *) echo "unknown run '$name'" >&2; exit 2 ;;
    esac
done

mkdir -p "$OUT_DIR"
{
    echo "# $(date -u +%FT%TZ) $(hostname) nproc=$(nproc)"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    "$PYTHON" -c 'import torch, mmcv, mmdet, mmengine; print("torch", torch.__version__, "cuda", torch.version.cuda, "mmcv", mmcv.__version__, "mmdet", mmdet.__version__, "mmengine", mmengine.__version__)'
    echo "# RUNS=$RUNS BATCH=$BATCH WORKERS=$WORKERS WARMUP=$WARMUP" \
        "WINDOW=$WINDOW AMP=$AMP EVENT_CACHE=$EVENT_CACHE" \
        "SIZE_PASSES=$SIZE_PASSES"
} | tee "$OUT_DIR/e2e.txt"

# the job's status is the tool's: 1 if a run failed (the others still ran)
"$PYTHON" tools/analysis_tools/benchmark_train_e2e.py "${ARGS[@]}" \
    --data-root "$DATA_ROOT" --batch-size "$BATCH" \
    --num-workers "$WORKERS" --warmup-iters "$WARMUP" \
    --window-iters "$WINDOW" --size-passes "$SIZE_PASSES" --run-timeout "$RUN_TIMEOUT" \
    --work-dir "$OUT_DIR" --out "$OUT_DIR/e2e.json" "$@" \
    | tee -a "$OUT_DIR/e2e.txt"
