# Thin wrappers: the work is in tools/setup.sh, kafkalab (python -m kafkalab ...), tests/run.sh and jupyter-book.
VENV ?= .venv
PY := $(VENV)/bin/python
BROKERS ?=

.PHONY: help setup up down status doctor lab notebooks book test test-secure test-existing bench clean

help:
	@echo "make lab     install everything, start Kafka, open the course in JupyterLab"
	@echo "make test    run every test: unit, lifecycle, integration, notebooks (nbval), book build"
	@echo "make test-secure | test-existing    the one-broker chapters under nbval against the secured cluster / a three-broker one, given only KAFKA_BOOTSTRAP_SERVERS (+ KAFKA_CLIENT_CONFIG)"
	@echo "make up | down | status | doctor    run or inspect the local cluster (BROKERS=3 for three)"
	@echo "make notebooks    re-run every notebook in place (refreshes stored outputs); three-broker chapters on a cluster of their own"
	@echo "make book    build the book from the stored outputs into _build/html"
	@echo "make bench   benchmarks: cold start, client throughput vs Kafka's perf tools, commit-to-sink latency, nbval times (bench/results.json)"

setup:
	@bash tools/setup.sh

up: setup
	@$(PY) -m kafkalab up $(if $(BROKERS),--brokers $(BROKERS))

down:
	@$(PY) -m kafkalab down

status:
	@$(PY) -m kafkalab status

doctor:
	@$(PY) -m kafkalab doctor

lab: up
	@echo "Opening JupyterLab on http://127.0.0.1:8888/lab (Ctrl-C stops it; 'make down' stops Kafka)"
	@$(VENV)/bin/jupyter lab --ip 127.0.0.1 --port 8888 --notebook-dir . $(if $(filter 0,$(shell id -u)),--allow-root) \
		--LabApp.default_url=/lab/tree/notebooks/01_kafka101.ipynb

notebooks: setup
	@VENV=$(VENV) bash tools/notebooks.sh

bench: up
	@$(PY) -m bench.run

book: setup
	@$(VENV)/bin/jupyter-book build . -W -n --keep-going

test: setup
	@bash tests/run.sh

test-secure: setup
	@bash tests/any_cluster.sh secure

test-existing: setup
	@bash tests/any_cluster.sh existing

clean:
	rm -rf _build
