#!/usr/bin/env bash
# The whole test suite, as `make test` runs it:
#   1. unit tests (pure logic, no Kafka)
#   2. lifecycle tests (they start and stop their own broker on spare ports)
#   3. integration tests against the course cluster, then every notebook under nbval, then the strict book build.
# The course cluster is started if it is not running, and stopped at the end only if this script started it.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
started=0
fail=0

step() { printf '\n==> %s\n' "$*"; }
pytest_step() {  # pytest's exit 5 means "no tests collected": a failure here, never a silent pass
  "$PY" -m pytest "$@"; rc=$?
  if [ $rc -eq 5 ]; then echo "error: no tests were collected by: pytest $*"; fi
  [ $rc -eq 0 ] || fail=1
}
cleanup() {
  if [ $started -eq 1 ]; then step "stopping the course cluster (this run started it)"; "$PY" -m kafkalab down -q; fi
}
trap cleanup EXIT

step "unit tests"
pytest_step -q tests/unit

step "lifecycle tests (their own broker and services on spare ports)"
pytest_step -q -m lifecycle tests/integration

if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
  if ! "$PY" -m kafkalab status >/dev/null 2>&1; then
    step "starting the course cluster"
    "$PY" -m kafkalab up || exit 1
    started=1
  fi
fi

step "integration tests (live cluster)"
pytest_step -q -m "not lifecycle" tests/integration

# Chapters that need three brokers (their first cell asks for need_brokers=3) run on a three-broker cluster of
# their own, on spare ports, so that the one-broker course cluster is left as it is.
three=$(grep -l "need_brokers=3" notebooks/*.ipynb || true)
ignore=(); for nb in $three; do ignore+=(--ignore="$nb"); done

step "notebooks under nbval (live cluster)"
pytest_step -q -p no:cacheprovider --nbval notebooks/ "${ignore[@]}" --nbval-cell-timeout=300 --nbval-sanitize-with tests/notebooks/sanitize.cfg

if [ -n "$three" ]; then
  step "three-broker chapters under nbval (their own cluster on ports 29392-29397)"
  three_env=(KAFKALAB_HOME="$PWD/.kafkalab/three-brokers" KAFKALAB_BROKER_PORT=29392 KAFKALAB_CONTROLLER_PORT=29393
             KAFKALAB_HEAP=320m)
  if env "${three_env[@]}" "$PY" -m kafkalab up --brokers 3 -q; then
    env "${three_env[@]}" "$PY" -m pytest -q -p no:cacheprovider --nbval $three --nbval-cell-timeout=300 \
      --nbval-sanitize-with tests/notebooks/sanitize.cfg || fail=1
  else
    fail=1
  fi
  env "${three_env[@]}" "$PY" -m kafkalab down -q
fi

step "book build (strict: any warning fails)"
if ! "${VENV:-.venv}/bin/jupyter-book" build . -W -n --keep-going -q; then fail=1; fi

step "book checks"
pytest_step -q tests/book

if [ $fail -ne 0 ]; then echo "TESTS FAILED"; exit 1; fi
echo "ALL TESTS PASSED"
