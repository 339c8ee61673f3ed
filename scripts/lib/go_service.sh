#!/usr/bin/env bash
# scripts/lib/go_service.sh — builds the Go fulfillment service into .tools/bin/svc-fulfillment
# and prints the binary's path. pasar_testkit.go_service runs it (for scripts/run, through
# scripts/lib/run_shop.py, and for the tests); sourced, it only defines build_go_service.
#
# `go build` runs every time: Go's build cache makes a build without changes take about a
# second, and a stamp of our own could miss a change in the contracts' Go module that the
# service replaces with ../contracts/go. The binary is static (CGO_ENABLED=0: the SQLite
# driver is pure Go), as the container image has it.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

build_go_service() {
  command -v go >/dev/null || die "Go is required to build svc-fulfillment (see svc-fulfillment/README.md)"
  mkdir -p "$TOOLS/bin"
  (cd "$REPO/svc-fulfillment" && CGO_ENABLED=0 go build -trimpath -o "$TOOLS/bin/svc-fulfillment" ./cmd/svc-fulfillment) \
    || die "cannot build svc-fulfillment"
  printf '%s\n' "$TOOLS/bin/svc-fulfillment"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  build_go_service
fi
