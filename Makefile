# Two commands for a newcomer: `make run` and `make test`. Both set up whatever is missing.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PORT    ?= 8000
ONLY    ?=
export REFLEX_USE_SYSTEM_BUN := 1
export PORT

.PHONY: run test bench setup clean image-inputs image

setup:
	@bash scripts/setup.sh

run: setup
	@$(PY) -m saas_panel bootstrap
	@bash scripts/run.sh

test:
	@bash scripts/test.sh $(PYTEST_ARGS)

bench:
	@WITH_BROWSER=1 bash scripts/setup.sh
	@services=$$(bash scripts/test_services.sh) && eval "$$services" && $(PY) benchmarks/run.py $(ONLY)

# The panel image for docker compose, from inputs prepared here (wheels, built frontend),
# so that it builds where no registry is reachable.
image-inputs: setup
	@bash scripts/image_inputs.sh

image: setup
	@bash scripts/panel_image.sh

clean:
	rm -rf .web .states
