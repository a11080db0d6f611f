#!/usr/bin/env bash
# `make notebooks`: re-run every chapter in place (refreshing its stored outputs) against the course cluster.
# Chapters that need three brokers (their first cell asks for need_brokers=3) run on a three-broker cluster of their
# own, on a claimed port range and in .kafkalab/three-brokers, like tests/run.sh does: the one-broker course
# cluster is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
JUPYTER="$PWD/${VENV:-.venv}/bin/jupyter"

three=$(grep -l "need_brokers=3" notebooks/*.ipynb || true)
run() { echo "running $1"; (cd notebooks && "$JUPYTER" nbconvert --to notebook --execute --inplace "$(basename "$1")"); }

"$PY" -m kafkalab up
for nb in notebooks/*.ipynb; do
  case " $(echo $three) " in *" $nb "*) continue ;; esac
  run "$nb"
done

if [ -n "$three" ]; then
  source tests/ports.sh
  claim_ports
  three_env=(-u KAFKA_BOOTSTRAP_SERVERS KAFKALAB_HOME="$PWD/.kafkalab/three-brokers"
             KAFKALAB_PORT_BASE="$(block_base three-broker-chapters)" KAFKALAB_HEAP=320m)
  trap 'env "${three_env[@]}" "$PY" -m kafkalab down -q' EXIT
  env "${three_env[@]}" "$PY" -m kafkalab up --brokers 3
  for nb in $three; do
    echo "running $nb (three brokers)"
    (cd notebooks && env "${three_env[@]}" "$JUPYTER" nbconvert --to notebook --execute --inplace "$(basename "$nb")")
  done
fi
