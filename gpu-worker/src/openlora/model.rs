//! The batched Llama forward pass: a set of rows (tokens of several sequences, each at its own
//! position, each with its own adapter or none) through every block at once.
//!
//! It computes what [`crate::model::reference::ReferenceModel`] computes per token: the same
//! RMSNorm, RoPE (adjacent pairs) and grouped-query attention, but every projection is one GEMM
//! over all rows ([`kernels::gemm_nt`]) with `q|k|v` and `gate|up` fused into one matrix each,
//! plus the rows' LoRA updates ([`kernels::bgmv`] for decode rows, [`kernels::sgmv`] for
//! prefill rows). Each sequence has its own [`KvCache`]; a row attends to its sequence's cached
//! positions up to its own.

use super::{adapters::Slab, kernels, ServeError};
use crate::{
	model::{
		reference::{attention, rms_norm, rope, silu, Matrix, Weights},
		LlamaConfig,
	},
	train::lora::Target,
};
use rayon::prelude::*;

/// A row-major `out × in` weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
	/// Output length (rows).
	pub out: usize,
	/// Input length (columns).
	pub input: usize,
	/// `out × input` values.
	pub w: Vec<f32>,
}

impl Linear {
	/// The matrices stacked by rows (all of the same input length).
	fn stack(parts: &[&Matrix]) -> Self {
		let input = parts.first().map(|m| m.cols()).unwrap_or(0);
		let out = parts.iter().map(|m| m.rows()).sum();
		let mut w = Vec::with_capacity(out * input);
		for m in parts {
			for r in 0..m.rows() {
				w.extend_from_slice(m.row(r).unwrap_or(&[]));
			}
		}
		Self { out, input, w }
	}

	/// `y = x · Wᵀ` for `m` rows of `x`.
	fn apply(&self, x: &[f32], m: usize) -> Vec<f32> {
		let mut y = vec![0f32; m * self.out];
		kernels::gemm_nt(x, m, self.input, &self.w, self.out, &mut y, self.out, 0.0);
		y
	}
}

/// One block's weights, laid out for batched GEMMs.
#[derive(Debug, Clone)]
pub struct Layer {
	attn_norm: Vec<f32>,
	/// `q`, `k`, `v` stacked: `(dim + 2 kv_dim) × dim`.
	qkv: Linear,
	o: Linear,
	ffn_norm: Vec<f32>,
	/// `gate`, `up` stacked: `2 ffn × dim`.
	gate_up: Linear,
	down: Linear,
}

/// One sequence's cached keys and values, per layer a `kv_dim` row per position.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
	keys: Vec<Vec<f32>>,
	values: Vec<Vec<f32>>,
	len: usize,
}

impl KvCache {
	/// An empty cache for `layers` blocks.
	pub fn new(layers: usize) -> Self {
		Self { keys: vec![Vec::new(); layers], values: vec![Vec::new(); layers], len: 0 }
	}

	/// Positions cached.
	pub fn len(&self) -> usize {
		self.len
	}

	/// Whether nothing is cached.
	pub fn is_empty(&self) -> bool {
		self.len == 0
	}
}

/// One row of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
	/// Index of the row's sequence in the `caches` passed to [`BatchModel::forward`].
	pub seq: usize,
	/// The token fed.
	pub token: u32,
	/// Its position (the sequence's rows are consecutive, starting at its cache length).
	pub pos: usize,
	/// The adapter's slab slot; `None` for the base Model.
	pub slot: Option<usize>,
	/// A prefill row (LoRA by SGMV) rather than a decode row (BGMV).
	pub prefill: bool,
	/// Whether to return this row's next-token logits.
	pub logits: bool,
}

/// The base Model, resident once, in the layout of the batched forward.
#[derive(Debug, Clone)]
pub struct BatchModel {
	config: LlamaConfig,
	embd: Vec<f32>,
	layers: Vec<Layer>,
	output_norm: Vec<f32>,
	/// `vocab × dim`; `None` when tied to the embeddings.
	output: Option<Linear>,
}

impl BatchModel {
	/// The Model from reference weights (checked against `config`).
	pub fn new(config: LlamaConfig, weights: &Weights) -> Result<Self, ServeError> {
		let (dim, kv, ffn, vocab) = (
			config.embedding_length,
			config.kv_dim(),
			config.feed_forward_length,
			config.vocab_size,
		);
		let bad = |what: String| Err(ServeError::InvalidModel(what));
		if weights.blocks.len() != config.block_count {
			return bad(format!("{} blocks, config {}", weights.blocks.len(), config.block_count));
		}
		let shape = |m: &Matrix| (m.rows(), m.cols());
		if shape(&weights.token_embd) != (vocab, dim) || weights.output_norm.len() != dim {
			return bad("token embeddings or output norm".into());
		}
		if weights.output.as_ref().is_some_and(|o| shape(o) != (vocab, dim)) {
			return bad("output projection".into());
		}
		let mut layers = Vec::with_capacity(weights.blocks.len());
		for (n, b) in weights.blocks.iter().enumerate() {
			let ok = shape(&b.attn_q) == (dim, dim)
				&& shape(&b.attn_k) == (kv, dim)
				&& shape(&b.attn_v) == (kv, dim)
				&& shape(&b.attn_output) == (dim, dim)
				&& shape(&b.ffn_gate) == (ffn, dim)
				&& shape(&b.ffn_up) == (ffn, dim)
				&& shape(&b.ffn_down) == (dim, ffn)
				&& b.attn_norm.len() == dim
				&& b.ffn_norm.len() == dim;
			if !ok {
				return bad(format!("block {n} has shapes other than the config's"));
			}
			layers.push(Layer {
				attn_norm: b.attn_norm.clone(),
				qkv: Linear::stack(&[&b.attn_q, &b.attn_k, &b.attn_v]),
				o: Linear::stack(&[&b.attn_output]),
				ffn_norm: b.ffn_norm.clone(),
				gate_up: Linear::stack(&[&b.ffn_gate, &b.ffn_up]),
				down: Linear::stack(&[&b.ffn_down]),
			});
		}
		let embd = Linear::stack(&[&weights.token_embd]).w;
		let output = weights.output.as_ref().map(|o| Linear::stack(&[o]));
		Ok(Self { config, embd, layers, output_norm: weights.output_norm.clone(), output })
	}

	/// The hyperparameters.
	pub fn config(&self) -> &LlamaConfig {
		&self.config
	}

	/// Which fused matrix holds `target` and its first row and row count there.
	fn window(&self, target: Target) -> (usize, usize, usize) {
		let (dim, kv, ffn) =
			(self.config.embedding_length, self.config.kv_dim(), self.config.feed_forward_length);
		match target {
			Target::Q => (0, 0, dim),
			Target::K => (0, dim, kv),
			Target::V => (0, dim + kv, kv),
			Target::O => (1, 0, dim),
			Target::Gate => (2, 0, ffn),
			Target::Up => (2, ffn, ffn),
			Target::Down => (3, 0, dim),
		}
	}

	/// The rows of `target`'s weight in layer `layer` (`out × in`, row-major): a window into
	/// the fused matrix.
	pub fn projection(&self, layer: usize, target: Target) -> Option<&[f32]> {
		let (which, first, rows) = self.window(target);
		let l = self.layers.get(layer)?;
		let linear = [&l.qkv, &l.o, &l.gate_up, &l.down][which];
		linear.w.get(first * linear.input..(first + rows) * linear.input)
	}

	/// [`BatchModel::projection`] to change, with its input length. The naive path merges
	/// adapters through it.
	pub fn projection_mut(&mut self, layer: usize, target: Target) -> Option<(&mut [f32], usize)> {
		let (which, first, rows) = self.window(target);
		let l = self.layers.get_mut(layer)?;
		let linear = match which {
			0 => &mut l.qkv,
			1 => &mut l.o,
			2 => &mut l.gate_up,
			_ => &mut l.down,
		};
		let input = linear.input;
		linear.w.get_mut(first * input..(first + rows) * input).map(|w| (w, input))
	}

	/// Feeds `rows` and returns the logits (`vocab` values each) of the rows with
	/// [`Row::logits`], in row order. `caches[row.seq]` is each row's sequence; their keys and
	/// values are appended. `slab` holds the rows' adapters (`None`: no row has one).
	pub fn forward(
		&self,
		rows: &[Row],
		caches: &mut [&mut KvCache],
		slab: Option<&Slab>,
	) -> Result<Vec<Vec<f32>>, ServeError> {
		let c = &self.config;
		let (dim, kv, ffn, vocab) = (c.embedding_length, c.kv_dim(), c.feed_forward_length, c.vocab_size);
		let head_dim = c.head_dim();
		let m = rows.len();
		// Check positions: each sequence's rows continue its cache, in order.
		let mut next: Vec<usize> = caches.iter().map(|k| k.len).collect();
		for row in rows {
			let expected = next.get_mut(row.seq).ok_or(ServeError::InvalidModel(format!(
				"row for sequence {} of {}",
				row.seq,
				caches.len()
			)))?;
			if row.pos != *expected {
				return Err(ServeError::InvalidModel(format!(
					"row at position {} of a sequence with {} cached",
					row.pos, expected
				)));
			}
			if row.pos >= c.context_length {
				return Err(ServeError::PromptTooLong {
					tokens: row.pos + 1,
					context_length: c.context_length,
				});
			}
			*expected += 1;
		}
		let mut x = Vec::with_capacity(m * dim);
		for row in rows {
			let t = row.token as usize;
			let e = self.embd.get(t * dim..(t + 1) * dim).ok_or(ServeError::TokenOutOfRange {
				token: row.token,
				vocab_size: vocab,
			})?;
			x.extend_from_slice(e);
		}
		let decode_slots: Vec<Option<usize>> =
			rows.iter().map(|r| r.slot.filter(|_| !r.prefill)).collect();
		let prefill_slots: Vec<Option<usize>> =
			rows.iter().map(|r| r.slot.filter(|_| r.prefill)).collect();
		let any_adapter = slab.is_some() && rows.iter().any(|r| r.slot.is_some());
		let lora = |layer: usize, target: Target, input: &[f32], y: &mut [f32], ldy: usize, off: usize| {
			let Some(slab) = slab.filter(|_| any_adapter) else { return };
			let view = slab.view(layer, target);
			kernels::bgmv(&view, input, &decode_slots, y, ldy, off);
			kernels::sgmv(&view, input, &prefill_slots, y, ldy, off);
		};
		let eps = c.rms_norm_eps;
		let norm = |x: &[f32], w: &[f32]| -> Vec<f32> {
			x.chunks_exact(dim).flat_map(|r| rms_norm(r, w, eps)).collect()
		};
		let qkv_len = dim + 2 * kv;
		for (l, layer) in self.layers.iter().enumerate() {
			let h = norm(&x, &layer.attn_norm);
			let mut qkv = layer.qkv.apply(&h, m);
			lora(l, Target::Q, &h, &mut qkv, qkv_len, 0);
			lora(l, Target::K, &h, &mut qkv, qkv_len, dim);
			lora(l, Target::V, &h, &mut qkv, qkv_len, dim + kv);
			for (row, values) in rows.iter().zip(qkv.chunks_exact_mut(qkv_len)) {
				let (q, rest) = values.split_at_mut(dim);
				let k = rest.get_mut(..kv).unwrap_or(&mut []);
				for head in q.chunks_exact_mut(head_dim).chain(k.chunks_exact_mut(head_dim)) {
					rope(head, c.rope_dimension_count, row.pos, c.rope_freq_base);
				}
			}
			for (row, values) in rows.iter().zip(qkv.chunks_exact(qkv_len)) {
				if let Some(cache) = caches.get_mut(row.seq) {
					let (k, v) = values.get(dim..).unwrap_or(&[]).split_at(kv.min(values.len()));
					if let (Some(keys), Some(vals)) = (cache.keys.get_mut(l), cache.values.get_mut(l)) {
						keys.extend_from_slice(k);
						vals.extend_from_slice(v);
					}
				}
			}
			let shared: &[&mut KvCache] = caches;
			let mixed: Vec<Vec<f32>> = rows
				.par_iter()
				.zip(qkv.par_chunks_exact(qkv_len))
				.map(|(row, values)| {
					let end = (row.pos + 1) * kv;
					let cache = shared.get(row.seq);
					let keys = cache.and_then(|k| k.keys.get(l)).and_then(|k| k.get(..end));
					let vals = cache.and_then(|k| k.values.get(l)).and_then(|v| v.get(..end));
					let q = values.get(..dim).unwrap_or(&[]);
					attention(
						q,
						keys.unwrap_or(&[]),
						vals.unwrap_or(&[]),
						c.head_count,
						c.head_count_kv,
						head_dim,
					)
				})
				.collect();
			let mixed: Vec<f32> = mixed.concat();
			let mut o = layer.o.apply(&mixed, m);
			lora(l, Target::O, &mixed, &mut o, dim, 0);
			add(&mut x, &o);

			let h = norm(&x, &layer.ffn_norm);
			let mut gu = layer.gate_up.apply(&h, m);
			lora(l, Target::Gate, &h, &mut gu, 2 * ffn, 0);
			lora(l, Target::Up, &h, &mut gu, 2 * ffn, ffn);
			let act: Vec<f32> = gu
				.chunks_exact(2 * ffn)
				.flat_map(|r| {
					let (g, u) = r.split_at(ffn);
					g.iter().zip(u).map(|(g, u)| silu(*g) * u)
				})
				.collect();
			let mut d = layer.down.apply(&act, m);
			lora(l, Target::Down, &act, &mut d, dim, 0);
			add(&mut x, &d);
		}
		for cache in caches.iter_mut() {
			cache.len = cache.keys.first().map(|k| k.len() / kv.max(1)).unwrap_or(cache.len);
		}
		let picked: Vec<f32> = rows
			.iter()
			.zip(x.chunks_exact(dim))
			.filter(|(r, _)| r.logits)
			.flat_map(|(_, h)| rms_norm(h, &self.output_norm, eps))
			.collect();
		let n = picked.len() / dim.max(1);
		let mut logits = vec![0f32; n * vocab];
		let out = self.output.as_ref().map(|o| o.w.as_slice()).unwrap_or(&self.embd);
		kernels::gemm_nt(&picked, n, dim, out, vocab, &mut logits, vocab, 0.0);
		Ok(logits.chunks_exact(vocab.max(1)).map(<[f32]>::to_vec).collect())
	}
}

fn add(x: &mut [f32], delta: &[f32]) {
	for (a, d) in x.iter_mut().zip(delta) {
		*a += d;
	}
}
