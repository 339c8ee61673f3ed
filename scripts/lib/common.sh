# Shared by the scripts in scripts/: where things are, and how to install what is missing.
#
# Every ensure_* function is idempotent and cheap when nothing changed: it compares a
# stamp (the hash of the lock file it installed from) before doing any work, so that a
# second `scripts/run` or `scripts/test` starts at once.

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$REPO/.venv"
TOOLS="$REPO/.tools"
STAMPS="$TOOLS/stamps"
UV_VERSION="0.13.9"
export PATH="$VENV/bin:$TOOLS/bin:$REPO/node_modules/.bin:$PATH"
export UV_CACHE_DIR="${UV_CACHE_DIR:-$TOOLS/cache/uv}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# stamp_matches NAME FILE... : true when the files' hash equals the one recorded as NAME.
stamp_matches() {
  local name="$1"; shift
  [ -f "$STAMPS/$name" ] && [ "$(cat "$@" | sha256sum | cut -d' ' -f1)" = "$(cat "$STAMPS/$name")" ]
}
stamp_write() {
  local name="$1"; shift
  mkdir -p "$STAMPS"
  cat "$@" | sha256sum | cut -d' ' -f1 >"$STAMPS/$name"
}

# The Python components, installed in editable mode into the one virtual environment.
PYTHON_COMPONENTS=(contracts/python libs/pasar-kit libs/pasar-testkit svc-product svc-payment svc-order gateway-flask conformance)

# Bytecode is compiled when the environment is installed (uv does not by default) and for
# the components' own sources at every start: where PYTHONDONTWRITEBYTECODE is set (this
# machine, CI, the images) Python never writes it, and each process would compile every
# module it imports at start, which costs about 2 s and keeps 11 MB more resident (a
# service: 72 against 61 MB after its imports).
ensure_python() {
  local manifests=("$REPO/requirements/dev.lock")
  local component
  for component in "${PYTHON_COMPONENTS[@]}"; do
    [ -f "$REPO/$component/pyproject.toml" ] && manifests+=("$REPO/$component/pyproject.toml")
  done
  if [ -x "$VENV/bin/python" ] && stamp_matches python "${manifests[@]}"; then
    compile_sources
    return
  fi
  say "installing the Python environment (.venv) from requirements/dev.lock"
  command -v python3.11 >/dev/null || die "Python 3.11 is required"
  [ -x "$VENV/bin/python" ] || python3.11 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  "$VENV/bin/uv" pip sync --quiet --compile-bytecode --python "$VENV/bin/python" --require-hashes \
    "$REPO/requirements/dev.lock"
  local editable=()
  for component in "${PYTHON_COMPONENTS[@]}"; do
    [ -f "$REPO/$component/pyproject.toml" ] && editable+=(-e "$REPO/$component")
  done
  "$VENV/bin/uv" pip install --quiet --compile-bytecode --python "$VENV/bin/python" --no-deps "${editable[@]}"
  compile_sources
  stamp_write python "${manifests[@]}"
}

# compile_sources: bytecode for the components' own sources (editable installs: uv compiles
# only what lies in site-packages); quick when it is up to date.
compile_sources() {
  local sources=() component
  for component in "${PYTHON_COMPONENTS[@]}"; do
    [ -d "$REPO/$component/src" ] && sources+=("$REPO/$component/src")
  done
  "$VENV/bin/python" -m compileall -q -j 0 "${sources[@]}" >/dev/null
}

ensure_node() {
  command -v npm >/dev/null || die "Node.js 20 and npm are required"
  if [ -d "$REPO/node_modules" ] && stamp_matches node "$REPO/package-lock.json"; then return; fi
  say "installing node modules (npm ci)"
  (cd "$REPO" && npm ci --no-audit --no-fund --loglevel=error)
  stamp_write node "$REPO/package-lock.json"
}

ensure_go_tools() {
  command -v go >/dev/null || die "Go is required"
  local tools="$REPO/contracts/tools"
  if [ -x "$TOOLS/bin/protoc-gen-go" ] && stamp_matches go-tools "$tools/go.mod" "$tools/go.sum"; then return; fi
  say "installing the Go code generators (contracts/tools/go.mod)"
  (cd "$tools" && GOBIN="$TOOLS/bin" go install tool)
  stamp_write go-tools "$tools/go.mod" "$tools/go.sum"
}

# ensure_debian_packages PACKAGE... : installs Debian packages that are not installed yet.
ensure_debian_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] && return
  say "installing Debian packages: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_all() {
  ensure_python
  ensure_node
  ensure_go_tools
}
