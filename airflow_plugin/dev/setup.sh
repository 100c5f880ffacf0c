#!/usr/bin/env bash
# Installs everything airgate needs on a fresh machine, from pinned versions; quick when already done.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
UV_VERSION=0.13.9

say() { printf 'airgate setup: %s\n' "$*"; }

if ! command -v chromium >/dev/null 2>&1; then
  say "installing Debian's chromium for the browser tests"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi

# The scale-out profile's load balancer; Debian bookworm's 2.6 LTS line (its point releases are security fixes).
if ! command -v haproxy >/dev/null 2>&1; then
  say "installing Debian's haproxy for the scale-out profile"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq 'haproxy=2.6.*' >/dev/null
fi

if [ ! -x .venv/bin/uv ] || [ "$(.venv/bin/uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  say "creating .venv with uv $UV_VERSION"
  python3.11 -m venv .venv
  .venv/bin/pip install -q "uv==$UV_VERSION"
fi
lock=airflow_plugin/requirements.lock
stamp=.venv/.airgate-lock.sha
if [ "$(cat "$stamp" 2>/dev/null)" != "$(sha256sum "$lock" | cut -d' ' -f1)" ]; then
  say "installing Airflow and tools from $lock"
  .venv/bin/uv pip sync -q -p .venv/bin/python "$lock"
  sha256sum "$lock" | cut -d' ' -f1 > "$stamp"
fi
.venv/bin/uv pip install -q -p .venv/bin/python --no-deps -e airflow_plugin

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
fi
say "building the bridge and the UI bundle"
npm run build --silent
say "done in ${SECONDS}s ($root)"
