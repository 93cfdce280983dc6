# Shared helpers for scripts/demo and scripts/test. Source it; do not run it.
# Everything a fresh Debian machine lacks is installed here: the virtualenv, redis-server, PostgreSQL.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $* (install it by hand, or run as root)"; fi
}

apt_install() {
  log "installing $* with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pick_python() {
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 13)))'; then
      echo "$candidate"; return
    fi
  done
  die "Python 3.11 or 3.12 is required (apt-get install python3.11 python3.11-venv)"
}

ensure_venv() {
  local stamp="$VENV/.installed-pyproject"
  if [ ! -x "$PY" ]; then
    local python; python="$(pick_python)"
    log "creating the virtualenv in .venv"
    "$python" -m venv "$VENV" 2>/dev/null || { apt_install python3-venv && "$python" -m venv "$VENV"; }
  fi
  if [ ! -f "$stamp" ] || ! cmp -s "$ROOT/pyproject.toml" "$stamp"; then
    log "installing Python dependencies (pyproject.toml)"
    "$PY" -m pip install -q --upgrade pip >/dev/null
    "$PY" -m pip install -q -e "$ROOT[dev]"
    cp "$ROOT/pyproject.toml" "$stamp"
  fi
}

free_port() {
  "$PY" - <<'PYEOF'
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PYEOF
}

ensure_redis_server() {
  command -v redis-server >/dev/null || apt_install redis-server
}

# start_redis DIR PORT: a throwaway Redis on 127.0.0.1 (no persistence), pidfile in DIR.
start_redis() {
  local dir="$1" port="$2"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
  for _ in $(seq 1 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  die "redis-server did not start on port $port (see $dir/redis.log)"
}

stop_redis() {
  local dir="$1"
  [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
}

# The browser tests (tests/e2e) drive Debian's Chromium through its matching chromedriver.
ensure_chromium() {
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    apt_install chromium chromium-driver
  fi
}

# tests/integration/test_https_proxy.py runs docker/nginx.conf in Debian's nginx. The package's own service
# is not wanted (it would listen on port 80 of every interface): stop it where the install started it.
ensure_nginx() {
  if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    apt_install nginx-light
    if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
      as_root systemctl disable --now nginx >/dev/null 2>&1 || true
    fi
  fi
}

pg_bindir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

ensure_postgres() {
  pg_bindir >/dev/null || apt_install postgresql
  pg_bindir >/dev/null || die "PostgreSQL server binaries not found after installing postgresql"
}

# start_postgres DIR PORT: a throwaway cluster (trust auth, fsync off) with its socket in DIR.
start_postgres() {
  local dir="$1" port="$2" bin; bin="$(pg_bindir)"
  local run=()
  if [ "$(id -u)" = 0 ]; then
    # initdb refuses to run as root: the cluster belongs to the postgres user.
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown -R postgres "$dir"
    # The postgres user must be able to reach the directory: open up its parents (mktemp makes them 0700).
    chmod 755 "$dir" "$(dirname "$dir")"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
    -o "-p $port -k $dir -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { tail -n 20 "$dir/postgres.log" >&2; die "PostgreSQL did not start"; }
  "${run[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres wallet_analysis
}

stop_postgres() {
  local dir="$1" bin; bin="$(pg_bindir)" || return 0
  [ -d "$dir/data" ] || return 0
  local run=()
  [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
}
