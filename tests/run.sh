#!/usr/bin/env bash
# The whole test suite, as `make test` runs it:
#   1. unit tests (pure logic, no Kafka)
#   2. lifecycle tests (they start and stop clusters of their own)
#   3. integration tests against this run's course cluster, then every notebook under nbval, then the strict book
#      build and the book checks.
# Each run claims a free range of ports (one lock file per range, so two runs on one machine never collide) and
# runs EVERYTHING on it, in a data folder of its own: it never touches the learner's course cluster on 9092 or their
# .kafkalab/ data. kafkalab/config.py describes the port scheme; tests/integration/ownlab.py hands out the blocks.
# With KAFKA_BOOTSTRAP_SERVERS set, the integration tests and notebooks use that cluster instead (nothing started).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
fail=0

step() { printf '\n==> %s\n' "$*"; }
pytest_step() {  # pytest's exit 5 means "no tests collected": a failure here, never a silent pass
  "$PY" -m pytest "$@"; rc=$?
  if [ $rc -eq 5 ]; then echo "error: no tests were collected by: pytest $*"; fi
  [ $rc -eq 0 ] || fail=1
}
# 0. this run's ports and home
source tests/ports.sh
claim_ports || exit 1
export KAFKALAB_HOME="$PWD/.kafkalab/test-runs/$base"
three_home="$KAFKALAB_HOME/three-brokers"
for d in "$KAFKALAB_HOME" "$three_home"; do  # fresh clusters; resolved jars and the unpacked registry stay
  rm -rf "$d/data" "$d/logs" "$d/run"
done
three_env=(-u KAFKA_BOOTSTRAP_SERVERS KAFKALAB_HOME="$three_home" KAFKALAB_PORT_BASE="$(block_base three-broker-chapters)"
           KAFKALAB_HEAP=320m)
echo "this run: ports $base-$((base + span - 1)), data in $KAFKALAB_HOME"

cleanup() {
  step "stopping this run's clusters"
  "$PY" -m kafkalab down -q
  env "${three_env[@]}" "$PY" -m kafkalab down -q
}
trap cleanup EXIT

step "unit tests"
pytest_step -q tests/unit

step "lifecycle tests (clusters of their own, on this run's port blocks)"
pytest_step -q -m lifecycle tests/integration

if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
  step "starting this run's course cluster"
  "$PY" -m kafkalab up || exit 1
fi

step "integration tests (live cluster)"
pytest_step -q -m "not lifecycle" tests/integration

# Chapters that need three brokers (their first cell asks for need_brokers=3) run on a three-broker cluster of
# their own, so that the one-broker course cluster is left as it is.
three=$(grep -l "need_brokers=3" notebooks/*.ipynb || true)
ignore=(); for nb in $three; do ignore+=(--ignore="$nb"); done

step "notebooks under nbval (live cluster)"
pytest_step -q -p no:cacheprovider --nbval notebooks/ "${ignore[@]}" --nbval-cell-timeout=300 --nbval-sanitize-with tests/notebooks/sanitize.cfg

if [ -n "$three" ]; then
  step "three-broker chapters under nbval (a three-broker cluster of their own)"
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
