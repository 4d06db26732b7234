# Two commands from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	bash scripts/install-redis.sh || true  # redis-server for tests/test_workers.py (idempotent)
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/nianbao demo

# The suite as two pytest sessions side by side (tests/parallel.py); `pytest` alone runs it in one session.
test: $(STAMP)
	$(BIN)/python tests/parallel.py

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) data build *.egg-info
