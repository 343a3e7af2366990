# orchlab: two commands set everything up on a fresh machine with Python >= 3.11 and make.
#   make lab    install, start Temporal + Prefect + JupyterLab on loopback, open labs/
#   make test   install, then lint, types, labs freshness, platform, grader and notebook tests
#   make demo   run lab 01's reference pipeline on both engines and grade every lab
#   make chaos  run every chaos experiment in chaos/ against fresh engines, write the report

SHELL  := bash
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv
UV_VERSION := 0.13.9
STAMP  := $(VENV)/.installed
export PREFECT_HOME := $(CURDIR)/.state/prefect-home
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export TEMPORAL_VERSION_CHECK_DISABLED := 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120
PHASE  := $(PY) tools/phase.py
# pytest's temporary files go where the secret scan looks, when make test set that place.
BASETEMP = $(if $(ORCHLAB_TEST_OUT),--basetemp=$(ORCHLAB_TEST_OUT)/$(1))

test-reset:
	@rm -f .state/phases.tsv && mkdir -p .state && date +%s > .state/phases.start

.PHONY: chaos bench test-with-engines test-reset install lab test demo lint typecheck labs-check docs-check docs validate test-platform test-grader test-grader-isolation test-grader-rest test-notebooks assign clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(STAMP): pyproject.toml requirements.lock
	@start=$$SECONDS; \
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "orchlab needs Python >= 3.11, found " + sys.version.split()[0]' && \
	echo "==> creating $(VENV) (pinned by requirements.lock)" && \
	{ test -x $(PY) || $(PYTHON) -m venv $(VENV); } && \
	{ $(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) 2>&1 | grep -v 'is ignored' || true; } && \
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -r requirements.lock && \
	$(UV) pip install --quiet --python $(PY) --no-deps -e . && \
	mkdir -p .state && printf 'install\t%s\t0\n' $$((SECONDS-start)) >> .state/phases.tsv && \
	touch $@

install: $(STAMP)  ## create the pinned environment in .venv

lab: $(STAMP)  ## start Temporal, Prefect and JupyterLab (Ctrl-C stops them all)
	@$(VENV)/bin/orchlab up --jupyter --foreground

demo: $(STAMP)  ## run lab 01's pipeline on both engines, then grade every lab's solution and starter
	@$(VENV)/bin/orchlab exec --reuse -- \
		bash -c '$(VENV)/bin/orchlab demo && $(VENV)/bin/labgrader validate --all'

chaos: $(STAMP)  ## run every experiment in chaos/ on fresh engines; journals and report in .state/chaos
	@$(VENV)/bin/orchlab exec -- chaos/run.sh

bench: $(STAMP)  ## run every benchmark script (installs otter-grader, benchmarks only)
	@$(UV) pip install --quiet --compile-bytecode --python $(PY) -r requirements-bench.lock
	@for b in benchmarks/*.py; do echo "==> $$b"; $(PY) $$b || exit 1; done

assign: $(STAMP)  ## regenerate labs/ from solutions/
	@$(VENV)/bin/labgrader assign

lint: $(STAMP)
	@$(PHASE) lint -- $(VENV)/bin/ruff check platform grading tools
	@$(PHASE) format -- $(VENV)/bin/ruff format --check platform grading tools

typecheck: $(STAMP)
	@$(PHASE) mypy -- $(VENV)/bin/mypy

labs-check: $(STAMP)
	@$(PHASE) labs-fresh -- $(VENV)/bin/labgrader assign --check

docs-check: $(STAMP)  ## the reference pages match the code; docs' tables and links render
	@$(PHASE) docs-fresh -- $(PY) tools/docs_reference.py --check
	@$(PHASE) docs-lint -- $(PY) tools/docs_lint.py

docs: $(STAMP)  ## regenerate docs/reference/ from the CLIs and the settings
	@$(PY) tools/docs_reference.py

validate: $(STAMP)
	@$(PHASE) validate -- $(VENV)/bin/labgrader validate --all

test-platform: $(STAMP)
	@$(PHASE) platform-tests -- $(PY) -m pytest platform/tests tools/tests -q $(call BASETEMP,platform)

# The grader's tests in two phases of about the same length, so that make test can run them
# beside the other phases: the isolation tests (hostile submissions, sandboxes, engines,
# distributed workers) and the rest. make test-grader runs both.
GRADER_ISOLATION := $(addprefix grading/tests/,test_engines.py test_sandbox.py \
	test_distributed.py test_hostile.py test_rootfs.py)

test-grader: test-grader-isolation test-grader-rest

test-grader-isolation: $(STAMP)
	@$(PHASE) grader-isolation -- $(PY) -m pytest $(GRADER_ISOLATION) -q \
		$(call BASETEMP,grader-isolation)

test-grader-rest: $(STAMP)
	@$(PHASE) grader-tests -- $(PY) -m pytest grading/tests -q \
		$(addprefix --ignore=,$(GRADER_ISOLATION)) $(call BASETEMP,grader)

test-notebooks: $(STAMP)
	@$(PHASE) notebooks -- $(PY) -m pytest --nbval-lax solutions -q $(call BASETEMP,notebooks)

test: test-reset $(STAMP) lint typecheck labs-check docs-check  ## install, then run the whole suite
	@# One Temporal dev server and one Prefect server, shared by every phase below; two
	@# phases at a time (their output is kept together per phase). Every phase sees a random
	@# canary secret; the last phase proves it leaked into no log or file the suite wrote.
	@export ORCHLAB_TEST_OUT=$$(mktemp -d -t orchlab-test.XXXXXX); \
	export ORCHLAB_SECRET_SUITE_TOKEN=$$($(PY) -c 'import secrets; print("sk-" + secrets.token_hex(20))'); \
	$(VENV)/bin/orchlab exec -- $(MAKE) -k -j2 --output-sync=target --no-print-directory test-with-engines; \
	rc=$$?; \
	$(PHASE) secret-scan -- $(PY) tools/secret_scan.py --env ORCHLAB_SECRET_SUITE_TOKEN "$$ORCHLAB_TEST_OUT" || rc=1; \
	rm -rf "$$ORCHLAB_TEST_OUT"; $(PHASE) --summary; exit $$rc

# make -j2 starts these in this order, each as soon as a slot is free: the longest first, so
# that the two slots end close together and no long phase is left to run alone at the end.
test-with-engines: test-platform test-grader-isolation test-grader-rest validate test-notebooks

clean:  ## remove the environment and all local state
	rm -rf $(VENV) .state
