# Driftwatch: `make run` starts the app on demo data; `make test` runs every test (CI runs it too).
# Both set up everything they need on a fresh Debian 12 machine (venv, pinned packages, Chromium).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
CHROMIUM ?= /usr/bin/chromium
JAVA ?= java

.PHONY: run test lint unit e2e install install-dev lock browser java bench clean

# requirements.txt (runtime) and requirements-dev.txt (runtime + tools) are locks: every package pinned,
# with hashes, made by `make lock` from requirements.in and requirements-dev.in.
PIP_INSTALL := $(PY) -m pip install -q --disable-pip-version-check --require-hashes

$(VENV)/.req-stamp: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.dev-stamp: $(VENV)/.req-stamp requirements-dev.txt
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

install: $(VENV)/.req-stamp
install-dev: $(VENV)/.dev-stamp

# Regenerate both locks (runtime first: the dev lock is constrained by it). pip-compile keeps the
# current pins it can; `make lock LOCK_ARGS=--upgrade` takes the newest of everything the .in files
# allow, `make lock LOCK_ARGS="--upgrade-package NAME"` just one package.
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(PY) -m piptools compile -q --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock: install-dev
	$(PIP_COMPILE) -o requirements.txt requirements.in
	$(PIP_COMPILE) -o requirements-dev.txt requirements-dev.in

# Debian's Chromium for the browser tests (never `playwright install`: it cannot download here).
browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null; \
	else echo "Chromium is missing at $(CHROMIUM) and we are not root: install it with apt-get install chromium" >&2; exit 1; fi

# Java 17 for the Spark job's local-mode tests (pyspark, the optional `spark` extra, is in the dev lock).
java:
	@if command -v $(JAVA) >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null; \
	else echo "Java is missing and we are not root: install it with apt-get install openjdk-17-jre-headless" >&2; exit 1; fi

run: install
	$(PY) -m streamlit run app.py --server.port $(PORT)

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy lib pages app.py

test: install-dev browser java lint
	mkdir -p test-results
	DRIFTWATCH_CHROMIUM=$(CHROMIUM) $(PY) -m pytest -n 2 --dist loadfile  # both cores; one file per worker

unit: install-dev java
	$(PY) -m pytest -m "not e2e"

e2e: install-dev browser
	DRIFTWATCH_CHROMIUM=$(CHROMIUM) $(PY) -m pytest -m e2e

bench: install-dev
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-results build driftwatch.egg-info
