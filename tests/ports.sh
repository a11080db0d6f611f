# Sourced by tests/run.sh and tools/notebooks.sh: claim a free range of ports for this shell and export
# KAFKALAB_PORT_BASE (kafkalab/config.py describes the scheme; tests/integration/ownlab.py names the blocks).
# The claim is a lock on one file per range, held on file descriptor 9 until the shell exits, so two claims on one
# machine never get the same range. After `claim_ports`, $base is the range's first port and $span its size, and
# block_base NAME prints the base of one named block (e.g. three-broker-chapters).

_ports_py() { PYTHONPATH="$PWD/tests/integration${PYTHONPATH:+:$PYTHONPATH}" "$PY" -c "$1"; }

block_base() {
  _ports_py "import ownlab; from kafkalab.config import PORT_BLOCK; print($base + ownlab.BLOCKS['$1'] * PORT_BLOCK)"
}

claim_ports() {
  local lock_dir candidate
  local candidates
  read -r span lock_dir candidates < <(_ports_py "
from kafkalab.cluster import portrange
print(portrange.SPAN, portrange.LOCK_DIR, ','.join(map(str, portrange.bases())))")
  [ -n "${candidates:-}" ] || { echo "error: cannot read the port scheme (run make setup)" >&2; return 1; }
  mkdir -p "$lock_dir"
  base=""
  for candidate in ${candidates//,/ }; do
    exec 9>"$lock_dir/$candidate.lock"
    if flock -n 9; then
      if _ports_py "import sys; from kafkalab.cluster import portrange
sys.exit(0 if portrange.range_is_free($candidate) else 1)"; then
        base=$candidate
        break
      fi
      flock -u 9
    fi
  done
  [ -n "$base" ] || { echo "error: no free range of $span ports (kafkalab/cluster/portrange.py)" >&2; return 1; }
  # single-port settings of the caller's shell would win over the base: use the base alone
  for var in $(env | sed -n 's/^\(KAFKALAB_[A-Z_]*_PORT\)=.*/\1/p'); do unset "$var"; done
  export KAFKALAB_PORT_BASE=$base
}
