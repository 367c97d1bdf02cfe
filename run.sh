#!/usr/bin/env bash
# PyTorch Playground in one command each:
#   bash run.sh app          set up .venv and start the app (http://localhost:8501)
#   bash run.sh test [ARGS]  set up .venv (and Chromium for the browser tests), run ruff and all tests
#                            (in two processes; with ARGS, pytest ARGS in one)
set -euo pipefail
cd "$(dirname "$0")"

install_requirements() {  # $1: requirements file; reinstall only when it (or a file it includes) changed
  [ -x .venv/bin/python ] || python3 -m venv .venv
  local stamp=".venv/.installed-$1" wanted
  wanted="$(cat requirements*.txt)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "Installing $1 into .venv (the first time takes a few minutes: torch is large)…"
    .venv/bin/python -m pip install --disable-pip-version-check -q -r "$1"
    printf '%s' "$wanted" > "$stamp"
  fi
}

install_chromium() {  # the browser tests drive Debian's Chromium (Playwright cannot download one here)
  [ -x /usr/bin/chromium ] && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's chromium for the browser tests…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: /usr/bin/chromium is missing (sudo apt-get install chromium); browser tests will be skipped" >&2
  fi
}

case "${1:-}" in
  app)
    install_requirements requirements.txt
    exec .venv/bin/python -m streamlit run app.py
    ;;
  test)
    shift
    install_requirements requirements-dev.txt
    install_chromium
    # Tests read the real MNIST from the folder beside the checkout when it is there.
    if [ -z "${PLAYGROUND_DATA_DIR:-}" ] && [ -d ../shared/data/MNIST/raw ]; then
      export PLAYGROUND_DATA_DIR="$(cd ../shared/data && pwd)"
    fi
    # Lint and format first: a finding fails the run before the (minutes of) tests.
    .venv/bin/ruff check --quiet . && .venv/bin/ruff format --check --quiet . || {
      echo "ruff found the problems above: .venv/bin/ruff check --fix . && .venv/bin/ruff format ." >&2
      exit 1
    }
    # The whole suite in two processes, a test file at a time each (pytest-xdist): much of it waits
    # on browsers and servers, so two share 2 cores well. In the order collected (tests/conftest.py
    # puts the long browser files first; xdist's own order, most tests first, ran the one-test load
    # test last). With arguments: exactly those.
    [ $# -gt 0 ] || set -- -n 2 --dist loadfile --no-loadscope-reorder
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: bash run.sh app | test [pytest args]" >&2
    exit 2
    ;;
esac
