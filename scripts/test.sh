#!/usr/bin/env bash
# Sets up this machine, builds, and runs every test:
#   1. unit and runtime tests (cargo test, release profile: the same artifacts as the node),
#   2. node CLI tests (bad arguments, unknown chains, build-spec),
#   3. the gpu-worker's model tests against the real SmolLM2 GGUF (fetched once by
#      scripts/fetch-model.sh; without network they print why they skip),
#   4. the end-to-end tests: a real `openledger-node --dev --tmp` on free ports, the content
#      store (`gpu-worker store`) and worker processes (`gpu-worker serve`), driven by
#      Polkadot.js (@polkadot/api, pinned in scripts/e2e/package-lock.json),
#   5. the multi-validator network tests: 3- and 4-validator `local` networks spawned by
#      zombienet's native provider (zombienet/*.test.mjs: authoring and finality, a killed
#      validator, a killed node with workers, a partition, a runtime upgrade by referendum).
# The processes the e2e and network tests start are always stopped, also when a test fails.
set -euo pipefail
. "$(dirname "$0")/common.sh"

ensure_build_deps
ensure_js_deps
"$ROOT/scripts/fetch-model.sh" >/dev/null || log "the SmolLM2 model could not be fetched; its tests will skip"
build_binaries

log "cargo test (workspace, release profile)"
(cd "$ROOT" && cargo test --release --locked --workspace)

log "end-to-end tests with Polkadot.js against dev nodes (scripts/e2e/*.test.mjs)"
(cd "$ROOT/scripts/e2e" && OPENLEDGER_NODE="$NODE_BIN" GPU_WORKER="$WORKER_BIN" \
	node --test --test-concurrency=3 --test-timeout=900000 ./*.test.mjs)

log "multi-validator network tests with zombienet (zombienet/*.test.mjs)"
(cd "$ROOT/zombienet" && OPENLEDGER_NODE="$NODE_BIN" GPU_WORKER="$WORKER_BIN" \
	node --test --test-concurrency=1 --test-timeout=900000 ./*.test.mjs)

log "all tests passed"
