//! A plain-Rust `f32` reference of the Llama decoder forward pass, for inference.
//!
//! Written to be obviously correct rather than fast: it is the yardstick an accelerated forward
//! pass is checked against. Every weight is dequantized to `f32` once, at load; each step feeds
//! one token through the blocks and appends its keys and values to a KV cache:
//!
//! ```text
//! x = token_embd[token]
//! for each block:
//!     h = rms_norm(x) * attn_norm
//!     q, k, v = attn_q h, attn_k h, attn_v h          (k, v: head_count_kv heads)
//!     rope(q), rope(k) at the token's position          (adjacent pairs (2i, 2i+1) rotate)
//!     append k, v to the cache
//!     per query head: softmax(q . k_j / sqrt(head_dim)) over cached positions j <= pos,
//!                     weighting v_j; query head h reads key/value head h / (heads / kv_heads)
//!     x += attn_output (the heads, concatenated)
//!     h = rms_norm(x) * ffn_norm
//!     x += ffn_down (silu(ffn_gate h) * ffn_up h)
//! logits = output (rms_norm(x) * output_norm)        (output tied to token_embd when absent)
//! ```
//!
//! The causal mask is the cache itself: a step attends to the positions cached so far, which
//! are exactly those at or before its own.
//!
//! **Layouts.** ggml lists dimensions fastest-varying first, so a GGUF weight of dims
//! `[in, out]` is `out` rows of `in` values: a row-major `out × in` [`Matrix`] that multiplies a
//! vector of length `in`. **RoPE** is ggml's "normal" mode, which GGUF Llama models use:
//! llama.cpp's conversion permutes the rows of `attn_q` and `attn_k` so that Hugging Face's
//! rotate-half pairs `(i, i + d/2)` become adjacent pairs `(2i, 2i + 1)`, each rotated by
//! `pos * freq_base^(-2i / rope_dims)`.
//!
//! Dot products accumulate in `f64` over eight independent lanes (which the compiler can
//! vectorize); matrix-vector products split their rows across threads.

use super::{
	config::{LlamaConfig, OUTPUT, TOKEN_EMBEDDING},
	gguf::{GgufError, GgufFile},
	ConfigError,
};
use std::ops::Range;

/// Why the reference Model could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
	/// Reading or dequantizing a tensor failed.
	#[error(transparent)]
	Gguf(#[from] GgufError),
	/// The hyperparameters could not be read.
	#[error(transparent)]
	Config(#[from] ConfigError),
	/// A tensor does not have the shape the config implies.
	#[error("tensor {tensor} has dims {found:?}, expected {expected:?}")]
	Shape {
		/// The tensor.
		tensor: String,
		/// Its dims as the config implies them (ggml order, fastest-varying first).
		expected: Vec<u64>,
		/// Its dims in the file.
		found: Vec<u64>,
	},
	/// A token id outside the vocabulary.
	#[error("token {token} is outside the vocabulary of {vocab_size} tokens")]
	TokenOutOfRange {
		/// The token.
		token: u32,
		/// Tokens in the vocabulary.
		vocab_size: usize,
	},
	/// A position past those cached: positions must be fed in order (an earlier one rewinds).
	#[error("position {pos} skips ahead of the {cached} cached positions")]
	PositionGap {
		/// The position asked for.
		pos: usize,
		/// Positions in the cache.
		cached: usize,
	},
	/// A position at or past the context length.
	#[error("position {pos} is past the context length {context_length}")]
	ContextFull {
		/// The position asked for.
		pos: usize,
		/// The Model's context length.
		context_length: usize,
	},
	/// Generation needs at least one prompt token.
	#[error("the prompt is empty")]
	EmptyPrompt,
}

/// A row-major `f32` matrix: `rows` rows of `cols` values.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
	rows: usize,
	cols: usize,
	data: Vec<f32>,
}

impl Matrix {
	/// `rows × cols` values, row after row; `None` when `data` has another length.
	pub fn new(rows: usize, cols: usize, data: Vec<f32>) -> Option<Self> {
		(rows.checked_mul(cols) == Some(data.len())).then_some(Self { rows, cols, data })
	}

	/// Rows (the output length of [`Matrix::matvec`]).
	pub fn rows(&self) -> usize {
		self.rows
	}

	/// Values per row (the input length of [`Matrix::matvec`]).
	pub fn cols(&self) -> usize {
		self.cols
	}

	/// Row `r`, `None` past the last.
	pub fn row(&self, r: usize) -> Option<&[f32]> {
		let start = r.checked_mul(self.cols)?;
		self.data.get(start..start.checked_add(self.cols)?)
	}

	/// Row `r` to change, `None` past the last.
	pub fn row_mut(&mut self, r: usize) -> Option<&mut [f32]> {
		let start = r.checked_mul(self.cols)?;
		self.data.get_mut(start..start.checked_add(self.cols)?)
	}

	/// `self · x` for `x` of length [`Matrix::cols`], rows split across up to `threads` threads.
	/// A shorter or longer `x` is treated as zero-padded or truncated.
	pub fn matvec(&self, x: &[f32], threads: usize) -> Vec<f32> {
		let x = x.get(..self.cols.min(x.len())).unwrap_or(x);
		let rows = |range: Range<usize>| -> Vec<f32> {
			range.filter_map(|r| self.row(r)).map(|row| dot(row, x)).collect()
		};
		let threads = threads.clamp(1, self.rows.max(1));
		// Below this many multiply-adds a thread costs more than it saves.
		const PARALLEL_MIN: usize = 1 << 16;
		if threads == 1 || self.data.len() < PARALLEL_MIN {
			return rows(0..self.rows);
		}
		let per_thread = self.rows.div_ceil(threads);
		let ranges: Vec<Range<usize>> = (0..self.rows)
			.step_by(per_thread)
			.map(|start| start..start.saturating_add(per_thread).min(self.rows))
			.collect();
		let rows = &rows;
		std::thread::scope(|scope| {
			let handles: Vec<_> = ranges
				.into_iter()
				.map(|range| {
					let spawned = std::thread::Builder::new()
						.spawn_scoped(scope, {
							let range = range.clone();
							move || rows(range)
						})
						.ok();
					(range, spawned)
				})
				.collect();
			let mut out = Vec::with_capacity(self.rows);
			for (range, handle) in handles {
				// A thread that could not start (or failed) leaves its rows to this one.
				match handle.map(|h| h.join()) {
					Some(Ok(part)) => out.extend(part),
					_ => out.extend(rows(range)),
				}
			}
			out
		})
	}
}

/// The weights of one transformer block, each projection an `out × in` [`Matrix`].
#[derive(Debug, Clone)]
pub struct BlockWeights {
	/// RMSNorm gains before attention (`blk.N.attn_norm.weight`).
	pub attn_norm: Vec<f32>,
	/// Query projection, `dim × dim`.
	pub attn_q: Matrix,
	/// Key projection, `kv_dim × dim`.
	pub attn_k: Matrix,
	/// Value projection, `kv_dim × dim`.
	pub attn_v: Matrix,
	/// Attention output projection, `dim × dim`.
	pub attn_output: Matrix,
	/// RMSNorm gains before the feed-forward network (`blk.N.ffn_norm.weight`).
	pub ffn_norm: Vec<f32>,
	/// Gate projection, `ffn × dim`.
	pub ffn_gate: Matrix,
	/// Up projection, `ffn × dim`.
	pub ffn_up: Matrix,
	/// Down projection, `dim × ffn`.
	pub ffn_down: Matrix,
}

/// All weights of a Llama Model, dequantized to `f32`.
#[derive(Debug, Clone)]
pub struct Weights {
	/// Token embeddings, `vocab × dim` (one row per token).
	pub token_embd: Matrix,
	/// The transformer blocks in order.
	pub blocks: Vec<BlockWeights>,
	/// Final RMSNorm gains.
	pub output_norm: Vec<f32>,
	/// Output projection, `vocab × dim`; `None` when tied to [`Weights::token_embd`].
	pub output: Option<Matrix>,
}

impl Weights {
	/// Reads and dequantizes every weight `config` names from `file`, checking each shape.
	pub fn load(file: &GgufFile, config: &LlamaConfig) -> Result<Self, ReferenceError> {
		let dim = config.embedding_length;
		let kv_dim = config.kv_dim();
		let ffn = config.feed_forward_length;
		let vocab = config.vocab_size;
		let blocks = (0..config.block_count)
			.map(|n| {
				let name = |what: &str| format!("blk.{n}.{what}.weight");
				Ok(BlockWeights {
					attn_norm: vector(file, &name("attn_norm"), dim)?,
					attn_q: matrix(file, &name("attn_q"), dim, dim)?,
					attn_k: matrix(file, &name("attn_k"), kv_dim, dim)?,
					attn_v: matrix(file, &name("attn_v"), kv_dim, dim)?,
					attn_output: matrix(file, &name("attn_output"), dim, dim)?,
					ffn_norm: vector(file, &name("ffn_norm"), dim)?,
					ffn_gate: matrix(file, &name("ffn_gate"), ffn, dim)?,
					ffn_up: matrix(file, &name("ffn_up"), ffn, dim)?,
					ffn_down: matrix(file, &name("ffn_down"), dim, ffn)?,
				})
			})
			.collect::<Result<Vec<_>, ReferenceError>>()?;
		Ok(Self {
			token_embd: matrix(file, TOKEN_EMBEDDING, vocab, dim)?,
			blocks,
			output_norm: vector(file, "output_norm.weight", dim)?,
			output: match config.tied_embeddings {
				true => None,
				false => Some(matrix(file, OUTPUT, vocab, dim)?),
			},
		})
	}

	/// The output projection: [`Weights::output`], or the token embeddings when tied.
	pub fn output_projection(&self) -> &Matrix {
		self.output.as_ref().unwrap_or(&self.token_embd)
	}
}

fn u64s(dims: &[usize]) -> Vec<u64> {
	dims.iter().map(|&d| u64::try_from(d).unwrap_or(u64::MAX)).collect()
}

/// Tensor `name` as a `rows × cols` matrix: GGUF dims `[cols, rows]`.
fn matrix(file: &GgufFile, name: &str, rows: usize, cols: usize) -> Result<Matrix, ReferenceError> {
	let data = tensor(file, name, &[cols, rows])?;
	Matrix::new(rows, cols, data).ok_or_else(|| ReferenceError::Shape {
		tensor: name.into(),
		expected: u64s(&[cols, rows]),
		found: file.gguf().tensor(name).map(|t| t.dims().to_vec()).unwrap_or_default(),
	})
}

/// Tensor `name` as a vector of `len` values.
fn vector(file: &GgufFile, name: &str, len: usize) -> Result<Vec<f32>, ReferenceError> {
	tensor(file, name, &[len])
}

fn tensor(file: &GgufFile, name: &str, dims: &[usize]) -> Result<Vec<f32>, ReferenceError> {
	let info = file.gguf().tensor(name).ok_or_else(|| GgufError::TensorNotFound(name.into()))?;
	let expected = u64s(dims);
	if info.dims() != expected.as_slice() {
		return Err(ReferenceError::Shape {
			tensor: name.into(),
			expected,
			found: info.dims().to_vec(),
		});
	}
	Ok(file.read_tensor_f32(name)?)
}

/// `Σ a_i b_i` over the common length, accumulated in `f64` over eight lanes.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
	let len = a.len().min(b.len());
	let (a, b) = (a.get(..len).unwrap_or(a), b.get(..len).unwrap_or(b));
	let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
	let (a_rest, b_rest) = (a8.remainder(), b8.remainder());
	let mut lanes = [0f64; 8];
	for (x, y) in a8.zip(b8) {
		for ((lane, p), q) in lanes.iter_mut().zip(x).zip(y) {
			*lane += f64::from(*p) * f64::from(*q);
		}
	}
	let mut sum: f64 = lanes.iter().sum();
	for (p, q) in a_rest.iter().zip(b_rest) {
		sum += f64::from(*p) * f64::from(*q);
	}
	sum as f32
}

/// RMSNorm: `x_i / sqrt(mean(x²) + eps) * weight_i`.
pub fn rms_norm(x: &[f32], weight: &[f32], eps: f32) -> Vec<f32> {
	let mean_square = x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / x.len().max(1) as f64;
	let scale = 1.0 / (mean_square + f64::from(eps)).sqrt();
	x.iter().zip(weight).map(|(v, w)| (f64::from(*v) * scale) as f32 * w).collect()
}

/// Rotary position embedding of one head, in place (ggml's "normal" mode): for
/// `i < rope_dims / 2` the pair `(x[2i], x[2i+1])` turns by `pos * freq_base^(-2i / rope_dims)`
/// radians; values from `rope_dims` on are left as they are.
pub fn rope(head: &mut [f32], rope_dims: usize, pos: usize, freq_base: f32) {
	let rope_dims = rope_dims.min(head.len());
	for (i, pair) in head.chunks_exact_mut(2).take(rope_dims / 2).enumerate() {
		let exponent = -2.0 * i as f64 / rope_dims as f64;
		let theta = pos as f64 * f64::from(freq_base).powf(exponent);
		let (sin, cos) = theta.sin_cos();
		if let [a, b] = pair {
			let (x0, x1) = (f64::from(*a), f64::from(*b));
			*a = (x0 * cos - x1 * sin) as f32;
			*b = (x0 * sin + x1 * cos) as f32;
		}
	}
}

/// Softmax, shifted by the maximum for stability.
pub fn softmax(scores: &[f32]) -> Vec<f32> {
	let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
	let exps: Vec<f64> = scores.iter().map(|s| f64::from(s - max).exp()).collect();
	let total: f64 = exps.iter().sum();
	exps.iter().map(|e| (e / total) as f32).collect()
}

/// SiLU: `x * sigmoid(x)`.
pub fn silu(x: f32) -> f32 {
	x / (1.0 + (-x).exp())
}

/// The index of the largest value (the first of equals; NaN never wins), `None` when empty.
pub fn argmax(values: &[f32]) -> Option<usize> {
	let mut best: Option<(usize, f32)> = None;
	for (i, &v) in values.iter().enumerate().filter(|(_, v)| !v.is_nan()) {
		match best {
			Some((_, b)) if v <= b => {}
			_ => best = Some((i, v)),
		}
	}
	best.map(|(i, _)| i)
}

/// Grouped-query attention of one token over the cached positions.
///
/// `q` is `heads × head_dim`; `keys` and `values` hold one `kv_heads × head_dim` row per cached
/// position. Query head `h` reads key/value head `h / (heads / kv_heads)`.
pub fn attention(
	q: &[f32],
	keys: &[f32],
	values: &[f32],
	heads: usize,
	kv_heads: usize,
	head_dim: usize,
) -> Vec<f32> {
	let kv_dim = kv_heads.saturating_mul(head_dim);
	let group = (heads / kv_heads.max(1)).max(1);
	let scale = 1.0 / (head_dim as f32).sqrt();
	let mut out = Vec::with_capacity(q.len());
	if head_dim == 0 || kv_dim == 0 {
		return out;
	}
	for (h, q_head) in q.chunks_exact(head_dim).enumerate() {
		let kv = (h / group).saturating_mul(head_dim);
		let slot = kv..kv.saturating_add(head_dim);
		let scores: Vec<f32> = keys
			.chunks_exact(kv_dim)
			.map(|k| dot(q_head, k.get(slot.clone()).unwrap_or(&[])) * scale)
			.collect();
		let mut mixed = vec![0f64; head_dim];
		for (p, v) in softmax(&scores).iter().zip(values.chunks_exact(kv_dim)) {
			for (m, x) in mixed.iter_mut().zip(v.get(slot.clone()).unwrap_or(&[])) {
				*m += f64::from(*p) * f64::from(*x);
			}
		}
		out.extend(mixed.iter().map(|m| *m as f32));
	}
	out
}

/// One block's cached keys and values: a `kv_dim` row per position.
#[derive(Debug, Clone, Default)]
struct KvCache {
	keys: Vec<f32>,
	values: Vec<f32>,
}

/// The reference Model: config, `f32` weights and a KV cache.
#[derive(Debug, Clone)]
pub struct ReferenceModel {
	config: LlamaConfig,
	weights: Weights,
	cache: Vec<KvCache>,
	cached: usize,
	threads: usize,
}

impl ReferenceModel {
	/// Reads the config and dequantizes every weight of the Model in `file`.
	pub fn load(file: &GgufFile) -> Result<Self, ReferenceError> {
		let config = LlamaConfig::from_gguf(file.gguf())?;
		let weights = Weights::load(file, &config)?;
		Ok(Self::new(config, weights))
	}

	/// A Model from weights already in memory. Their shapes must be those `config` implies (as
	/// [`Weights::load`] checks).
	pub fn new(config: LlamaConfig, weights: Weights) -> Self {
		let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
		let cache = vec![KvCache::default(); weights.blocks.len()];
		Self { config, weights, cache, cached: 0, threads }
	}

	/// The hyperparameters.
	pub fn config(&self) -> &LlamaConfig {
		&self.config
	}

	/// The weights.
	pub fn weights(&self) -> &Weights {
		&self.weights
	}

	/// Threads a matrix-vector product may use (at least one; all cores by default).
	pub fn set_threads(&mut self, threads: usize) {
		self.threads = threads.max(1);
	}

	/// Positions in the KV cache.
	pub fn cached_positions(&self) -> usize {
		self.cached
	}

	/// Empties the KV cache.
	pub fn reset(&mut self) {
		self.rewind(0);
	}

	/// Drops the cached positions from `pos` on.
	fn rewind(&mut self, pos: usize) {
		let keep = pos.min(self.cached);
		let len = keep.saturating_mul(self.config.kv_dim());
		for layer in &mut self.cache {
			layer.keys.truncate(len);
			layer.values.truncate(len);
		}
		self.cached = keep;
	}

	/// Feeds `token` at position `pos` and returns the next-token logits (`vocab_size` values).
	///
	/// `pos` may be the next position (`cached_positions()`) or an earlier one, which drops the
	/// cache from there on first.
	pub fn logits(&mut self, token: u32, pos: usize) -> Result<Vec<f32>, ReferenceError> {
		let hidden = self.step(token, pos)?;
		Ok(self.project(&hidden))
	}

	/// The final normalized hidden state times the output projection.
	fn project(&self, hidden: &[f32]) -> Vec<f32> {
		let normed = rms_norm(hidden, &self.weights.output_norm, self.config.rms_norm_eps);
		self.weights.output_projection().matvec(&normed, self.threads)
	}

	/// Runs the blocks for `token` at `pos`, caching its keys and values, and returns the
	/// residual stream after the last block.
	fn step(&mut self, token: u32, pos: usize) -> Result<Vec<f32>, ReferenceError> {
		let c = &self.config;
		if pos > self.cached {
			return Err(ReferenceError::PositionGap { pos, cached: self.cached });
		}
		if pos >= c.context_length {
			return Err(ReferenceError::ContextFull { pos, context_length: c.context_length });
		}
		let mut x = usize::try_from(token)
			.ok()
			.and_then(|t| self.weights.token_embd.row(t))
			.ok_or(ReferenceError::TokenOutOfRange { token, vocab_size: c.vocab_size })?
			.to_vec();
		self.rewind(pos);
		let c = &self.config;
		let (eps, threads, head_dim) = (c.rms_norm_eps, self.threads, c.head_dim());
		for (block, cache) in self.weights.blocks.iter().zip(&mut self.cache) {
			let h = rms_norm(&x, &block.attn_norm, eps);
			let mut q = block.attn_q.matvec(&h, threads);
			let mut k = block.attn_k.matvec(&h, threads);
			let v = block.attn_v.matvec(&h, threads);
			for head in q.chunks_exact_mut(head_dim).chain(k.chunks_exact_mut(head_dim)) {
				rope(head, c.rope_dimension_count, pos, c.rope_freq_base);
			}
			cache.keys.extend_from_slice(&k);
			cache.values.extend_from_slice(&v);
			let mixed =
				attention(&q, &cache.keys, &cache.values, c.head_count, c.head_count_kv, head_dim);
			add(&mut x, &block.attn_output.matvec(&mixed, threads));

			let h = rms_norm(&x, &block.ffn_norm, eps);
			let gate = block.ffn_gate.matvec(&h, threads);
			let up = block.ffn_up.matvec(&h, threads);
			let act: Vec<f32> = gate.iter().zip(&up).map(|(g, u)| silu(*g) * u).collect();
			add(&mut x, &block.ffn_down.matvec(&act, threads));
		}
		self.cached = pos.saturating_add(1);
		Ok(x)
	}

	/// Greedy decoding from an empty cache: feeds `prompt`, then appends the most likely token
	/// up to `max_new` times, stopping before `stop` when that is the choice. Returns the new
	/// tokens (without `stop`).
	pub fn generate_greedy(
		&mut self,
		prompt: &[u32],
		max_new: usize,
		stop: Option<u32>,
	) -> Result<Vec<u32>, ReferenceError> {
		let (&last, earlier) = prompt.split_last().ok_or(ReferenceError::EmptyPrompt)?;
		self.reset();
		for (pos, &token) in earlier.iter().enumerate() {
			self.step(token, pos)?;
		}
		let mut logits = self.logits(last, earlier.len())?;
		let mut generated = Vec::new();
		while generated.len() < max_new {
			let Some(next) = argmax(&logits).and_then(|i| u32::try_from(i).ok()) else { break };
			if Some(next) == stop {
				break;
			}
			generated.push(next);
			if generated.len() == max_new {
				break;
			}
			logits = self.logits(next, self.cached)?;
		}
		Ok(generated)
	}
}

fn add(x: &mut [f32], delta: &[f32]) {
	for (a, d) in x.iter_mut().zip(delta) {
		*a += d;
	}
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
	use super::*;

	fn close(a: &[f32], b: &[f32], tol: f32) {
		assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
		for (x, y) in a.iter().zip(b) {
			assert!((x - y).abs() <= tol, "{a:?} vs {b:?}");
		}
	}

	#[test]
	fn rms_norm_divides_by_the_root_mean_square_and_scales() {
		// mean(1, 4, 9, 16) = 7.5; 1/sqrt(7.5) = 0.365148.
		let y = rms_norm(&[1.0, 2.0, 3.0, 4.0], &[1.0, 1.0, 1.0, 2.0], 0.0);
		close(&y, &[0.365_148, 0.730_297, 1.095_445, 2.921_187], 1e-6);
		// eps joins the mean square: mean(9, 16) = 12.5, + 3.5 = 16, so x / 4.
		let y = rms_norm(&[3.0, -4.0], &[1.0, 1.0], 3.5);
		close(&y, &[0.75, -1.0], 1e-7);
		// All zeros stay zero.
		close(&rms_norm(&[0.0; 3], &[1.0; 3], 1e-5), &[0.0; 3], 0.0);
	}

	#[test]
	fn rope_turns_adjacent_pairs_by_position_times_frequency() {
		// base 100 over 4 dims: pair 0 turns by pos rad, pair 1 by pos * 100^(-1/2) = pos / 10.
		let mut head = [1.0, 0.0, 0.0, 1.0];
		rope(&mut head, 4, 1, 100.0);
		close(&head, &[1f32.cos(), 1f32.sin(), -0.1f32.sin(), 0.1f32.cos()], 1e-6);
		// cos 1 = 0.540302, sin 1 = 0.841471.
		close(&head[..2], &[0.540_302, 0.841_471], 1e-6);

		let mut head = [2.0, 3.0, 5.0, 7.0];
		rope(&mut head, 4, 0, 100.0);
		close(&head, &[2.0, 3.0, 5.0, 7.0], 0.0);

		// Position 2, pair (0, 2) turns by 2 rad: (-2 sin 2, 2 cos 2); dims past rope_dims stay.
		let mut head = [0.0, 2.0, 5.0, 7.0];
		rope(&mut head, 2, 2, 10_000.0);
		close(&head, &[-2.0 * 2f32.sin(), 2.0 * 2f32.cos(), 5.0, 7.0], 1e-6);

		// A rotation keeps each pair's length.
		let mut head = [3.0, 4.0, 1.0, 1.0];
		rope(&mut head, 4, 17, 10_000.0);
		assert!((head[0].hypot(head[1]) - 5.0).abs() < 1e-5);
		assert!((head[2].hypot(head[3]) - 2f32.sqrt()).abs() < 1e-6);
	}

	#[test]
	fn matvec_reads_rows_and_agrees_across_threads() {
		let m = Matrix::new(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
		close(&m.matvec(&[1.0, 0.0, -1.0], 1), &[-2.0, -2.0], 0.0);
		assert!(Matrix::new(2, 3, vec![0.0; 5]).is_none());

		let (rows, cols) = (301, 517);
		let data: Vec<f32> =
			(0..rows * cols).map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0).collect();
		let m = Matrix::new(rows, cols, data).unwrap();
		let x: Vec<f32> = (0..cols).map(|i| (i as f32 * 0.1).sin()).collect();
		let serial = m.matvec(&x, 1);
		for threads in [2, 3, 8, 1000] {
			assert_eq!(m.matvec(&x, threads), serial);
		}
		assert!((serial[7] - dot(m.row(7).unwrap(), &x)).abs() == 0.0);
	}

	#[test]
	fn softmax_silu_and_argmax() {
		close(&softmax(&[0.0, 0.0]), &[0.5, 0.5], 0.0);
		close(&softmax(&[10.0, 10.0 + 2f32.ln()]), &[1.0 / 3.0, 2.0 / 3.0], 1e-6);
		assert_eq!(silu(0.0), 0.0);
		assert!((silu(1.0) - 0.731_059).abs() < 1e-6);
		assert_eq!(argmax(&[1.0, 3.0, f32::NAN, 3.0]), Some(1));
		assert_eq!(argmax(&[f32::NAN, -1.0]), Some(1));
		assert_eq!(argmax(&[]), None);
	}

	#[test]
	fn attention_shares_key_value_heads_and_weights_by_similarity() {
		// 2 query heads sharing 1 key/value head of 2 dims; 2 cached positions.
		let keys = [1.0, 0.0, 0.0, 1.0];
		let values = [10.0, 0.0, 0.0, 20.0];
		// Head 0 scores (2, 0)/sqrt 2, head 1 scores equal.
		let q = [2.0, 0.0, 1.0, 1.0];
		let out = attention(&q, &keys, &values, 2, 1, 2);
		let p = softmax(&[2.0 / 2f32.sqrt(), 0.0]);
		close(&out, &[10.0 * p[0], 20.0 * p[1], 5.0, 10.0], 1e-5);
		// One position: the output is its value whatever the query.
		close(&attention(&[3.0, -7.0], &[1.0, 2.0], &[4.0, 5.0], 1, 1, 2), &[4.0, 5.0], 1e-6);
	}

	fn tiny_model() -> ReferenceModel {
		let (dim, kv_dim, ffn, vocab) = (8, 4, 12, 5);
		let mut seed = 1u32;
		let mut next = move || {
			seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
			(seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
		};
		let mut m = |rows, cols| {
			Matrix::new(rows, cols, (0..rows * cols).map(|_| next()).collect()).unwrap()
		};
		let blocks = (0..2)
			.map(|_| BlockWeights {
				attn_norm: vec![1.0; dim],
				attn_q: m(dim, dim),
				attn_k: m(kv_dim, dim),
				attn_v: m(kv_dim, dim),
				attn_output: m(dim, dim),
				ffn_norm: vec![1.0; dim],
				ffn_gate: m(ffn, dim),
				ffn_up: m(ffn, dim),
				ffn_down: m(dim, ffn),
			})
			.collect();
		let weights = Weights {
			token_embd: m(vocab, dim),
			blocks,
			output_norm: vec![1.0; dim],
			output: None,
		};
		let config = LlamaConfig {
			block_count: 2,
			embedding_length: dim,
			feed_forward_length: ffn,
			head_count: 4,
			head_count_kv: 2,
			rope_freq_base: 10_000.0,
			rope_dimension_count: 2,
			rms_norm_eps: 1e-5,
			context_length: 6,
			vocab_size: vocab,
			tied_embeddings: true,
		};
		ReferenceModel::new(config, weights)
	}

	#[test]
	fn a_tiny_model_steps_rewinds_and_checks_its_inputs() {
		let mut model = tiny_model();
		let a = model.logits(1, 0).unwrap();
		let b = model.logits(3, 1).unwrap();
		assert_eq!(a.len(), 5);
		assert!(a.iter().chain(&b).all(|v| v.is_finite()));
		assert_eq!(model.cached_positions(), 2);
		// Rewinding to position 1 recomputes the same logits; so does starting over.
		assert_eq!(model.logits(3, 1).unwrap(), b);
		model.reset();
		assert_eq!(model.logits(1, 0).unwrap(), a);

		assert!(matches!(model.logits(9, 1), Err(ReferenceError::TokenOutOfRange { .. })));
		assert!(matches!(model.logits(1, 5), Err(ReferenceError::PositionGap { .. })));
		assert!(matches!(model.generate_greedy(&[], 3, None), Err(ReferenceError::EmptyPrompt)));
		let out = model.generate_greedy(&[1, 2], 4, None).unwrap();
		assert_eq!(out.len(), 4);
		assert!(matches!(
			model.generate_greedy(&[1, 2, 3], 5, None),
			Err(ReferenceError::ContextFull { pos: 6, .. })
		));
		// Greedy decoding is deterministic.
		assert_eq!(model.generate_greedy(&[1, 2], 4, None).unwrap(), out);
		// A stop token ends generation before it.
		let first = out.iter().position(|t| *t == out[1]).unwrap();
		let stopped = model.generate_greedy(&[1, 2], 4, Some(out[1])).unwrap();
		assert_eq!(stopped, &out[..first]);
	}
}
