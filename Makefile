# make demo: a live demo: a local fake AI-chat backend and trackers, a scripted client through
#            the auditing proxy, and demo/report.html (and .json, .md, capture.flows)
# make test: run the test suite (make test-load: the long proxy load test; make test-unit: the
#            quick tier, without the e2e tests that start proxies, browsers or long subprocesses)
# Both create .venv (Python 3.12 or newer) and install the project into it on first use.

PYTHON ?= $(shell for p in python3.13 python3.12 python3 python; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then echo $$p; break; fi; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo demo-offline test test-unit lint test-load bench bench-proxy clean fixtures corpus-real

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.12 or newer is needed (none of python3.13, python3.12, python3 is)" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,batch,dask]'
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) fixtures/demo.py --out demo
	@echo "Open demo/report.html in a browser. The same analysis of the bundled capture: make demo-offline"

demo-offline: $(STAMP)
	$(VENV)/bin/auditor report fixtures/ai-chat-session.flows -o demo/offline --format html,json,md

test: $(STAMP)
	$(PY) -m pytest -q -n 2 -m "not load" $(PYTEST_ARGS)

# Lint and types, configured in pyproject.toml ([tool.ruff], [tool.mypy]); .ci/run runs it.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The quick tier: everything but the e2e tests (real proxy, browser, tcpdump/tshark, long
# subprocesses) and the load test.
test-unit: $(STAMP)
	$(PY) -m pytest -q -n 2 -m "not e2e and not load" $(PYTEST_ARGS)

# The long load test (200 connections of mixed traffic for 60 s through auditor run); the
# short version of it is part of make test.
test-load: $(STAMP)
	$(PY) -m pytest -q -m load $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) benchmarks/bench_report.py $(BENCH_ARGS)

# The audit addon's cost inside mitmproxy against plain mitmdump (about 2 minutes).
bench-proxy: $(STAMP)
	$(PY) benchmarks/bench_proxy.py

fixtures: $(STAMP)
	$(PY) fixtures/record.py --out fixtures

clean:
	rm -rf $(VENV) demo build *.egg-info .pytest_cache

# Record the real-SDK corpus again (corpus/real): installs the pinned SDKs from PyPI and npm
# into corpus/real/.sdk-venv and corpus/real/browser/node_modules, so it needs the registries.
corpus-real: $(STAMP)
	$(PY) corpus/real/record.py
