# Two commands for a fresh machine: `make run` (set up + main job) and `make test` (set up + tests).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done

.PHONY: setup run test bench browser clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Debian's Chromium for the editor's browser tests (Playwright drives it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "warning: could not install chromium"; }

# MODEL=/path/to/diffusers-folder (or a hub id) renders with a real model; default: tiny random demo model.
MODEL ?=
run: setup
	$(PY) -m tiny_models.demo $(if $(MODEL),--model "$(MODEL)")
	$(VENV)/bin/nodeflow serve --host 127.0.0.1 --port 8188

test: setup browser
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/engine_overhead.py

clean:
	rm -rf $(VENV) output .pytest_cache
