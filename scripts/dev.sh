#!/usr/bin/env bash
# Sets up this machine, builds the node and the worker, and runs a development chain (Alice
# validates alone) with the content store and a CPU gpu-worker (//Bob) attached to the node,
# until Ctrl-C. Once blocks are finalized it seeds a demo Datanet from
# scripts/data/wallet-risk-notes.jsonl (uploaded to the store, contributed, accepted,
# snapshotted), has the worker verify the snapshot as an on-chain job (dispatched by the node's
# off-chain worker, result signed and posted back, fee paid), fine-tunes a LoRA adapter of the
# SmolLM2-135M base model on the snapshot (a train job: the worker trains on CPU, uploads the
# PEFT adapter to the store, and the chain records the model version with its lineage), serves
# paid completions from that version through the worker's OpenAI-compatible API (OpenLoRA;
# //Charlie deposits OPEN and signs each request, the worker's receipts settle on-chain), and
# prints the RPC address and a Polkadot.js Apps link.
#
#   ./scripts/dev.sh                       # run until Ctrl-C
#   ./scripts/dev.sh --until-finalized 5   # stop by itself once block 5 is finalized (after the flow)
#   ./scripts/dev.sh --no-seed             # skip the demo Datanet and the jobs
#   FINETUNE_STEPS=20 ./scripts/dev.sh     # a longer fine-tune (default 8 steps)
#   RPC_PORT=9955 STORE_PORT=8095 WORKER_PORT=8096 OPENAI_PORT=8097 ./scripts/dev.sh
#                                          # other ports (defaults 9944, 8090, 8091, 8092)
set -euo pipefail
. "$(dirname "$0")/common.sh"

until_finalized=""
seed=1
while [ $# -gt 0 ]; do
	case "$1" in
		--until-finalized) until_finalized="${2:?--until-finalized needs a block number}"; shift 2 ;;
		--no-seed) seed=0; shift ;;
		-h|--help) sed -n '2,20p' "$0"; exit 0 ;;
		*) die "unknown argument: $1 (see --help)" ;;
	esac
done

ensure_build_deps
build_binaries

RPC_PORT="${RPC_PORT:-9944}"
WORKER_PORT="${WORKER_PORT:-8091}"
OPENAI_PORT="${OPENAI_PORT:-8092}"
BASE="$(mktemp -d)"
log "starting a dev chain (state in $BASE, removed on exit)"
"$NODE_BIN" --dev --base-path "$BASE" --rpc-port "$RPC_PORT" --no-telemetry \
	--gpu-worker "http://127.0.0.1:$WORKER_PORT" 2>"$BASE/node.log" &
NODE_PID=$!
cleanup() { kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$BASE"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Wait (bounded) for the first finalized block.
for _ in $(seq 1 240); do
	kill -0 "$NODE_PID" 2>/dev/null || { tail -n 30 "$BASE/node.log"; die "the node exited"; }
	n="$(finalized_number "$RPC_PORT" 2>/dev/null || true)"
	[ -n "$n" ] && [ "$n" -ge 1 ] && break
	sleep 0.5
done
[ -n "${n:-}" ] && [ "$n" -ge 1 ] || { tail -n 30 "$BASE/node.log"; die "no finalized block within 2 minutes"; }

STORE_PORT="${STORE_PORT:-8090}"
log "starting the content store on 127.0.0.1:$STORE_PORT (data in $BASE/store)"
"$WORKER_BIN" store --dir "$BASE/store" --listen "127.0.0.1:$STORE_PORT" >"$BASE/store.log" 2>&1 &
for _ in $(seq 1 100); do
	curl -sf "http://127.0.0.1:$STORE_PORT/health" >/dev/null && break
	kill -0 $! 2>/dev/null || { cat "$BASE/store.log"; die "the content store exited"; }
	sleep 0.2
done
log "starting a CPU gpu-worker (//Bob) on 127.0.0.1:$WORKER_PORT, attached to the node"
"$ROOT/scripts/fetch-model.sh" >/dev/null || log "the SmolLM2 model could not be fetched; the fine-tune is skipped"
"$WORKER_BIN" serve --node "ws://127.0.0.1:$RPC_PORT" --key //Bob \
	--listen "127.0.0.1:$WORKER_PORT" --job-kinds verify-snapshot,train \
	--models-dir "$MODELS_DIR" --adapters-dir "$BASE/adapters" \
	--store "http://127.0.0.1:$STORE_PORT" \
	$([ -f "$MODELS_DIR/$MODEL_FILE" ] && echo "--openai 127.0.0.1:$OPENAI_PORT --receipt-interval-ms 3000") \
	>"$BASE/worker.log" 2>&1 &
WORKER_PID=$!
for _ in $(seq 1 100); do
	grep -q "listening on" "$BASE/worker.log" 2>/dev/null && break
	kill -0 "$WORKER_PID" 2>/dev/null || { cat "$BASE/worker.log"; die "the gpu-worker exited"; }
	sleep 0.2
done

datanet_info="(skipped: --no-seed)"
job_info="(skipped: --no-seed)"
finetune_info="(skipped: --no-seed)"
inference_info="(skipped: --no-seed)"
if [ "$seed" = 1 ]; then
	ensure_js_deps
	log "seeding the demo Datanet from scripts/data/wallet-risk-notes.jsonl"
	datanet_info="$(node "$ROOT/scripts/e2e/seed-datanet.mjs" "ws://127.0.0.1:$RPC_PORT" "http://127.0.0.1:$STORE_PORT")"
	snapshot_id="$(printf '%s' "$datanet_info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshot"])')"
	log "verifying snapshot $snapshot_id on the gpu-worker (an on-chain job)"
	job_info="$(node "$ROOT/scripts/e2e/run-jobs.mjs" "ws://127.0.0.1:$RPC_PORT" "$snapshot_id" --jobs 1 | head -n 1)" \
		|| { tail -n 20 "$BASE/worker.log"; die "the verification job did not complete"; }
	if [ -f "$MODELS_DIR/$MODEL_FILE" ]; then
		log "fine-tuning SmolLM2-135M on snapshot $snapshot_id (a train job on the gpu-worker, CPU)"
		finetune_info="$(node "$ROOT/scripts/e2e/run-finetune.mjs" "ws://127.0.0.1:$RPC_PORT" "$snapshot_id" \
			"$MODELS_DIR/$MODEL_FILE" --steps "${FINETUNE_STEPS:-8}")" \
			|| { tail -n 20 "$BASE/worker.log"; die "the fine-tune did not complete"; }
		model_id="$(printf '%s' "$finetune_info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["model"])')"
		version_id="$(printf '%s' "$finetune_info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')"
		log "paid completions from model $model_id version $version_id (OpenAI API on the gpu-worker, signed by //Charlie)"
		node "$ROOT/scripts/e2e/run-inference.mjs" "ws://127.0.0.1:$RPC_PORT" "http://127.0.0.1:$OPENAI_PORT" \
			"$model_id" "$version_id" //Bob | tee "$BASE/inference.log" \
			|| { tail -n 20 "$BASE/worker.log"; die "the paid completions failed"; }
		inference_info="$(tail -n 1 "$BASE/inference.log")"
	else
		finetune_info="(skipped: $MODELS_DIR/$MODEL_FILE not found; run scripts/fetch-model.sh)"
		inference_info="$finetune_info"
	fi
fi

n="$(finalized_number "$RPC_PORT" 2>/dev/null || echo "$n")"
cat <<INFO

  OpenLedger dev chain is running: blocks are produced and finalized (finalized #$n).
  RPC (HTTP + WebSocket): ws://127.0.0.1:$RPC_PORT
  Polkadot.js Apps:       https://polkadot.js.org/apps/?rpc=ws%3A%2F%2F127.0.0.1%3A$RPC_PORT#/explorer
  Content store:          http://127.0.0.1:$STORE_PORT/content/0x<blake2-256>
  Demo Datanet:           $datanet_info
  GPU worker (//Bob):     http://127.0.0.1:$WORKER_PORT (JSON-RPC: worker_info, worker_status), log $BASE/worker.log
  Snapshot verification:  $job_info
  Fine-tune (LoRA):       $finetune_info
  OpenAI API (OpenLoRA):  http://127.0.0.1:$OPENAI_PORT/v1/chat/completions (model "<id>:<version>", signed requests)
  Paid completions:       $inference_info
  Adapters:               $BASE/adapters/0x<adapter hash>/ (adapter_model.safetensors, adapter_config.json, report.json, loss.png)
  Node log:               $BASE/node.log
  Dev accounts:           //Alice (sudo, validator) ... //Ferdie; Eve and Ferdie hold vested team OPEN.

INFO

if [ -n "$until_finalized" ]; then
	while :; do
		kill -0 "$NODE_PID" 2>/dev/null || die "the node exited"
		n="$(finalized_number "$RPC_PORT" 2>/dev/null || echo 0)"
		[ "$n" -ge "$until_finalized" ] && { log "finalized #$n: stopping"; exit 0; }
		sleep 1
	done
fi
log "press Ctrl-C to stop"
tail -f "$BASE/node.log" &
wait "$NODE_PID"
