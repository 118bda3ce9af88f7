# One-command entry points.  Every target installs what it needs first
# (idempotent: a second run finds everything in place within seconds).
PY := .venv/bin/python
STAMP := .venv/.installed
DEMO_DATA := data/fred_sample
DEMO_CFG := configs/fred_fusion/yolox_w0125_dual-concat_1xb8-demo_fred-sample.py
DEMO_DIR := work_dirs/fred_demo

.PHONY: install demo test lint

$(STAMP): tools/install.sh requirements/build.txt requirements/runtime.txt requirements/tests.txt setup.cfg setup.py
	bash tools/install.sh
	touch $(STAMP)

install: $(STAMP)

# Train the dual (RGB + event) detector on the generated sample, then test
# its best checkpoint.
demo: install
	$(PY) tools/misc/generate_fred_sample.py $(DEMO_DATA) --preset demo
	$(PY) tools/dataset_converters/fred_converter.py $(DEMO_DATA)
	$(PY) tools/train.py $(DEMO_CFG) --work-dir $(DEMO_DIR)
	$(PY) tools/test.py $(DEMO_CFG) $$(ls -t $(DEMO_DIR)/best_*.pth | head -n 1) --work-dir $(DEMO_DIR)

# TEST_WORKERS processes (pytest-xdist); 0 runs the suite in this process.
# pytest-benchmark, where the system's Python has it, is off: the suite has
# no benchmarks (they are tools), and it warns under xdist.
TEST_WORKERS ?= 2

test: install
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal -p no:benchmark tests

lint: install
	$(PY) -m flake8 mmfusion projects tools tests configs
	$(PY) -m isort --check-only --diff mmfusion projects tools tests configs
	$(PY) -m yapf --diff --recursive mmfusion projects tools tests configs
