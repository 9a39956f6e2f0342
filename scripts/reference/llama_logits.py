#!/usr/bin/env python3
"""Independent reference logits for a Llama-architecture GGUF file (e.g. SmolLM2-135M-Instruct).

Nothing here uses the project's Rust code: the file is read with the llama.cpp project's own
`gguf` Python package (GGUFReader), every tensor is dequantized with `gguf.quants.dequantize`,
and the forward pass is plain numpy in float64.

Tested with (Python 3.11.7, in a virtualenv outside the repository):
    numpy==2.4.6
    gguf==0.19.0

Setup:
    python3 -m venv ~/.cache/openledger/venv-ref
    ~/.cache/openledger/venv-ref/bin/pip install numpy==2.4.6 gguf==0.19.0

Usage:
    llama_logits.py --model PATH --tokens 504,3575,282,4649,314 [--out FILE]
        JSON with, for every position, the top-10 (id, logit) pairs and the logits of the probe
        ids (every 997th id).
    llama_logits.py --model PATH --tokens ... --generate 8
        greedy-decodes 8 tokens after the prompt and prints the text (a sanity check).
    llama_logits.py --model PATH --text "..." --generate 8
        as above, with the prompt encoded by a small byte-level BPE over the file's own
        vocabulary and merges (approximate pre-tokenization; for sanity checks only).

Llama as stored in GGUF:
  * GGUFReader's numpy shapes are the ggml dims reversed, so a weight of ggml dims [in, out]
    arrives as an (out, in) matrix and a projection is `W @ x`.
  * RoPE is ggml's "normal" mode: adjacent pairs (x[2i], x[2i+1]) of each head rotate by
    pos * freq_base^(-2i/rope_dim) (llama.cpp's converter permuted the q/k rows for this).
  * Grouped-query attention: query head h reads key/value head h // (heads / kv_heads).
  * No output.weight: the logits use token_embd.weight (tied embeddings).
"""

import argparse
import json
import sys

import numpy as np
import gguf
from gguf.quants import dequantize

TOP = 10
PROBE_STEP = 997


def field(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        if default is None:
            sys.exit(f"missing metadata {key}")
        return default
    return f.contents()


class Llama:
    def __init__(self, path):
        r = gguf.GGUFReader(path)
        arch = field(r, "general.architecture")
        if arch != "llama":
            sys.exit(f"architecture {arch!r} is not llama")
        p = arch + "."
        self.n_layers = int(field(r, p + "block_count"))
        self.dim = int(field(r, p + "embedding_length"))
        self.ffn = int(field(r, p + "feed_forward_length"))
        self.heads = int(field(r, p + "attention.head_count"))
        self.kv_heads = int(field(r, p + "attention.head_count_kv", self.heads))
        self.freq_base = float(field(r, p + "rope.freq_base", 10000.0))
        self.eps = float(field(r, p + "attention.layer_norm_rms_epsilon"))
        self.head_dim = self.dim // self.heads
        self.rope_dim = int(field(r, p + "rope.dimension_count", self.head_dim))
        self.vocab = [str(t) for t in field(r, "tokenizer.ggml.tokens")]
        self.merges = [str(m) for m in field(r, "tokenizer.ggml.merges", [])]

        self.w = {}
        for t in r.tensors:
            a = dequantize(t.data, t.tensor_type).astype(np.float64)
            # ggml dims reversed: (rows, cols) = (ne[1], ne[0]); check it.
            expected = tuple(int(d) for d in reversed(t.shape.tolist()))
            if a.shape != expected:
                a = a.reshape(expected)
            self.w[t.name] = a

        emb = self.w["token_embd.weight"]
        assert emb.shape[1] == self.dim, emb.shape
        self.n_vocab = emb.shape[0]
        self.output = self.w.get("output.weight", emb)
        kv = self.kv_heads * self.head_dim
        for n in range(self.n_layers):
            b = f"blk.{n}."
            for name, shape in (
                ("attn_q", (self.dim, self.dim)),
                ("attn_k", (kv, self.dim)),
                ("attn_v", (kv, self.dim)),
                ("attn_output", (self.dim, self.dim)),
                ("ffn_gate", (self.ffn, self.dim)),
                ("ffn_up", (self.ffn, self.dim)),
                ("ffn_down", (self.dim, self.ffn)),
            ):
                got = self.w[b + name + ".weight"].shape
                assert got == shape, (b + name, got, shape)

    def rms_norm(self, x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * w

    def rope(self, x, positions):
        # x: [T, n_heads, head_dim]; rotate adjacent pairs of the first rope_dim components.
        half = self.rope_dim // 2
        inv = self.freq_base ** (-2.0 * np.arange(half, dtype=np.float64) / self.rope_dim)
        angle = positions[:, None].astype(np.float64) * inv[None, :]  # [T, half]
        cos = np.cos(angle)[:, None, :]
        sin = np.sin(angle)[:, None, :]
        out = x.copy()
        even = x[..., 0 : self.rope_dim : 2]
        odd = x[..., 1 : self.rope_dim : 2]
        out[..., 0 : self.rope_dim : 2] = even * cos - odd * sin
        out[..., 1 : self.rope_dim : 2] = even * sin + odd * cos
        return out

    def forward(self, tokens):
        """Logits [T, vocab] for every position of `tokens`."""
        t = len(tokens)
        hd, heads, kvh = self.head_dim, self.heads, self.kv_heads
        group = heads // kvh
        positions = np.arange(t)
        x = self.w["token_embd.weight"][np.asarray(tokens)]  # [T, dim]
        causal = np.triu(np.full((t, t), -np.inf), k=1)
        for n in range(self.n_layers):
            b = f"blk.{n}."
            h = self.rms_norm(x, self.w[b + "attn_norm.weight"])
            q = (h @ self.w[b + "attn_q.weight"].T).reshape(t, heads, hd)
            k = (h @ self.w[b + "attn_k.weight"].T).reshape(t, kvh, hd)
            v = (h @ self.w[b + "attn_v.weight"].T).reshape(t, kvh, hd)
            q = self.rope(q, positions)
            k = self.rope(k, positions)
            mixed = np.empty((t, heads, hd))
            for head in range(heads):
                kv = head // group
                scores = q[:, head, :] @ k[:, kv, :].T / np.sqrt(hd) + causal
                scores -= scores.max(axis=1, keepdims=True)
                p = np.exp(scores)
                p /= p.sum(axis=1, keepdims=True)
                mixed[:, head, :] = p @ v[:, kv, :]
            x = x + mixed.reshape(t, heads * hd) @ self.w[b + "attn_output.weight"].T
            h = self.rms_norm(x, self.w[b + "ffn_norm.weight"])
            gate = h @ self.w[b + "ffn_gate.weight"].T
            up = h @ self.w[b + "ffn_up.weight"].T
            act = gate / (1.0 + np.exp(-gate)) * up
            x = x + act @ self.w[b + "ffn_down.weight"].T
        h = self.rms_norm(x, self.w["output_norm.weight"])
        return h @ self.output.T

    def decode(self, ids):
        text = "".join(self.vocab[i] for i in ids)
        table = byte_decoder()
        if all(ch in table for ch in text):
            return bytes(table[ch] for ch in text).decode("utf-8", errors="replace")
        return text

    def encode(self, text):
        """Byte-level BPE with the file's merges; special tokens like <|im_start|> kept whole.
        The pre-tokenizer is an approximation of GPT-2's, good enough for sanity checks."""
        import re

        ids = {tok: i for i, tok in enumerate(self.vocab)}
        ranks = {tuple(m.split(" ", 1)): i for i, m in enumerate(self.merges)}
        enc = {v: k for k, v in byte_decoder().items()}
        specials = sorted((tok for tok in self.vocab if tok.startswith("<|") and tok.endswith("|>")), key=len, reverse=True)
        split = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d| ?[^\s\w]+|\s+(?!\S)|\s+")
        out = []
        pieces = re.split("(" + "|".join(re.escape(s) for s in specials) + ")", text) if specials else [text]
        for piece in pieces:
            if piece in ids and piece in specials:
                out.append(ids[piece])
                continue
            for word in split.findall(piece):
                parts = [enc[b] for b in word.encode("utf-8")]
                while len(parts) > 1:
                    best = min(range(len(parts) - 1), key=lambda i: ranks.get((parts[i], parts[i + 1]), 1 << 60))
                    if (parts[best], parts[best + 1]) not in ranks:
                        break
                    parts[best : best + 2] = [parts[best] + parts[best + 1]]
                out.extend(ids[p] for p in parts)
        return out


def byte_decoder():
    """GPT-2's printable-unicode stand-ins for bytes, inverted: char -> byte."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = keep[:]
    extra = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(keep, chars)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--tokens", help="comma-separated token ids")
    ap.add_argument("--text", help="prompt text (approximate BPE; sanity checks only)")
    ap.add_argument("--generate", type=int, default=0, help="greedy-decode this many tokens instead of printing JSON")
    ap.add_argument("--out", help="write the JSON here instead of stdout")
    ap.add_argument("--note", default="", help="free text stored in the JSON")
    args = ap.parse_args()

    model = Llama(args.model)
    if args.tokens:
        tokens = [int(s) for s in args.tokens.split(",") if s.strip()]
    elif args.text is not None:
        tokens = model.encode(args.text)
    else:
        sys.exit("give --tokens or --text")

    if args.generate:
        print("prompt ids:", tokens, file=sys.stderr)
        print("prompt pieces:", [model.vocab[i] for i in tokens], file=sys.stderr)
        ids = list(tokens)
        for _ in range(args.generate):
            ids.append(int(np.argmax(model.forward(ids)[-1])))
        new = ids[len(tokens) :]
        print(json.dumps({"generated_ids": new, "generated_text": model.decode(new)}, ensure_ascii=False))
        return

    logits = model.forward(tokens)
    probes = list(range(0, model.n_vocab, PROBE_STEP))
    positions = []
    for pos, row in enumerate(logits):
        top = np.argsort(-row, kind="stable")[:TOP]
        positions.append(
            {
                "position": pos,
                "token": tokens[pos],
                "top": [[int(i), float(row[i])] for i in top],
                "probes": [float(row[i]) for i in probes],
            }
        )
    doc = {
        "model": args.model.rsplit("/", 1)[-1],
        "note": args.note,
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "gguf": _version("gguf"),
        },
        "config": {
            "block_count": model.n_layers,
            "embedding_length": model.dim,
            "feed_forward_length": model.ffn,
            "head_count": model.heads,
            "head_count_kv": model.kv_heads,
            "rope_freq_base": model.freq_base,
            "rms_norm_eps": model.eps,
            "vocab_size": model.n_vocab,
        },
        "prompt_ids": tokens,
        "prompt_pieces": [model.vocab[i] for i in tokens],
        "probe_ids": probes,
        "positions": positions,
    }
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


def _version(name):
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    main()
