#!/usr/bin/env bash
# Install everything the course needs, idempotently: Debian packages (Java, Maven, PostgreSQL, Chromium for diagrams),
# the Python venv from requirements.txt, the npm tools for the book, and the Kafka jars from Maven Central.
# Each step is skipped when its inputs have not changed since the last successful run.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
STAMPS=.kafkalab/stamps
mkdir -p "$STAMPS"

say() { printf '==> %s\n' "$*" >&2; }
fresh() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }

# 1. Debian packages: only what is missing (java, mvn, PostgreSQL's server programs, chromium).
missing=()
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
# the course runs its own PostgreSQL server from the distribution's programs (kafkalab/cluster/postgres.py)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || command -v initdb >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    case " ${missing[*]} " in *" postgresql "*)
      # Debian's package would create a "main" cluster and start its server on port 5432; the course needs
      # neither (it starts its own on 5433), so tell the package not to create one.
      mkdir -p /etc/postgresql-common/createcluster.d
      echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/kafkalab.conf ;;
    esac
    say "installing Debian packages: ${missing[*]} (see tools/apt.txt)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "missing: ${missing[*]}. Install them (Debian/Ubuntu: sudo apt-get install ${missing[*]}) and run this again."
    case " ${missing[*]} " in *" chromium "*) [ ${#missing[@]} -eq 1 ] || exit 1 ;; *) exit 1 ;; esac
    say "continuing without chromium: the notebooks work, only the book build needs it"
  fi
fi

# 2. Python venv.
req_hash=$(cat requirements.txt pyproject.toml | sha256sum | cut -c1-16)
if [ ! -x "$VENV/bin/python" ]; then
  say "creating the Python environment in $VENV"
  python3 -m venv "$VENV"
fi
if ! fresh pip "$req_hash"; then
  say "installing Python packages from requirements.txt"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -r requirements.txt
  "$VENV/bin/python" -m pip install -q --no-deps -e .
  "$VENV/bin/python" -m pip check
  echo "$req_hash" > "$STAMPS/pip"
fi

# 3. npm tools for the book (never download a browser: Debian's Chromium is used).
npm_hash=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
if command -v npm >/dev/null && ! { fresh npm "$npm_hash" && [ -d node_modules ]; }; then
  say "installing the book's npm tools (mermaid-cli)"
  if [ -f package-lock.json ]; then
    PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null
  else
    PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error >/dev/null
  fi
  echo "$npm_hash" > "$STAMPS/npm"
fi

# 4. Kafka jars from Maven Central (prints progress the first time).
"$VENV/bin/python" -m kafkalab fetch
say "setup complete"
