#!/usr/bin/env bash
# The course against a cluster it did not start (issue 21 §3): the one-broker chapters under nbval, given only
# KAFKA_BOOTSTRAP_SERVERS and KAFKA_CLIENT_CONFIG, as a learner with a company or managed cluster would run them.
#   tests/any_cluster.sh secure     the course's secured cluster (SASL_SSL, SCRAM-SHA-512, ACLs), as its admin
#   tests/any_cluster.sh existing   a three-broker cluster used as an existing one (PLAINTEXT, all three addresses)
#   tests/any_cluster.sh plain      the one-broker course cluster used as an existing one: the baseline for both
# `make test-secure` and `make test-existing` run the first two. Like tests/run.sh it claims a free port range and a data folder
# of its own, so it never touches the course cluster. The companion services (registry, Connect, PostgreSQL) are
# started against that cluster first, with the same two variables: the chapters start nothing themselves.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
mode=${1:-}
case "$mode" in secure|existing|plain) ;; *) echo "usage: tests/any_cluster.sh secure|existing|plain" >&2; exit 2 ;; esac

# Chapters that cannot run against such a cluster, each with its reason (one line each; keep this list short).
declare -A SKIP=()
SKIP[13_monitoring]="it reads each broker's metrics through the Jolokia agent that the embedded cluster attaches to the broker's JVM; a cluster the course did not start has no such agent on a port the course knows"

source tests/ports.sh
if [ -n "${KAFKALAB_PORT_BASE:-}" ]; then  # a base of your own (one block is enough here)
  base=$KAFKALAB_PORT_BASE span=20
else
  claim_ports || exit 1
fi
export KAFKALAB_HOME="$PWD/.kafkalab/test-runs/$base-$mode"
rm -rf "$KAFKALAB_HOME/data" "$KAFKALAB_HOME/logs" "$KAFKALAB_HOME/run"
unset KAFKA_BOOTSTRAP_SERVERS KAFKA_CLIENT_CONFIG
cleanup() { printf '\n==> stopping this run'"'"'s cluster and services\n'; "$PY" -m kafkalab down -q; }
trap cleanup EXIT

printf '==> %s cluster on ports %s-%s, data in %s\n' "$mode" "$base" "$((base + span - 1))" "$KAFKALAB_HOME"
if [ "$mode" = secure ]; then
  "$PY" -m kafkalab up --secure -q || exit 1
  bootstrap=$("$PY" -c "from kafkalab.cluster import secure; print(secure.bootstrap())")
  config=$("$PY" -c "from kafkalab.cluster import secure; print(secure.client_config('admin'))")
  export KAFKA_BOOTSTRAP_SERVERS="$bootstrap" KAFKA_CLIENT_CONFIG="$config"
else
  n=$([ "$mode" = existing ] && echo 3 || echo 1)
  "$PY" -m kafkalab up --brokers "$n" -q || exit 1
  bootstrap=$("$PY" -c "from kafkalab.cluster import broker; print(','.join(f'127.0.0.1:{x.broker_port}' for x in broker.nodes($n)))")
  export KAFKA_BOOTSTRAP_SERVERS="$bootstrap"
fi
echo "KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS"
echo "KAFKA_CLIENT_CONFIG=${KAFKA_CLIENT_CONFIG:-}"
"$PY" -m kafkalab up --with registry,connect,postgres -q || exit 1

# the one-broker chapters: not those that ask for three brokers, not the security chapter (its own secured cluster)
chapters=()
for nb in notebooks/*.ipynb; do
  grep -q "need_brokers=3" "$nb" && continue
  grep -q "start(secure=True" "$nb" && continue
  name=$(basename "$nb" .ipynb)
  if [ -n "${SKIP[$name]:-}" ]; then echo "skip $name: ${SKIP[$name]}"; continue; fi
  chapters+=("$nb")
done
# The stored outputs describe the course's one-broker cluster. A three-broker cluster rightly prints other broker
# counts, replication factors, leaders and quorum voters, so there nbval runs lax: every cell must run without an
# error (the chapters' own asserts included), and outputs are not compared. The secured and plain clusters have one
# broker, like the course's: their outputs are compared strictly.
compare=(--nbval); [ "$mode" = existing ] && compare=(--nbval-lax)
printf '\n==> %s under nbval (%s)\n' "${chapters[*]}" "${compare[*]}"
start=$(date +%s)
"$PY" -m pytest -q -p no:cacheprovider "${compare[@]}" "${chapters[@]}" --nbval-cell-timeout=300 \
  --nbval-sanitize-with tests/notebooks/sanitize.cfg
rc=$?
echo "nbval against the $mode cluster: exit $rc after $(( $(date +%s) - start )) s"
exit $rc
