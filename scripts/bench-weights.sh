#!/usr/bin/env bash
# Regenerates the runtime's weights (runtime/src/weights/<pallet>.rs) from the pallets'
# frame-benchmarking v2 benchmarks, run on the wasm runtime by frame-omni-bencher.
#
#   ./scripts/bench-weights.sh                     # every pallet below, 10 steps x 5 repeats
#   STEPS=50 REPEAT=20 ./scripts/bench-weights.sh pallet_compute
#
# Installs frame-omni-bencher once (into ~/.cache/openledger/tools, its own target dir, about
# 25 minutes on 2 cores), builds the runtime wasm with `--features runtime-benchmarks`, and runs
# each pallet's benchmarks. The next normal build rebuilds the wasm without the feature.
set -euo pipefail
. "$(dirname "$0")/common.sh"

PALLETS=("$@")
[ ${#PALLETS[@]} -gt 0 ] || PALLETS=(pallet_datanets pallet_compute pallet_models pallet_inference pallet_attribution pallet_emissions pallet_iao pallet_validators)
TOOLS="${OPENLEDGER_TOOLS:-$HOME/.cache/openledger/tools}"
BENCHER="$TOOLS/bin/frame-omni-bencher"

ensure_build_deps
if [ ! -x "$BENCHER" ]; then
	# bindgen (through clang-sys) wants an unversioned libclang.so; distributions without the
	# -dev package ship only libclang.so.N: point it at that.
	if [ -z "${LIBCLANG_PATH:-}" ] && ! ldconfig -p | grep -q 'libclang\.so '; then
		found="$(ldconfig -p | sed -n 's/.*=> \(.*libclang\(-[0-9.]*\)\?\.so\.[0-9.]*\)$/\1/p' | head -n 1)"
		if [ -n "$found" ]; then
			mkdir -p "$TOOLS/libclang"
			ln -sf "$found" "$TOOLS/libclang/libclang.so"
			export LIBCLANG_PATH="$TOOLS/libclang"
		fi
	fi
	log "installing frame-omni-bencher 0.28.0 into $TOOLS"
	CARGO_TARGET_DIR="${TOOLS_TARGET_DIR:-$HOME/.cache/openledger/tools-target}" \
		cargo install frame-omni-bencher --version 0.28.0 --locked --root "$TOOLS"
fi

log "building the runtime wasm with the benchmark API"
(cd "$ROOT" && cargo check --release --locked -p openledger-runtime --features runtime-benchmarks)
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cp "$CARGO_TARGET_DIR/release/wbuild/openledger-runtime/openledger_runtime.compact.compressed.wasm" \
	"$WORK/runtime.wasm"

for pallet in "${PALLETS[@]}"; do
	out="$ROOT/runtime/src/weights/$pallet.rs"
	log "benchmarking $pallet -> runtime/src/weights/$pallet.rs"
	"$BENCHER" v1 benchmark pallet --runtime "$WORK/runtime.wasm" --pallet "$pallet" \
		--extrinsic '*' --steps "${STEPS:-10}" --repeat "${REPEAT:-5}" \
		--genesis-builder-preset development --output "$out"
	# The recorded command names this machine's paths; keep it portable.
	sed -i -e "s|^// .*/frame-omni-bencher$|// frame-omni-bencher|" \
		-e "s|^// $WORK/runtime.wasm$|// <openledger_runtime wasm built with --features runtime-benchmarks>|" \
		-e "s|^// $ROOT/|// |" "$out"
done
