#!/usr/bin/env bash
# scripts/lib/jaeger.sh — builds Jaeger v2 (github.com/jaegertracing/jaeger/cmd/jaeger at module
# version v1.75.0) into .tools/jaeger-v1.75.0/jaeger when it is missing, and prints the binary's
# path. pasar_testkit.jaeger runs it (the tests, scripts/run --observe); sourced, it only defines
# build_jaeger.
#
# `go install …/cmd/jaeger@v1.75.0` is refused (Jaeger's go.mod has replace directives), so the
# build happens inside a scratch module of our own (`go get -tool`, then `go build -o`), as
# design.md's "Facts checked on this kind of machine" says. A cold build (empty Go caches) costs
# about 6 minutes of CPU and took 10 minutes on a busy 2-core machine; with Go's module and build
# caches warm it takes well under a minute (scripts/test starts it in the background first).
# -trimpath, and -s -w: no symbol table or DWARF (a panic still prints its stack), which halves
# the link (8.5 s to 3.6 s) and the binary is 85 MB instead of 121. The binary is written under
# a temporary name and renamed, under a lock, so two callers at once build it once and neither
# sees half a file (an interrupted build leaves none). Started with scripts/lib/jaeger.yaml it
# keeps traces in memory only.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

JAEGER_MODULE="github.com/jaegertracing/jaeger"
JAEGER_VERSION="v1.75.0"
JAEGER_DIR="$TOOLS/jaeger-$JAEGER_VERSION"

build_jaeger() {
  local binary="$JAEGER_DIR/jaeger"
  if [ ! -x "$binary" ]; then
    command -v go >/dev/null || die "Go is required to build Jaeger (see design.md, 'Facts checked')"
    command -v flock >/dev/null || die "flock (util-linux) is required to build Jaeger"
    mkdir -p "$JAEGER_DIR"
    (
      flock 9
      # Another caller may have built it while this one waited for the lock.
      if [ ! -x "$binary" ]; then
        say "building Jaeger $JAEGER_VERSION into $binary (minutes the first time)"
        local module="$JAEGER_DIR/module" partial="$binary.partial.$$"
        trap 'rm -f "$partial"' EXIT
        trap 'exit 143' TERM INT
        # Each step says `|| exit 1`: set -e does not act inside a subshell followed by ||.
        mkdir -p "$module" && cd "$module" || exit 1
        [ -f go.mod ] || go mod init pasar.local/jaeger-build >&2 || exit 1
        go get -tool "$JAEGER_MODULE/cmd/jaeger@$JAEGER_VERSION" >&2 || exit 1
        CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$partial" "$JAEGER_MODULE/cmd/jaeger" >&2 \
          || exit 1
        mv -f "$partial" "$binary" || exit 1
      fi
    ) 9>"$JAEGER_DIR/build.lock" || die "cannot build Jaeger $JAEGER_VERSION"
  fi
  printf '%s\n' "$binary"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  build_jaeger
fi
