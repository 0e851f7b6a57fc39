# Two commands do all set-up on a fresh machine (Python >= 3.11 on PATH):
#   make run    one offline poll cycle on the bundled demo config
#   make test   the test suite (needs Redis on 127.0.0.1:6379; .ci/run starts one if missing)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: run test test-fast check bench install clean

# compileall: uv writes no .pyc, and where PYTHONDONTWRITEBYTECODE is set (as on our machines) every command
# would compile ~300 modules again (about 1 s of each `moverwatch run`).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib moverwatch scrapers flows > /dev/null 2>&1 || true  # a few test files of dependencies do not compile
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/moverwatch run $(ARGS)

test: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

# The unit layer (tests/unit: no Redis, no servers, no Prefect API): seconds, not minutes.
test-fast: $(STAMP)
	$(BIN)/pytest -q tests/unit

# What CI runs (.ci/run): format, lint, types, then the README's test command with branch coverage.
check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(MAKE) test PYTEST_ARGS="--cov --cov-branch --cov-report=term:skip-covered"

bench: $(STAMP)
	$(BIN)/python bench/score.py
	$(BIN)/python bench/detect.py

clean:
	rm -rf $(VENV) moverwatch-state.db*
