# Shared by the scripts: where builds go, and installing what the build needs.
# Source it; it does not run anything by itself.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# One target directory outside the work tree, shared by every script, the shell and CI.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/openledger/target}"
# The wasm runtime build must find the workspace (and its Cargo.lock) from the outside target dir.
export WASM_BUILD_WORKSPACE_HINT="${WASM_BUILD_WORKSPACE_HINT:-$ROOT}"
NODE_BIN="$CARGO_TARGET_DIR/release/openledger-node"
WORKER_BIN="$CARGO_TARGET_DIR/release/gpu-worker"
# Base Models (scripts/fetch-model.sh puts SmolLM2 here; workers find them by content hash).
MODELS_DIR="${OPENLEDGER_MODELS:-$HOME/.cache/openledger/models}"
MODEL_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
		die "need root to run: $* (install it by hand or run as root)"; fi
}

# Installs what is missing; safe to run again.
ensure_build_deps() {
	local missing=()
	command -v protoc >/dev/null || missing+=(protobuf-compiler)
	command -v clang >/dev/null || missing+=(clang)
	command -v curl >/dev/null || missing+=(curl)
	command -v python3 >/dev/null || missing+=(python3)
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing ${missing[*]}"
		as_root apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
	if ! command -v cargo >/dev/null; then
		[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
		command -v cargo >/dev/null || die "Rust is not installed: see https://rustup.rs"
	fi
	local targets
	targets="$(rustup target list --installed)"
	# substrate-wasm-builder prefers wasm32v1-none; wasm32-unknown-unknown is the fallback.
	for t in wasm32v1-none wasm32-unknown-unknown; do
		grep -qx "$t" <<<"$targets" || { log "adding rust target $t"; rustup target add "$t" >/dev/null; }
	done
	rustup component list --installed | grep -q '^rust-src' || { log "adding rust-src"; rustup component add rust-src >/dev/null; }
}

ensure_js_deps() {
	command -v node >/dev/null || { log "installing nodejs and npm"; as_root apt-get update -qq;
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	if [ ! -d "$ROOT/scripts/e2e/node_modules/@polkadot/api" ]; then
		log "installing the Polkadot.js client (npm ci, pinned by package-lock.json)"
		(cd "$ROOT/scripts/e2e" && npm ci --no-audit --no-fund --loglevel=error)
	fi
	if [ ! -d "$ROOT/zombienet/node_modules/@zombienet/orchestrator" ]; then
		log "installing zombienet (npm ci in zombienet/, pinned by package-lock.json)"
		(cd "$ROOT/zombienet" && npm ci --no-audit --no-fund --loglevel=error)
	fi
}

build_binaries() {
	log "building openledger-node and gpu-worker (release; target dir $CARGO_TARGET_DIR)"
	(cd "$ROOT" && cargo build --release --locked -p openledger-node -p gpu-worker)
}

# JSON-RPC call over HTTP; prints the `result` as JSON.
rpc() {
	local port="$1" method="$2" params="${3:-[]}"
	curl -sf -H 'Content-Type: application/json' \
		-d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$method\",\"params\":$params}" \
		"http://127.0.0.1:$port" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["result"]))'
}

# Number of the latest finalized block, or nothing if the node does not answer.
finalized_number() {
	local port="$1" head
	head="$(rpc "$port" chain_getFinalizedHead)" || return 1
	rpc "$port" chain_getHeader "[$head]" | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["number"],16))'
}
