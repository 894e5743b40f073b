#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv with a Python >= 3.12.
# The machine's default python3 may be older, so we look for a suitable interpreter explicitly.
# Re-running is cheap: packages are reinstalled only when requirements.lock or pyproject.toml change.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${JARVIS_VENV:-.venv}"
MIN_MINOR=12

is_suitable() {
    "$1" -c "import sys, venv; sys.exit(0 if sys.version_info >= (3, $MIN_MINOR) else 1)" \
        >/dev/null 2>&1
}

find_python() {
    local candidates=()
    [ -n "${JARVIS_PYTHON:-}" ] && candidates+=("$JARVIS_PYTHON")
    candidates+=(python3.12 python3.13 python3.14)
    local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
    if command -v pyenv >/dev/null 2>&1; then
        pyenv_root="$(pyenv root)"
    fi
    local dir
    for dir in "$pyenv_root"/versions/3.12* "$pyenv_root"/versions/3.13* \
               "$pyenv_root"/versions/3.14*; do
        [ -x "$dir/bin/python" ] && candidates+=("$dir/bin/python")
    done
    candidates+=(/usr/local/bin/python3.12 /usr/bin/python3.12 /usr/bin/python3.13 python3)
    local c
    for c in "${candidates[@]}"; do
        if command -v "$c" >/dev/null 2>&1 && is_suitable "$c"; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}

if [ ! -x "$VENV/bin/python" ] || ! is_suitable "$VENV/bin/python"; then
    if ! PY="$(find_python)"; then
        echo "error: Jarvis needs Python >= 3.$MIN_MINOR (NautilusTrader 1.231.0 requires it)," >&2
        echo "       but none was found: tried \$JARVIS_PYTHON, python3.12/3.13 on PATH," >&2
        echo "       pyenv versions and /usr/bin. Install one (e.g. 'pyenv install 3.12')" >&2
        echo "       or point JARVIS_PYTHON at an interpreter." >&2
        exit 1
    fi
    echo "bootstrap: creating $VENV with $PY ($("$PY" --version 2>&1))"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
fi

STAMP="$VENV/.jarvis-installed"
WANT="$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    echo "bootstrap: installing locked dependencies into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip uv
    "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" -r requirements.lock
    "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" --no-deps --config-settings editable_mode=compat -e .
    echo "$WANT" > "$STAMP"
fi
