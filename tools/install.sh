#!/usr/bin/env bash
# Idempotent set-up of the pinned OpenMMLab stack in ./.venv.
#
#   bash tools/install.sh          (or: make install)
#
# * The virtual environment sees the system site-packages, so a CUDA build of
#   torch that the user already has is kept; without one, torch 2.13.0 (CPU)
#   is installed.
# * mmcv 2.1.0 has no wheel for recent torch: it is built from source with
#   its ops (CUDA ops when torch sees a GPU).  pip caches the built wheel, so
#   a second environment on the same machine reuses it.
# * Each step is skipped when what it installs is already there, so a re-run
#   takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
TORCH_VERSION=2.13.0
MMCV_VERSION=2.1.0

if [ ! -x "$VENV/bin/python" ]; then
    echo "[install] creating $VENV"
    "$PY" -m venv --system-site-packages "$VENV"
fi
PIP="$VENV/bin/python -m pip"
VPY="$VENV/bin/python"

has() {  # has MODULE [PYTHON-CONDITION]
    "$VPY" - "$@" <<'PYEOF' >/dev/null 2>&1
import importlib, sys
mod = importlib.import_module(sys.argv[1])
cond = sys.argv[2] if len(sys.argv) > 2 else 'True'
sys.exit(0 if eval(cond, {'m': mod}) else 1)
PYEOF
}

if has torch; then
    echo "[install] keeping torch $("$VPY" -c 'import torch; print(torch.__version__)')"
else
    echo "[install] torch==$TORCH_VERSION"
    $PIP install -q "torch==$TORCH_VERSION"
fi

# numpy first: mmcv's build and everything after it use this version.
$PIP install -q -r requirements/build.txt

if has mmcv.ops "m is not None" && has mmcv "m.__version__ == '$MMCV_VERSION'"; then
    echo "[install] keeping mmcv $MMCV_VERSION (with ops)"
else
    CACHE_OPT=""
    if "$VPY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)'; then
        export FORCE_CUDA=1
        # pip's wheel cache does not tell CPU-only from CUDA builds
        CACHE_OPT="--no-cache-dir"
        echo "[install] building mmcv $MMCV_VERSION with CUDA ops"
    else
        echo "[install] mmcv $MMCV_VERSION with CPU ops (a source build takes about 9 min on 2 cores; pip reuses a cached wheel)"
    fi
    MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
        $PIP install -q --no-build-isolation $CACHE_OPT "mmcv==$MMCV_VERSION"
fi

$PIP install -q -r requirements/runtime.txt -r requirements/tests.txt
# ``compat`` puts the repository root on sys.path (like ``setup.py develop``),
# so ``projects.*`` imports from configs' ``custom_imports`` work anywhere.
$PIP install -q --no-deps --no-build-isolation -e . \
    --config-settings editable_mode=compat
"$VPY" - <<'PYEOF'
import mmcv, mmdet, mmdet3d, mmengine, torch
from mmcv.ops import nms  # noqa: F401  (compiled ops are present)
print(f'[install] ready: torch {torch.__version__}, mmengine '
      f'{mmengine.__version__}, mmcv {mmcv.__version__}, mmdet '
      f'{mmdet.__version__}, mmdet3d {mmdet3d.__version__}')
PYEOF
