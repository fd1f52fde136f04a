# Source this file: it activates a virtualenv with the project's requirements, building it
# once per distinct set of requirement files. The virtualenv lives outside the clone
# (SOFAR_VENV_ROOT, default ~/.cache/sofar/venvs) so every clone and CI run reuses it.
set -euo pipefail

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${SOFAR_PYTHON:-python3}"
VENV_ROOT="${SOFAR_VENV_ROOT:-$HOME/.cache/sofar/venvs}"
REQUIREMENTS_HASH="$(cat "$PROJECT_ROOT/requirements.txt" "$PROJECT_ROOT/requirements-test.txt" | "$PYTHON" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read() + sys.version.encode()).hexdigest()[:16])')"
VENV="$VENV_ROOT/$REQUIREMENTS_HASH"

mkdir -p "$VENV_ROOT"
# Two commands starting at once on a new requirements set must not build one venv together.
exec {VENV_LOCK}>"$VENV_ROOT/.lock"
flock "$VENV_LOCK"
if [ ! -f "$VENV/.complete" ]; then
    echo "Building the virtualenv $VENV (a few minutes, once per set of requirements)..."
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$PROJECT_ROOT/requirements-test.txt"
    touch "$VENV/.complete"
fi
flock --unlock "$VENV_LOCK"

# shellcheck disable=SC1091
source "$VENV/bin/activate"
