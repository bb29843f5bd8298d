# The two commands of the README: `make demo` (everything up, job running, sample logs fed) and
# `make test` (every test against the real local stack). `make down` stops the stack.
SHELL := /bin/bash
LOGFLOW := .venv/bin/logflow
SAMPLES := $(wildcard deploy/samples/*.log)

.PHONY: setup up demo test down status lint

setup:
	@deploy/scripts/setup.sh

up: setup
	$(LOGFLOW) stack up

demo: up
	$(LOGFLOW) job submit
	@for sample in $(SAMPLES); do echo "producing $$sample to topic logs"; $(LOGFLOW) produce --topic logs "$$sample"; done
	@deploy/scripts/demo-banner.sh

test: setup
	@deploy/scripts/run-tests.sh

down:
	@if [ -x $(LOGFLOW) ]; then $(LOGFLOW) stack down; else echo "nothing to stop (no .venv)"; fi

status:
	$(LOGFLOW) stack status

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy common jobs rules_api deploy tests bench
