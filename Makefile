# Two commands for a newcomer: `make run` and `make test`. Both set up whatever is missing.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PORT    ?= 8000
ONLY    ?=
export REFLEX_USE_SYSTEM_BUN := 1
export PORT

.PHONY: run test bench setup clean

setup:
	@bash scripts/setup.sh

run: setup
	@$(PY) -m saas_panel bootstrap
	@echo "saas-panel on http://localhost:$(PORT)"
	@$(VENV)/bin/reflex run --env prod --single-port

test:
	@WITH_BROWSER=1 bash scripts/setup.sh
	@$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	@$(PY) benchmarks/run.py $(ONLY)

clean:
	rm -rf .web .states
