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
	$(PY) -m pip install -q -c constraints.txt -e '.[test,comfyui]'
	touch $(STAMP)

setup: $(STAMP)

# Debian's Chromium for the editor's browser tests (Playwright drives it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "warning: could not install chromium"; }

# Builds every tiny random-weight demo model into ./models, renders sd_txt2img once (the PNG path is printed),
# then serves. MODEL=/path/to/diffusers-folder (or a hub id) renders with a real model instead.
MODEL ?= tiny-sd-demo
run: setup
	$(VENV)/bin/nodeflow demo all
	$(VENV)/bin/nodeflow run workflows/sd_txt2img.json --param model="$(MODEL)"
	$(VENV)/bin/nodeflow serve --host 127.0.0.1 --port 8188

test: setup browser
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/engine_overhead.py

clean:
	rm -rf $(VENV) output .pytest_cache
