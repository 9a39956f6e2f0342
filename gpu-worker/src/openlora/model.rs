//! The batched Llama forward pass: a set of rows (tokens of several sequences, each at its own
//! position, each with its own adapter or none) through every block at once.
//!
//! It computes what [`crate::model::reference::ReferenceModel`] computes per token: the same
//! RMSNorm, RoPE (adjacent pairs) and grouped-query attention, but every projection is one GEMM
//! over all rows ([`kernels::PackedMatrix::apply`], weights packed once at load; `q|k|v` and
//! `gate|up` write side by side into one buffer each), plus the rows' LoRA updates ([`kernels::bgmv`] for decode rows, [`kernels::sgmv`] for
//! prefill rows). Each sequence has its own [`KvCache`]; a row attends to its sequence's cached
//! positions up to its own.

use super::{
	adapters::Slab,
	capture::HeadRows,
	kernels::{self, PackedMatrix},
	ops::{self, Heads},
	Request, ServeError,
};
use crate::{
	model::{
		reference::{Matrix, Weights},
		LlamaConfig,
	},
	train::lora::Target,
};
use rayon::prelude::*;

/// One block's weights, each projection packed for the batched kernel.
#[derive(Debug, Clone)]
pub struct Layer {
	attn_norm: Vec<f32>,
	/// `q, k, v, o, gate, up, down`, in [`Target::index`] order.
	proj: [PackedMatrix; 7],
	ffn_norm: Vec<f32>,
}

fn pack(m: &Matrix) -> PackedMatrix {
	let mut w = Vec::with_capacity(m.rows() * m.cols());
	for r in 0..m.rows() {
		w.extend_from_slice(m.row(r).unwrap_or(&[]));
	}
	PackedMatrix::pack(&w, m.rows(), m.cols())
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

	/// Makes room for `positions` positions in all (cached ones included) of `kv_dim` values
	/// each, so that appending up to there does not reallocate.
	pub fn reserve(&mut self, positions: usize, kv_dim: usize) {
		let extra = positions.saturating_sub(self.len) * kv_dim;
		for cached in self.keys.iter_mut().chain(self.values.iter_mut()) {
			cached.reserve_exact(extra);
		}
	}

	/// [`KvCache::reserve`] for every position `request` can reach: its prompt and
	/// `max_tokens`, within the context.
	pub fn reserve_for(&mut self, config: &LlamaConfig, request: &Request) {
		let reach = request.prompt.len() + request.max_tokens as usize;
		self.reserve(reach.min(config.context_length), config.kv_dim());
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
	/// `vocab × dim` (a packed copy of the embeddings when tied).
	output: PackedMatrix,
	/// Whether the output projection is the embeddings (`embd` then holds its rows).
	tied: bool,
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
				proj: [
					pack(&b.attn_q),
					pack(&b.attn_k),
					pack(&b.attn_v),
					pack(&b.attn_output),
					pack(&b.ffn_gate),
					pack(&b.ffn_up),
					pack(&b.ffn_down),
				],
				ffn_norm: b.ffn_norm.clone(),
			});
		}
		let mut embd = Vec::with_capacity(vocab * dim);
		for t in 0..vocab {
			embd.extend_from_slice(weights.token_embd.row(t).unwrap_or(&[]));
		}
		let output = pack(weights.output_projection());
		let tied = weights.output.is_none();
		Ok(Self { config, embd, layers, output_norm: weights.output_norm.clone(), output, tied })
	}

	/// The hyperparameters.
	pub fn config(&self) -> &LlamaConfig {
		&self.config
	}

	/// `target`'s weight in layer `layer`.
	pub fn projection(&self, layer: usize, target: Target) -> Option<&PackedMatrix> {
		self.layers.get(layer).and_then(|l| l.proj.get(target.index()))
	}

	/// [`BatchModel::projection`] to change: the naive path merges adapters through it.
	pub fn projection_mut(&mut self, layer: usize, target: Target) -> Option<&mut PackedMatrix> {
		self.layers.get_mut(layer).and_then(|l| l.proj.get_mut(target.index()))
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
		let mut scratch = Scratch::default();
		let vocab = self.config.vocab_size.max(1);
		let logits = self.forward_with(rows, caches, slab, &mut scratch)?;
		Ok(logits.chunks_exact(vocab).map(<[f32]>::to_vec).collect())
	}

	/// [`BatchModel::forward`] with reused buffers: returns the logits rows back to back
	/// (`vocab` values each), borrowed from `scratch`.
	pub fn forward_with<'s>(
		&self,
		rows: &[Row],
		caches: &mut [&mut KvCache],
		slab: Option<&Slab>,
		scratch: &'s mut Scratch,
	) -> Result<&'s [f32], ServeError> {
		self.forward_tapped(rows, caches, slab, scratch, &mut [])
	}

	/// The output projection (`vocab × dim`; the embeddings when tied).
	pub fn head(&self) -> &PackedMatrix {
		&self.output
	}

	/// The output projection's rows for a capture: the row-major embeddings when tied, else
	/// the packed copy.
	pub fn head_rows(&self) -> HeadRows<'_> {
		match self.tied {
			true => HeadRows::RowMajor { values: &self.embd, dim: self.config.embedding_length },
			false => HeadRows::Packed(&self.output),
		}
	}

	/// [`BatchModel::forward_with`] that also copies the residual stream entering each layer
	/// named in `taps` (`(layer, buffer)`: every row's `dim` values, in row order) into its
	/// buffer. With no taps it is exactly [`BatchModel::forward_with`].
	pub fn forward_tapped<'s>(
		&self,
		rows: &[Row],
		caches: &mut [&mut KvCache],
		slab: Option<&Slab>,
		scratch: &'s mut Scratch,
		taps: &mut [(usize, Vec<f32>)],
	) -> Result<&'s [f32], ServeError> {
		let c = &self.config;
		let (dim, kv, ffn, vocab) =
			(c.embedding_length, c.kv_dim(), c.feed_forward_length, c.vocab_size);
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
		let Scratch { x, h, qkv, mixed, o, gu, act, d, logits } = scratch;
		x.clear();
		for row in rows {
			let t = row.token as usize;
			let e = self
				.embd
				.get(t * dim..(t + 1) * dim)
				.ok_or(ServeError::TokenOutOfRange { token: row.token, vocab_size: vocab })?;
			x.extend_from_slice(e);
		}
		let decode_slots: Vec<Option<usize>> =
			rows.iter().map(|r| r.slot.filter(|_| !r.prefill)).collect();
		let prefill_slots: Vec<Option<usize>> =
			rows.iter().map(|r| r.slot.filter(|_| r.prefill)).collect();
		let any_adapter = slab.is_some() && rows.iter().any(|r| r.slot.is_some());
		let lora =
			|layer: usize, target: Target, input: &[f32], y: &mut [f32], ldy: usize, off: usize| {
				let Some(slab) = slab.filter(|_| any_adapter) else { return };
				let view = slab.view(layer, target);
				kernels::bgmv(&view, input, &decode_slots, y, ldy, off);
				kernels::sgmv(&view, input, &prefill_slots, y, ldy, off);
			};
		let eps = c.rms_norm_eps;
		let norm = |x: &[f32], w: &[f32], out: &mut Vec<f32>| {
			let out = sized(out, x.len());
			// Rows split over the threads when there are enough of them to pay for it.
			let rows_per_task = (PARALLEL_VALUES / dim.max(1)).max(1) * dim.max(1);
			out.par_chunks_mut(rows_per_task)
				.zip(x.par_chunks(rows_per_task))
				.for_each(|(out, x)| ops::rms_norm_rows(x, w, eps, dim, out));
		};
		let shape = Heads { heads: c.head_count, kv_heads: c.head_count_kv, head_dim };
		// Each row's RoPE angles once, shared by all its heads and layers.
		let rope_dims = c.rope_dimension_count.min(head_dim);
		let angles: Vec<Vec<(f64, f64)>> =
			rows.iter().map(|r| rope_angles(r.pos, rope_dims, c.rope_freq_base)).collect();
		let qkv_len = dim + 2 * kv;
		let [q_at, k_at, v_at, o_at, gate_at, up_at, down_at] = Target::ALL.map(Target::index);
		for (l, layer) in self.layers.iter().enumerate() {
			for (_, tap) in taps.iter_mut().filter(|(at, _)| *at == l) {
				tap.clear();
				tap.extend_from_slice(x);
			}
			let p = &layer.proj;
			norm(x, &layer.attn_norm, h);
			let qkv = sized(qkv, m * qkv_len);
			let qkv_parts = [(&p[q_at], 0), (&p[k_at], dim), (&p[v_at], dim + kv)];
			PackedMatrix::apply_all(&qkv_parts, h, m, qkv, qkv_len);
			lora(l, Target::Q, h, qkv, qkv_len, 0);
			lora(l, Target::K, h, qkv, qkv_len, dim);
			lora(l, Target::V, h, qkv, qkv_len, dim + kv);
			for (angles, values) in angles.iter().zip(qkv.chunks_exact_mut(qkv_len)) {
				let q_k = values.get_mut(..dim + kv).unwrap_or(&mut []);
				for head in q_k.chunks_exact_mut(head_dim) {
					rotate(head, angles);
				}
			}
			for (row, values) in rows.iter().zip(qkv.chunks_exact(qkv_len)) {
				if let Some(cache) = caches.get_mut(row.seq) {
					let (k, v) = values.get(dim..).unwrap_or(&[]).split_at(kv.min(values.len()));
					if let (Some(keys), Some(vals)) =
						(cache.keys.get_mut(l), cache.values.get_mut(l))
					{
						keys.extend_from_slice(k);
						vals.extend_from_slice(v);
					}
				}
			}
			let shared: &[&mut KvCache] = caches;
			let qkv: &[f32] = qkv;
			let mixed = sized(mixed, m * dim);
			mixed
				.par_chunks_exact_mut(dim)
				.zip(rows.par_iter())
				.zip(qkv.par_chunks_exact(qkv_len))
				.for_each_init(Vec::new, |scores, ((out, row), values)| {
					let end = (row.pos + 1) * kv;
					let cache = shared.get(row.seq);
					let keys = cache.and_then(|k| k.keys.get(l)).and_then(|k| k.get(..end));
					let vals = cache.and_then(|k| k.values.get(l)).and_then(|v| v.get(..end));
					let q = values.get(..dim).unwrap_or(&[]);
					let (keys, vals) = (keys.unwrap_or(&[]), vals.unwrap_or(&[]));
					ops::attend(q, keys, vals, shape, scores, out);
				});
			let o = sized(o, m * dim);
			p[o_at].apply(mixed, m, o, dim, 0);
			lora(l, Target::O, mixed, o, dim, 0);
			add(x, o);

			norm(x, &layer.ffn_norm, h);
			let gu = sized(gu, m * 2 * ffn);
			PackedMatrix::apply_all(&[(&p[gate_at], 0), (&p[up_at], ffn)], h, m, gu, 2 * ffn);
			lora(l, Target::Gate, h, gu, 2 * ffn, 0);
			lora(l, Target::Up, h, gu, 2 * ffn, ffn);
			let act = sized(act, m * ffn);
			let rows_per_task = (PARALLEL_VALUES / ffn.max(1)).max(1);
			act.par_chunks_mut(rows_per_task * ffn)
				.zip(gu.par_chunks(rows_per_task * 2 * ffn))
				.for_each(|(act, gu)| {
					for (dst, src) in act.chunks_exact_mut(ffn).zip(gu.chunks_exact(2 * ffn)) {
						let (g, u) = src.split_at(ffn);
						ops::swiglu(g, u, dst);
					}
				});
			let d = sized(d, m * dim);
			p[down_at].apply(act, m, d, dim, 0);
			lora(l, Target::Down, act, d, dim, 0);
			add(x, d);
		}
		for cache in caches.iter_mut() {
			cache.len = cache.keys.first().map(|k| k.len() / kv.max(1)).unwrap_or(cache.len);
		}
		// The logits rows' hidden states, gathered into a buffer the layers are done with.
		o.clear();
		for (_, hidden) in rows.iter().zip(x.chunks_exact(dim)).filter(|(r, _)| r.logits) {
			o.extend_from_slice(hidden);
		}
		let n = o.len() / dim.max(1);
		norm(o, &self.output_norm, h);
		let logits = sized(logits, n * vocab);
		self.output.apply(h, n, logits, vocab, 0);
		Ok(logits)
	}
}

/// Values of a row-wise operation below which it runs on one thread (splitting it costs more
/// than it saves).
const PARALLEL_VALUES: usize = 1 << 15;

/// Buffers a step reuses, so that a step does not map fresh pages for each of them.
#[derive(Debug, Default)]
pub struct Scratch {
	x: Vec<f32>,
	h: Vec<f32>,
	qkv: Vec<f32>,
	mixed: Vec<f32>,
	o: Vec<f32>,
	gu: Vec<f32>,
	act: Vec<f32>,
	d: Vec<f32>,
	logits: Vec<f32>,
}

/// `buf` at exactly `len` values (old values kept, new ones zero).
fn sized(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
	buf.resize(len, 0.0);
	buf
}

/// `(cos, sin)` of each RoPE pair's angle at `pos`, computed as [`crate::model::reference::rope`] does.
fn rope_angles(pos: usize, rope_dims: usize, freq_base: f32) -> Vec<(f64, f64)> {
	(0..rope_dims / 2)
		.map(|i| {
			let exponent = -2.0 * i as f64 / rope_dims as f64;
			let theta = pos as f64 * f64::from(freq_base).powf(exponent);
			let (sin, cos) = theta.sin_cos();
			(cos, sin)
		})
		.collect()
}

/// [`crate::model::reference::rope`] of one head with precomputed angles: the same arithmetic, so the same values.
fn rotate(head: &mut [f32], angles: &[(f64, f64)]) {
	for (pair, (cos, sin)) in head.chunks_exact_mut(2).zip(angles) {
		if let [a, b] = pair {
			let (x0, x1) = (f64::from(*a), f64::from(*b));
			*a = (x0 * cos - x1 * sin) as f32;
			*b = (x0 * sin + x1 * cos) as f32;
		}
	}
}

fn add(x: &mut [f32], delta: &[f32]) {
	for (a, d) in x.iter_mut().zip(delta) {
		*a += d;
	}
}
