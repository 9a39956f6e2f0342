//! Gradient influence: which contributions' training gradients point where the answer's
//! gradient points (TracIn-CP / LoGra style, on the LoRA parameters only, projected).
//!
//! **Sketch.** A gradient of the LoRA parameters of the included blocks (by default the last
//! block; [`Sketcher::last_blocks`] takes the last `k`) is projected to `dim` values (512 by
//! default) by a seeded CountSketch: every parameter, named by `(block, target, a | b, index)`
//! in the trainer's layout (`grads[block][target.index()]`, `a` `in × rank` and `b`
//! `rank × out`, row-major), hashes to one bucket and a sign, and the sketch is the signed sum of
//! the parameters in each bucket. No projection matrix is stored; the same seed gives the same
//! sketch everywhere. `E[⟨Sx, Sy⟩] = ⟨x, y⟩`, with a variance of at most
//! `2 ‖x‖² ‖y‖² / dim`.
//!
//! **Index** (training time, [`IndexBuilder`], a [`TrainHooks`]). Each example's own
//! gradient is sketched and scaled to unit norm; a contribution's row is the mean of its
//! examples' (and their repeats') unit sketches, scaled to unit norm again. Scores are cosine
//! similarities in `[-1, 1]`: TracIn-CP with gradient normalization (the "gradient cosine"
//! variant, which keeps long or high-loss examples from dominating by their norm alone).
//! Checkpoints are not weighted by their learning rate.
//!
//! **Answer** (serve time). The engine captures, for a flagged request
//! ([`crate::openlora::EngineHandle::submit_with_capture`]), the residual stream entering the
//! first included block at every position and, at each answer position, `W_headᵀ (p̂ − e_y)`,
//! the gradient of the token's negative log-likelihood with respect to the final (normed)
//! hidden state, `p̂` the top-k probabilities renormalized (exact when `k` covers the
//! vocabulary). [`answer_gradient`] reruns only the included blocks and the output norm in burn
//! ([`TailModel`]), with the adapter's LoRA tensors of those blocks requiring gradients, and
//! backpropagates `Σ_t ⟨h_t, δ_t⟩ / n` (the last block computes queries, output projection and
//! MLP only from the first answer position on: the prompt's outputs carry no `δ`): its
//! gradient is exactly that of the mean negative log-likelihood of the answer tokens (the LM head is linear in `h`, so the surrogate is
//! exact wherever `δ` is). [`answer_gradients`] does a batch of answers in one rerun, each
//! under its own adapter, with exact per-answer gradients. The answer's sketch is scored
//! against every row with [`InfluenceIndex::score_batch`] (one GEMM for a batch of answers).

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::ContributionId;
use crate::{
	openlora::Capture,
	train::{
		data::Example,
		host,
		llama::{
			tensor2, BaseModel, BatchLoraPair, BatchLoraTensors, LoraPair, LoraTensors, TailModel,
		},
		lora::{shape, Adapter, LoraWeights, Target},
		trainer::{StepLog, TrainHooks},
		TrainError,
	},
};
use burn::tensor::{activation, backend::AutodiffBackend, Int, Tensor, TensorData};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Sketch dimensions unless configured.
pub const DEFAULT_DIM: usize = 512;
/// Tokens per answer position the engine keeps unless configured.
pub const DEFAULT_TOP_K: usize = 64;
/// The largest sketch an index accepts.
pub const MAX_DIM: usize = 1 << 16;

/// Per block and target, `a` and `b` (the trainer's gradient layout).
pub type Grads = Vec<[Option<LoraWeights>; 7]>;

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a bijective 64-bit mix.
fn mix(mut z: u64) -> u64 {
	z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
	z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
	z ^ (z >> 31)
}

/// The seeded CountSketch of LoRA gradients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sketcher {
	/// Buckets (the sketch's length), at least 1.
	pub dim: usize,
	/// Seeds the hash.
	pub seed: u64,
	/// The blocks whose parameters are sketched, ascending (others are ignored).
	pub blocks: Vec<usize>,
}

impl Sketcher {
	/// A sketcher over `blocks` (sorted and deduplicated).
	pub fn new(dim: usize, seed: u64, mut blocks: Vec<usize>) -> Self {
		blocks.sort_unstable();
		blocks.dedup();
		Self { dim: dim.max(1), seed, blocks }
	}

	/// A sketcher over the last `k` of `block_count` blocks (at least one).
	pub fn last_blocks(dim: usize, seed: u64, block_count: usize, k: usize) -> Self {
		let k = k.clamp(1, block_count.max(1));
		Self::new(dim, seed, (block_count.saturating_sub(k)..block_count).collect())
	}

	/// The first included block (where the serve-time recomputation starts).
	pub fn first_block(&self) -> Option<usize> {
		self.blocks.first().copied()
	}

	/// The hash state of one tensor: `(block, target, a | b)`.
	fn tensor_key(&self, block: usize, target: usize, is_b: bool) -> u64 {
		let tag = ((block as u64) << 8) | ((target as u64) << 1) | u64::from(is_b);
		mix(mix(self.seed ^ 0x5ce7_c400_0000_0000) ^ tag.wrapping_mul(GOLDEN))
	}

	/// Bucket and sign of element `index` of the tensor with state `key`.
	fn slot(&self, key: u64, index: usize) -> (usize, bool) {
		let h = mix(key ^ (index as u64).wrapping_mul(GOLDEN));
		let bucket = (((h >> 32) * self.dim as u64) >> 32) as usize;
		(bucket, h & 1 == 1)
	}

	/// Adds the sketch of `values` (the tensor of `key`) into `out`.
	fn add(&self, key: u64, values: &[f32], out: &mut [f64]) {
		for (i, v) in values.iter().enumerate() {
			let (bucket, negative) = self.slot(key, i);
			if let Some(slot) = out.get_mut(bucket) {
				match negative {
					true => *slot -= f64::from(*v),
					false => *slot += f64::from(*v),
				}
			}
		}
	}

	/// The sketch of `grads` (`grads[block][target.index()]`), `dim` values; blocks not
	/// included and missing tensors count as zero.
	pub fn sketch(&self, grads: &[[Option<LoraWeights>; 7]]) -> Vec<f32> {
		let mut out = vec![0f64; self.dim];
		for &block in &self.blocks {
			let Some(slots) = grads.get(block) else { continue };
			for (target, w) in slots.iter().enumerate() {
				let Some(w) = w else { continue };
				self.add(self.tensor_key(block, target, false), &w.a, &mut out);
				self.add(self.tensor_key(block, target, true), &w.b, &mut out);
			}
		}
		out.into_iter().map(|v| v as f32).collect()
	}
}

/// `v` scaled to unit L2 norm (zeros stay zeros), in `f64`.
fn unit(v: &[f32]) -> Vec<f64> {
	let norm = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
	match norm > 0.0 && norm.is_finite() {
		true => v.iter().map(|x| f64::from(*x) / norm).collect(),
		false => vec![0.0; v.len()],
	}
}

/// Builds an [`InfluenceIndex`] during training: as a [`TrainHooks`], it sketches each
/// example's gradient and accumulates it into its contribution's row.
#[derive(Debug, Clone)]
pub struct IndexBuilder {
	sketcher: Sketcher,
	/// Per contribution: the sum of its unit sketches and how many.
	rows: BTreeMap<ContributionId, (Vec<f64>, u64)>,
}

impl IndexBuilder {
	/// An empty index sketched with `sketcher`.
	pub fn new(sketcher: Sketcher) -> Self {
		Self { sketcher, rows: BTreeMap::new() }
	}

	/// The sketcher.
	pub fn sketcher(&self) -> &Sketcher {
		&self.sketcher
	}

	/// Adds one example's gradient to `contribution`.
	pub fn add(&mut self, contribution: ContributionId, grads: &[[Option<LoraWeights>; 7]]) {
		let sketch = self.sketcher.sketch(grads);
		self.add_sketch(contribution, &sketch);
	}

	/// Adds one example's sketch (`dim` values; others are ignored) to `contribution`.
	pub fn add_sketch(&mut self, contribution: ContributionId, sketch: &[f32]) {
		let dim = self.sketcher.dim;
		let (sum, count) = self.rows.entry(contribution).or_insert_with(|| (vec![0.0; dim], 0));
		for (acc, v) in sum.iter_mut().zip(unit(sketch)) {
			*acc += v;
		}
		*count += 1;
	}

	/// The index: one unit row per contribution, by ascending id.
	pub fn finish(self) -> InfluenceIndex {
		let n = self.rows.len();
		let mut contributions = Vec::with_capacity(n);
		let mut sketches = Vec::with_capacity(n * self.sketcher.dim);
		for (id, (sum, count)) in self.rows {
			contributions.push(id);
			let mean: Vec<f32> = sum.iter().map(|v| (v / count.max(1) as f64) as f32).collect();
			sketches.extend(unit(&mean).into_iter().map(|v| v as f32));
		}
		InfluenceIndex {
			dim: self.sketcher.dim,
			seed: self.sketcher.seed,
			blocks: self.sketcher.blocks,
			contributions,
			sketches,
		}
	}
}

impl TrainHooks for IndexBuilder {
	fn on_example(
		&mut self,
		_step: u32,
		example: &Example,
		_loss: f32,
		grads: &[[Option<LoraWeights>; 7]],
	) {
		self.add(example.contribution, grads);
	}
}

/// Two hooks in one: every call goes to the first, then to the second (an [`IndexBuilder`]
/// beside a progress reporter).
pub struct BothHooks<'a>(pub &'a mut dyn TrainHooks, pub &'a mut dyn TrainHooks);

impl TrainHooks for BothHooks<'_> {
	fn on_example(
		&mut self,
		step: u32,
		example: &Example,
		loss: f32,
		grads: &[[Option<LoraWeights>; 7]],
	) {
		self.0.on_example(step, example, loss, grads);
		self.1.on_example(step, example, loss, grads);
	}
	fn on_step(&mut self, log: &StepLog) {
		self.0.on_step(log);
		self.1.on_step(log);
	}
	fn on_eval(&mut self, after: bool, done: usize, total: usize) {
		self.0.on_eval(after, done, total);
		self.1.on_eval(after, done, total);
	}
}

/// Contributions' gradient sketches, unit rows, for scoring answers.
#[derive(Debug, Clone, PartialEq)]
pub struct InfluenceIndex {
	/// Sketch length.
	pub dim: usize,
	/// The sketch's seed.
	pub seed: u64,
	/// The blocks sketched, ascending.
	pub blocks: Vec<usize>,
	/// Row `i` is contribution `contributions[i]`; ascending, unique.
	pub contributions: Vec<ContributionId>,
	/// `contributions.len() × dim`, row-major, each row of unit norm (or zero).
	pub sketches: Vec<f32>,
}

/// Why index bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexBytesError {
	/// Not an influence index.
	#[error("not an influence index (bad magic)")]
	BadMagic,
	/// A format version this build does not read.
	#[error("influence index version {0} is not supported")]
	UnsupportedVersion(u32),
	/// The bytes end early.
	#[error("the influence index is truncated")]
	Truncated,
	/// Bytes after the end.
	#[error("{0} bytes after the influence index")]
	TrailingBytes(usize),
	/// The checksum does not match the contents.
	#[error("the influence index's checksum does not match")]
	Checksum,
	/// A value out of range.
	#[error("invalid influence index: {0}")]
	Invalid(&'static str),
}

/// `b"OLINFLUX"`.
const MAGIC: [u8; 8] = *b"OLINFLUX";
const VERSION: u32 = 1;

/// A cursor over bytes that refuses to read past the end.
struct Reader<'a> {
	bytes: &'a [u8],
}

impl<'a> Reader<'a> {
	fn take(&mut self, n: usize) -> Result<&'a [u8], IndexBytesError> {
		if n > self.bytes.len() {
			return Err(IndexBytesError::Truncated);
		}
		let (head, rest) = self.bytes.split_at(n);
		self.bytes = rest;
		Ok(head)
	}
	fn array<const N: usize>(&mut self) -> Result<[u8; N], IndexBytesError> {
		let mut out = [0u8; N];
		out.copy_from_slice(self.take(N)?);
		Ok(out)
	}
	fn u32(&mut self) -> Result<u32, IndexBytesError> {
		self.array().map(u32::from_le_bytes)
	}
	fn u64(&mut self) -> Result<u64, IndexBytesError> {
		self.array().map(u64::from_le_bytes)
	}
	fn len(&mut self, max: u64) -> Result<usize, IndexBytesError> {
		let v = self.u64()?;
		if v > max {
			return Err(IndexBytesError::Truncated);
		}
		usize::try_from(v).map_err(|_| IndexBytesError::Truncated)
	}
}

impl InfluenceIndex {
	/// Rows.
	pub fn len(&self) -> usize {
		self.contributions.len()
	}

	/// Whether there are no rows.
	pub fn is_empty(&self) -> bool {
		self.contributions.is_empty()
	}

	/// The sketcher answers must be sketched with.
	pub fn sketcher(&self) -> Sketcher {
		Sketcher::new(self.dim, self.seed, self.blocks.clone())
	}

	/// Contribution `i`'s row.
	pub fn row(&self, i: usize) -> Option<&[f32]> {
		self.sketches.get(i * self.dim..(i + 1) * self.dim)
	}

	/// [`InfluenceIndex::score_batch`] of one answer.
	pub fn score(&self, answer: &[f32]) -> Vec<(ContributionId, f64)> {
		self.score_batch(std::slice::from_ref(&answer.to_vec())).pop().unwrap_or_default()
	}

	/// For each answer sketch, the cosine similarity with every contribution's row,
	/// `(contribution, score in [-1, 1])` in index order (ascending id). An answer sketch of
	/// the wrong length or of zero norm scores 0 everywhere. One `m × dim × n` GEMM, split
	/// by rows of the index over rayon's threads.
	pub fn score_batch(&self, answers: &[Vec<f32>]) -> Vec<Vec<(ContributionId, f64)>> {
		let (m, n, dim) = (answers.len(), self.len(), self.dim);
		let mut a = vec![0f32; m * dim];
		for (row, answer) in a.chunks_exact_mut(dim.max(1)).zip(answers) {
			if answer.len() == dim {
				for (dst, v) in row.iter_mut().zip(unit(answer)) {
					*dst = v as f32;
				}
			}
		}
		// The index's rows in one part per thread, each part one `m × dim × part` GEMM into its
		// own `m × part` block (the index is read once, from every core).
		let parts = match m > 0 && n > 0 && dim > 0 && self.sketches.len() == n * dim {
			true => rayon::current_num_threads().clamp(1, n),
			false => 0,
		};
		let per = n.div_ceil(parts.max(1));
		let blocks: Vec<Vec<f32>> = (0..parts)
			.into_par_iter()
			.map(|part| {
				let first = part * per;
				let rows = per.min(n - first.min(n));
				let mut c = vec![0f32; m * rows];
				let index = self.sketches.get(first * dim..(first + rows) * dim).unwrap_or(&[]);
				if rows > 0 && index.len() == rows * dim {
					// SAFETY: `a` is `m × dim` (row stride `dim`), the part of the index
					// `rows × dim` read as its transpose `dim × rows` (row stride 1, column
					// stride `dim`), `c` is `m × rows` (row stride `rows`); all three buffers
					// have exactly those lengths.
					unsafe {
						matrixmultiply::sgemm(
							m,
							dim,
							rows,
							1.0,
							a.as_ptr(),
							dim as isize,
							1,
							index.as_ptr(),
							1,
							dim as isize,
							0.0,
							c.as_mut_ptr(),
							rows as isize,
							1,
						);
					}
				}
				c
			})
			.collect();
		// Answer `i`'s scores are row `i` of each part's block, in part order (0 everywhere
		// when nothing was computed).
		(0..m)
			.map(|i| {
				let row = blocks.iter().flat_map(|block| {
					let rows = block.len() / m;
					block.get(i * rows..(i + 1) * rows).unwrap_or(&[])
				});
				let row = row.chain(std::iter::repeat(&0.0));
				self.contributions.iter().zip(row).map(|(id, s)| (*id, f64::from(*s))).collect()
			})
			.collect()
	}

	/// The index as bytes: `OLINFLUX`, version (u32), dim (u32), seed (u64), blocks (u64 count,
	/// u32 each), rows (u64 count, u64 ids, then `f32` values row-major), then the first 16
	/// bytes of the blake2-256 of everything before. Little-endian throughout.
	pub fn to_bytes(&self) -> Vec<u8> {
		let mut out = Vec::with_capacity(64 + self.blocks.len() * 4 + self.sketches.len() * 4);
		out.extend_from_slice(&MAGIC);
		out.extend_from_slice(&VERSION.to_le_bytes());
		out.extend_from_slice(&(self.dim as u32).to_le_bytes());
		out.extend_from_slice(&self.seed.to_le_bytes());
		out.extend_from_slice(&(self.blocks.len() as u64).to_le_bytes());
		for b in &self.blocks {
			out.extend_from_slice(&(*b as u32).to_le_bytes());
		}
		out.extend_from_slice(&(self.contributions.len() as u64).to_le_bytes());
		for id in &self.contributions {
			out.extend_from_slice(&id.to_le_bytes());
		}
		for v in &self.sketches {
			out.extend_from_slice(&v.to_le_bytes());
		}
		let digest = sp_crypto_hashing::blake2_256(&out);
		out.extend_from_slice(digest.get(..16).unwrap_or(&[]));
		out
	}

	/// Reads [`InfluenceIndex::to_bytes`] back, checking every length, the checksum, that ids
	/// ascend, that blocks ascend and that values are finite.
	pub fn from_bytes(bytes: &[u8]) -> Result<Self, IndexBytesError> {
		if bytes.len() < MAGIC.len() || bytes.get(..MAGIC.len()) != Some(&MAGIC[..]) {
			return Err(IndexBytesError::BadMagic);
		}
		let mut r = Reader { bytes };
		r.take(MAGIC.len())?;
		let version = r.u32()?;
		if version != VERSION {
			return Err(IndexBytesError::UnsupportedVersion(version));
		}
		let body_len = bytes.len().checked_sub(16).ok_or(IndexBytesError::Truncated)?;
		let dim = r.u32()? as usize;
		if dim == 0 || dim > MAX_DIM {
			return Err(IndexBytesError::Invalid("sketch length"));
		}
		let seed = r.u64()?;
		let left = r.bytes.len() as u64;
		let blocks_n = r.len(left / 4)?;
		let mut blocks = Vec::with_capacity(blocks_n);
		for _ in 0..blocks_n {
			blocks.push(r.u32()? as usize);
		}
		if blocks.is_empty() || blocks.windows(2).any(|w| w.first() >= w.get(1)) {
			return Err(IndexBytesError::Invalid("blocks"));
		}
		let per_row = 8 + 4 * dim as u64;
		let left = r.bytes.len() as u64;
		let n = r.len(left / per_row)?;
		let mut contributions = Vec::with_capacity(n);
		for _ in 0..n {
			contributions.push(r.u64()?);
		}
		if contributions.windows(2).any(|w| w.first() >= w.get(1)) {
			return Err(IndexBytesError::Invalid("contribution ids must ascend"));
		}
		let values = r.take(n * dim * 4)?;
		let sketches: Vec<f32> = values
			.chunks_exact(4)
			.map(|c| f32::from_le_bytes(c.try_into().unwrap_or([0; 4])))
			.collect();
		let checksum = r.take(16)?;
		if !r.bytes.is_empty() {
			return Err(IndexBytesError::TrailingBytes(r.bytes.len()));
		}
		let digest = sp_crypto_hashing::blake2_256(bytes.get(..body_len).unwrap_or(&[]));
		if digest.get(..16) != Some(checksum) {
			return Err(IndexBytesError::Checksum);
		}
		if sketches.iter().any(|v| !v.is_finite()) {
			return Err(IndexBytesError::Invalid("non-finite value"));
		}
		Ok(Self { dim, seed, blocks, contributions, sketches })
	}
}

/// Why an answer's gradient could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum InfluenceError {
	/// The capture has no answer tokens.
	#[error("the answer has no tokens")]
	EmptyAnswer,
	/// The capture, the adapter, the tail or the sketcher do not fit together.
	#[error("{0}")]
	Mismatch(String),
	/// burn failed.
	#[error(transparent)]
	Train(#[from] TrainError),
}

/// The adapter's LoRA tensors, those of blocks `first..` requiring gradients (the others
/// constants).
fn tracked_lora<B: AutodiffBackend>(
	adapter: &Adapter,
	first: usize,
	device: &B::Device,
) -> LoraTensors<B> {
	let rank = usize::from(adapter.config.rank);
	let blocks = adapter
		.blocks
		.iter()
		.enumerate()
		.map(|(n, slots)| {
			slots.each_ref().map(|w| {
				w.as_ref().map(|w| {
					let a = tensor2::<B>(w.a.clone(), w.input, rank, device);
					let b = tensor2::<B>(w.b.clone(), rank, w.output, device);
					match n >= first {
						true => LoraPair { a: a.require_grad(), b: b.require_grad() },
						false => LoraPair { a, b },
					}
				})
			})
		})
		.collect();
	LoraTensors { blocks, scale: adapter.config.scale() }
}

/// The gradients of `lora`'s pairs of blocks `first..`, in the trainer's layout (other blocks
/// `None`).
fn lora_grads<B: AutodiffBackend>(
	adapter: &Adapter,
	lora: &LoraTensors<B>,
	first: usize,
	grads: &B::Gradients,
) -> Result<Grads, TrainError> {
	let mut out: Grads = Vec::with_capacity(adapter.blocks.len());
	for (n, (slots, pairs)) in adapter.blocks.iter().zip(&lora.blocks).enumerate() {
		let mut row: [Option<LoraWeights>; 7] = Default::default();
		if n < first {
			out.push(row);
			continue;
		}
		for ((dst, w), pair) in row.iter_mut().zip(slots).zip(pairs) {
			if let (Some(w), Some(pair)) = (w, pair) {
				let a = pair.a.grad(grads).map(host).transpose()?;
				let b = pair.b.grad(grads).map(host).transpose()?;
				*dst = Some(LoraWeights {
					input: w.input,
					output: w.output,
					a: a.unwrap_or_else(|| vec![0.0; w.a.len()]),
					b: b.unwrap_or_else(|| vec![0.0; w.b.len()]),
				});
			}
		}
		out.push(row);
	}
	Ok(out)
}

/// Sequences rerun together hold at most this many (padded) positions, unless one alone is
/// longer: it bounds what a batch's attention scores and autodiff graph take.
const MAX_BATCH_POSITIONS: usize = 2048;

/// One answer checked and ready to rerun.
struct Prepared<'a> {
	adapter: &'a Adapter,
	/// The residual stream entering the tail at positions `0..t`, `t × dim`.
	hidden: &'a [f32],
	/// `δ_t / n` at the answer positions, zero elsewhere, `t × dim`.
	delta: Vec<f32>,
	/// Positions up to the last answer position.
	t: usize,
	/// The first answer position (the deltas before it are zero).
	from: usize,
}

/// Checks that `capture` and `adapter` fit `tail` (and each other), and lays out the answer's
/// positions and deltas.
fn prepare<'a, B: AutodiffBackend>(
	tail: &TailModel<B>,
	adapter: &'a Adapter,
	capture: &'a Capture,
) -> Result<Prepared<'a>, InfluenceError> {
	let c = tail.config();
	let dim = c.embedding_length;
	let bad = |what: String| Err(InfluenceError::Mismatch(what));
	if capture.layer != tail.first_block() {
		return bad(format!(
			"the capture is at block {}, the tail starts at {}",
			capture.layer,
			tail.first_block()
		));
	}
	if capture.dim != dim || adapter.blocks.len() != c.block_count {
		return bad("the capture or the adapter is not for this model".into());
	}
	let rank = usize::from(adapter.config.rank);
	for (n, slots) in adapter.blocks.iter().enumerate().skip(tail.first_block()) {
		for (target, w) in Target::ALL.iter().zip(slots) {
			let Some(w) = w else { continue };
			let (input, output) = shape(c, *target);
			if rank == 0
				|| (w.input, w.output) != (input, output)
				|| w.a.len() != input * rank
				|| w.b.len() != rank * output
			{
				return bad(format!("the adapter's block {n} {target:?} is not of rank {rank}"));
			}
		}
	}
	let n = capture.answer.len();
	let (Some(first), Some(last)) =
		(capture.answer.iter().map(|s| s.pos).min(), capture.answer.iter().map(|s| s.pos).max())
	else {
		return Err(InfluenceError::EmptyAnswer);
	};
	let t = last + 1;
	let Some(hidden) = capture.hidden.get(..t * dim) else {
		return bad(format!(
			"the capture has {} positions, the answer needs {t}",
			capture.tokens.len()
		));
	};
	let mut delta = vec![0f32; t * dim];
	for step in &capture.answer {
		let row = delta.get_mut(step.pos * dim..(step.pos + 1) * dim);
		match (row, step.delta.len() == dim) {
			(Some(row), true) => {
				for (d, v) in row.iter_mut().zip(&step.delta) {
					*d += v / n as f32;
				}
			}
			_ => return bad(format!("answer step at position {}", step.pos)),
		}
	}
	Ok(Prepared { adapter, hidden, delta, t, from: first })
}

/// What answers must share to rerun together: the rank and, per tail block, which targets
/// the adapter has.
type Layout = (u16, Vec<[bool; 7]>);

/// The [`Layout`] of `adapter`'s blocks `first..`.
fn layout(adapter: &Adapter, first: usize) -> Layout {
	let targets = adapter.blocks.iter().skip(first).map(|s| s.each_ref().map(Option::is_some));
	(adapter.config.rank, targets.collect())
}

/// Reruns the tail once over `answers` (all of one [`layout`]) as a batch, right-padded to the
/// longest, each under its own adapter's LoRA tensors as its own gradient leaves, and
/// backpropagates the sum of their surrogates: each answer's gradient is its own slice.
/// Padding positions have zero delta, and causal attention keeps them out of the real
/// positions, so every gradient is that of the answer alone.
fn rerun<B: AutodiffBackend>(
	tail: &TailModel<B>,
	answers: &[&Prepared<'_>],
	rows: RerunRows,
) -> Result<Vec<Grads>, TrainError> {
	let c = tail.config();
	let (dim, first, device) = (c.embedding_length, tail.first_block(), tail.device());
	let s = answers.len();
	let t = answers.iter().map(|p| p.t).max().unwrap_or(0);
	// Only positions from the earliest answer position on carry a delta: the tail's last block
	// computes its outputs there alone.
	let from = match rows {
		RerunRows::FromAnswer => answers.iter().map(|p| p.from).min().unwrap_or(0),
		RerunRows::All => 0,
	};
	let tq = t - from;
	let (mut x, mut delta) = (vec![0f32; s * t * dim], vec![0f32; s * tq * dim]);
	for ((p, xs), ds) in answers.iter().zip(x.chunks_mut(t * dim)).zip(delta.chunks_mut(tq * dim)) {
		let len = p.t * dim;
		let rows = p.delta.get(from * dim..).unwrap_or(&[]);
		if let (Some(xs), Some(ds)) = (xs.get_mut(..len), ds.get_mut(..rows.len())) {
			xs.copy_from_slice(p.hidden);
			ds.copy_from_slice(rows);
		}
	}
	let Some(lead) = answers.first() else { return Ok(Vec::new()) };
	let rank = usize::from(lead.adapter.config.rank);
	let mut lora = BatchLoraTensors::<B> {
		blocks: (0..c.block_count).map(|_| Default::default()).collect(),
		scale: Tensor::from_data(
			TensorData::new(answers.iter().map(|p| p.adapter.config.scale()).collect(), [s, 1, 1]),
			device,
		),
	};
	for (n, pairs) in lora.blocks.iter_mut().enumerate().skip(first) {
		for (i, (pair, target)) in pairs.iter_mut().zip(Target::ALL).enumerate() {
			let weights =
				|| answers.iter().filter_map(|p| p.adapter.blocks.get(n)?.get(i)?.as_ref());
			if weights().count() != s {
				continue;
			}
			let (input, output) = shape(c, target);
			let a: Vec<f32> = weights().flat_map(|w| w.a.iter().copied()).collect();
			let b: Vec<f32> = weights().flat_map(|w| w.b.iter().copied()).collect();
			*pair = Some(BatchLoraPair {
				a: Tensor::from_data(TensorData::new(a, [s, input, rank]), device).require_grad(),
				b: Tensor::from_data(TensorData::new(b, [s, rank, output]), device).require_grad(),
			});
		}
	}
	let x = Tensor::<B, 3>::from_data(TensorData::new(x, [s, t, dim]), device);
	let h = tail.hidden_batch_from(x, Some(&lora), from)?;
	let delta = Tensor::<B, 3>::from_data(TensorData::new(delta, [s, tq, dim]), device);
	let mut grads = (h * delta).sum().backward();
	let mut out: Vec<Grads> = (0..s).map(|_| vec![Default::default(); c.block_count]).collect();
	for (n, pairs) in lora.blocks.iter().enumerate().skip(first) {
		for (i, (pair, target)) in pairs.iter().zip(Target::ALL).enumerate() {
			let Some(pair) = pair else { continue };
			let (input, output) = shape(c, target);
			// Removed, not cloned: the host copy then takes the buffer as it is.
			let a = pair.a.grad_remove(&mut grads).map(host).transpose()?;
			let b = pair.b.grad_remove(&mut grads).map(host).transpose()?;
			let a = a.unwrap_or_else(|| vec![0.0; s * input * rank]);
			let b = b.unwrap_or_else(|| vec![0.0; s * rank * output]);
			let per = a.chunks_exact(input * rank).zip(b.chunks_exact(rank * output));
			for (grads, (a, b)) in out.iter_mut().zip(per) {
				if let Some(slot) = grads.get_mut(n).and_then(|row| row.get_mut(i)) {
					*slot = Some(LoraWeights { input, output, a: a.to_vec(), b: b.to_vec() });
				}
			}
		}
	}
	Ok(out)
}

/// Which positions the tail's last block computes outputs for in a rerun.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RerunRows {
	/// From the batch's earliest answer position on (what the gradient reads; the default).
	FromAnswer,
	/// Every position, prompt included: the same gradient at a higher cost, kept as the
	/// benchmark's baseline.
	All,
}

/// [`answer_gradient`] of many answers, each under its own adapter, computed together: the
/// answers whose adapters share a rank and targets rerun the tail as one batch (at most
/// [`MAX_BATCH_POSITIONS`] padded positions at a time) with one backward pass, which gives
/// every answer its own exact gradient. One result per answer, in order; an answer that does
/// not fit (see [`answer_gradient`]) fails alone.
pub fn answer_gradients<B: AutodiffBackend>(
	tail: &TailModel<B>,
	answers: &[(&Adapter, &Capture)],
) -> Vec<Result<Grads, InfluenceError>> {
	answer_gradients_with(tail, answers, RerunRows::FromAnswer)
}

/// [`answer_gradients`] with the rerun's rows chosen.
pub fn answer_gradients_with<B: AutodiffBackend>(
	tail: &TailModel<B>,
	answers: &[(&Adapter, &Capture)],
	rows: RerunRows,
) -> Vec<Result<Grads, InfluenceError>> {
	let first = tail.first_block();
	let mut out: Vec<Option<Result<Grads, InfluenceError>>> =
		answers.iter().map(|_| None).collect();
	let mut groups: Vec<(Layout, Vec<(usize, Prepared<'_>)>)> = Vec::new();
	for (i, (adapter, capture)) in answers.iter().enumerate() {
		match prepare(tail, adapter, capture) {
			Ok(p) => {
				let key = layout(adapter, first);
				match groups.iter_mut().find(|(k, _)| *k == key) {
					Some((_, members)) => members.push((i, p)),
					None => groups.push((key, vec![(i, p)])),
				}
			}
			Err(e) => {
				if let Some(slot) = out.get_mut(i) {
					*slot = Some(Err(e));
				}
			}
		}
	}
	for (_, mut members) in groups {
		// Shortest first, so that each batch pads little.
		members.sort_by_key(|(_, p)| p.t);
		let mut rest = members.as_slice();
		while !rest.is_empty() {
			let mut take = 1;
			while rest.get(take).is_some_and(|(_, p)| (take + 1) * p.t <= MAX_BATCH_POSITIONS) {
				take += 1;
			}
			let (batch, after) = rest.split_at(take);
			rest = after;
			let prepared: Vec<&Prepared<'_>> = batch.iter().map(|(_, p)| p).collect();
			match rerun(tail, &prepared, rows) {
				Ok(grads) => {
					for ((i, _), g) in batch.iter().zip(grads) {
						if let Some(slot) = out.get_mut(*i) {
							*slot = Some(Ok(g));
						}
					}
				}
				Err(e) => {
					for (i, _) in batch {
						if let Some(slot) = out.get_mut(*i) {
							*slot = Some(Err(TrainError::Backend(e.to_string()).into()));
						}
					}
				}
			}
		}
	}
	out.into_iter()
		.map(|r| r.unwrap_or_else(|| Err(InfluenceError::Mismatch("not computed".into()))))
		.collect()
}

/// The gradient of the mean negative log-likelihood of `capture`'s answer tokens with respect
/// to `adapter`'s LoRA parameters of blocks `tail.first_block()..` (other blocks are `None`),
/// from the capture alone: the tail blocks rerun over the captured residual stream, and
/// `Σ ⟨h_t, δ_t⟩ / n` backpropagated (see the module docs). `capture.layer` must be
/// `tail.first_block()`. [`answer_gradients`] computes many at once.
pub fn answer_gradient<B: AutodiffBackend>(
	tail: &TailModel<B>,
	adapter: &Adapter,
	capture: &Capture,
) -> Result<Grads, InfluenceError> {
	answer_gradients(tail, &[(adapter, capture)])
		.pop()
		.unwrap_or_else(|| Err(InfluenceError::Mismatch("not computed".into())))
}

/// [`answer_gradients`], each sketched with its own sketcher (whose blocks must be among the
/// tail's). One result per answer, in order.
pub fn answer_sketches<B: AutodiffBackend>(
	tail: &TailModel<B>,
	answers: &[(&Adapter, &Capture, &Sketcher)],
) -> Vec<Result<Vec<f32>, InfluenceError>> {
	answer_sketches_with(tail, answers, RerunRows::FromAnswer)
}

/// [`answer_sketches`] with the rerun's rows chosen.
pub fn answer_sketches_with<B: AutodiffBackend>(
	tail: &TailModel<B>,
	answers: &[(&Adapter, &Capture, &Sketcher)],
	rows: RerunRows,
) -> Vec<Result<Vec<f32>, InfluenceError>> {
	let fits = |sketcher: &Sketcher| match sketcher.first_block() {
		Some(b) if b >= tail.first_block() => Ok(()),
		_ => Err(InfluenceError::Mismatch(format!(
			"the sketch covers blocks {:?}, the tail starts at {}",
			sketcher.blocks,
			tail.first_block()
		))),
	};
	let mut out: Vec<Result<Vec<f32>, InfluenceError>> = Vec::with_capacity(answers.len());
	let mut wanted = Vec::new();
	for (adapter, capture, sketcher) in answers {
		match fits(sketcher) {
			Ok(()) => {
				wanted.push((*adapter, *capture));
				out.push(Ok(Vec::new()));
			}
			Err(e) => out.push(Err(e)),
		}
	}
	let mut grads = answer_gradients_with(tail, &wanted, rows).into_iter();
	for (slot, (_, _, sketcher)) in out.iter_mut().zip(answers) {
		if slot.is_ok() {
			*slot = match grads.next() {
				Some(g) => g.map(|g| sketcher.sketch(&g)),
				None => Err(InfluenceError::Mismatch("not computed".into())),
			};
		}
	}
	out
}

/// [`answer_gradient`], sketched with `sketcher` (whose blocks must be among the tail's).
pub fn answer_sketch<B: AutodiffBackend>(
	tail: &TailModel<B>,
	adapter: &Adapter,
	capture: &Capture,
	sketcher: &Sketcher,
) -> Result<Vec<f32>, InfluenceError> {
	answer_sketches(tail, &[(adapter, capture, sketcher)])
		.pop()
		.unwrap_or_else(|| Err(InfluenceError::Mismatch("not computed".into())))
}

/// The same gradient as [`answer_gradient`] through the whole Model (no capture): the mean
/// negative log-likelihood of `tokens[prompt_len..]` given the tokens before each, with
/// respect to the LoRA parameters of blocks `first_block..`. The reference the serve-time path
/// is tested against, and how to attribute a known text (a held-out example) offline.
pub fn full_gradient<B: AutodiffBackend>(
	base: &BaseModel<B>,
	adapter: &Adapter,
	tokens: &[u32],
	prompt_len: usize,
	first_block: usize,
) -> Result<Grads, InfluenceError> {
	if prompt_len == 0 || prompt_len >= tokens.len() {
		return Err(InfluenceError::EmptyAnswer);
	}
	let device = base.device();
	let lora = tracked_lora::<B>(adapter, first_block, device);
	let inputs = tokens.get(..tokens.len() - 1).unwrap_or(&[]);
	let targets = tokens.get(prompt_len..).unwrap_or(&[]);
	let logits = base.forward(inputs, Some(&lora), None)?;
	let n = targets.len();
	let logits = logits.narrow(0, prompt_len - 1, n);
	let ids: Vec<i64> = targets.iter().map(|t| i64::from(*t)).collect();
	let ids = Tensor::<B, 2, Int>::from_data(TensorData::new(ids, [n, 1]), device);
	let loss = activation::log_softmax(logits, 1).gather(1, ids).mean().neg();
	let grads = loss.backward();
	Ok(lora_grads(adapter, &lora, first_block, &grads)?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
	use super::*;
	use crate::{
		model::{reference::Weights, testing::tiny_llama, LlamaConfig},
		openlora::{
			AdapterId, AdapterSource, AnswerStep, CaptureSpec, Engine, EngineOptions, Event,
			Request, ServeError,
		},
		train::{
			data::{Dataset, Document},
			lora::{LoraConfig, Target},
			optim::AdamWConfig,
			rng::SplitMix64,
			trainer::{train, TrainConfig},
			CpuTrain,
		},
	};
	use std::{sync::Arc, time::Duration};

	type B = CpuTrain;

	const VOCAB: usize = 97;

	fn tiny(seed: u64) -> (LlamaConfig, Weights) {
		let mut rng = SplitMix64::new(seed);
		tiny_llama(VOCAB, move || rng.uniform(-0.3, 0.3))
	}

	fn device() -> burn::tensor::Device<B> {
		Default::default()
	}

	/// An adapter on every target with non-zero `b`.
	fn busy(config: &LlamaConfig, seed: u64) -> Adapter {
		let lora = LoraConfig { rank: 4, alpha: 8, dropout: 0.0, targets: Target::ALL.to_vec() };
		let mut adapter = Adapter::init(lora, config, seed).unwrap();
		let mut rng = SplitMix64::new(seed ^ 0xb);
		for w in adapter.blocks.iter_mut().flatten().flatten() {
			w.b.iter_mut().for_each(|v| *v = rng.uniform(-0.3, 0.3));
		}
		adapter
	}

	/// Two blocks of seven `in × 8` / `8 × out` tensors of uniform values.
	fn random_grads(rng: &mut SplitMix64) -> Grads {
		(0..2)
			.map(|_| {
				std::array::from_fn(|t| {
					let (input, output) = (96 + 8 * t, 64 + 16 * t);
					Some(LoraWeights {
						input,
						output,
						a: (0..input * 8).map(|_| rng.uniform(-1.0, 1.0)).collect(),
						b: (0..8 * output).map(|_| rng.uniform(-1.0, 1.0)).collect(),
					})
				})
			})
			.collect()
	}

	fn flat(g: &Grads, block: usize) -> Vec<f64> {
		g[block]
			.iter()
			.flatten()
			.flat_map(|w| w.a.iter().chain(&w.b))
			.map(|v| f64::from(*v))
			.collect()
	}

	fn dot(a: &[f64], b: &[f64]) -> f64 {
		a.iter().zip(b).map(|(x, y)| x * y).sum()
	}

	#[test]
	fn the_count_sketch_preserves_inner_products_and_is_deterministic() {
		let mut rng = SplitMix64::new(1);
		let x = random_grads(&mut rng);
		let z = random_grads(&mut rng);
		// y = 0.6 x + 0.8 z: cosine about 0.6 with x.
		let mut y = x.clone();
		for (yw, zw) in y.iter_mut().flatten().flatten().zip(z.iter().flatten().flatten()) {
			for (a, b) in yw.a.iter_mut().zip(&zw.a).chain(yw.b.iter_mut().zip(&zw.b)) {
				*a = 0.6 * *a + 0.8 * b;
			}
		}
		let (fx, fy) = (flat(&x, 1), flat(&y, 1));
		let norms = dot(&fx, &fx).sqrt() * dot(&fy, &fy).sqrt();
		let truth = dot(&fx, &fy) / norms;
		assert!((truth - 0.6).abs() < 0.05, "{truth}");
		let dim = 512;
		let (mut sum, mut sum_sq) = (0.0, 0.0);
		let seeds = 100;
		for seed in 0..seeds {
			let s = Sketcher::new(dim, seed, vec![1]);
			let (sx, sy) = (s.sketch(&x), s.sketch(&y));
			let sx: Vec<f64> = sx.iter().map(|v| f64::from(*v)).collect();
			let sy: Vec<f64> = sy.iter().map(|v| f64::from(*v)).collect();
			let err = dot(&sx, &sy) / norms - truth;
			sum += err;
			sum_sq += err * err;
		}
		// Var[⟨Sx, Sy⟩] = (‖x‖²‖y‖² + ⟨x, y⟩² − 2 Σ x_i² y_i²) / dim ≤ (1 + 0.36) / 512 here.
		let sigma = ((1.0 + truth * truth) / dim as f64).sqrt();
		let (mean, rms) = (sum / seeds as f64, (sum_sq / seeds as f64).sqrt());
		assert!(mean.abs() < 4.0 * sigma / (seeds as f64).sqrt(), "bias {mean}, sigma {sigma}");
		assert!(rms < 1.3 * sigma, "rms error {rms}, sigma {sigma}");

		// Deterministic, seed-dependent, and blind to blocks it does not include.
		let s = Sketcher::last_blocks(dim, 7, 2, 1);
		assert_eq!(s.blocks, vec![1]);
		assert_eq!(s.sketch(&x), s.sketch(&x));
		assert_ne!(s.sketch(&x), Sketcher::last_blocks(dim, 8, 2, 1).sketch(&x));
		let mut other = x.clone();
		other[0] = z[0].clone();
		assert_eq!(s.sketch(&x), s.sketch(&other));
		assert_ne!(Sketcher::last_blocks(dim, 7, 2, 2).sketch(&x), s.sketch(&x));
		// Linear: the sketch of x + y is the sum of the sketches.
		let mut sum_xy = x.clone();
		for (a, b) in sum_xy.iter_mut().flatten().flatten().zip(y.iter().flatten().flatten()) {
			a.a.iter_mut().zip(&b.a).for_each(|(p, q)| *p += q);
			a.b.iter_mut().zip(&b.b).for_each(|(p, q)| *p += q);
		}
		let (sx, sy, sxy) = (s.sketch(&x), s.sketch(&y), s.sketch(&sum_xy));
		for i in 0..dim {
			assert!((sx[i] + sy[i] - sxy[i]).abs() < 1e-3);
		}
	}

	/// One adapter, served from memory.
	struct OneAdapter(AdapterId, Adapter);

	impl AdapterSource for OneAdapter {
		fn load(&self, id: AdapterId, _: &LlamaConfig) -> Result<Adapter, ServeError> {
			match id == self.0 {
				true => Ok(self.1.clone()),
				false => Err(ServeError::UnknownAdapter(id)),
			}
		}
	}

	fn engine(config: &LlamaConfig, weights: &Weights, id: AdapterId, adapter: &Adapter) -> Engine {
		let options = EngineOptions {
			max_batch: 4,
			max_prefill_tokens: 4,
			slab_slots: 2,
			max_rank: 8,
			host_cache_bytes: 1 << 20,
			adapters_dir: std::env::temp_dir().join("influence-unused"),
			store: None,
			threads: 2,
		};
		let source = Arc::new(OneAdapter(id, adapter.clone()));
		Engine::with_source(config.clone(), weights, options, source, None).unwrap()
	}

	fn rel_err(a: &[f32], b: &[f32]) -> f64 {
		assert_eq!(a.len(), b.len());
		let diff: f64 = a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum();
		let norm: f64 = b.iter().map(|y| f64::from(*y).powi(2)).sum();
		assert!(norm > 1e-12, "a zero gradient tests nothing");
		(diff / norm).sqrt()
	}

	fn drain(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Event>) -> Vec<u32> {
		let mut tokens = Vec::new();
		loop {
			match rx.try_recv().unwrap() {
				Event::Token { id } => tokens.push(id),
				Event::Done { .. } => return tokens,
				Event::Error(e) => panic!("{e}"),
			}
		}
	}

	/// The serving path end to end: the service asks for a capture, the engine records it, the
	/// batching thread turns it into the answer's sketch under the adapter read from the
	/// adapters directory, and the answer is attributed to the contribution whose training text
	/// it is, which verbatim spans (none match here) could not find.
	#[tokio::test]
	async fn serving_attributes_by_the_captured_gradient() {
		use crate::attribution::{
			index::{AnswerTrace, AttributionIndex},
			service::{AttributionService, Captured, IndexSource, InfluenceSetup},
			spans::SpanIndex,
		};
		let (config, weights) = tiny(21);
		let adapter = busy(&config, 5);
		let id = AdapterId::repeat_byte(9);
		let dir = tempfile::tempdir().unwrap();
		let adapters = dir.path().join("adapters");
		adapter
			.save_peft(&crate::openlora::DiskSource::adapter_dir(&adapters, id), &config, "tiny")
			.unwrap();
		let setup = InfluenceSetup::new(&config, &weights, 1, &adapters).unwrap();
		let spec = setup.capture_spec();
		assert_eq!(spec.layer, config.block_count - 1);

		// The answer the engine gives, captured.
		let prompt = vec![5, 17, 33, 2, 80, 41];
		let mut eng = engine(&config, &weights, id, &adapter);
		let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
		let (reply, capture) = tokio::sync::oneshot::channel();
		let request = Request {
			adapter: Some(id),
			prompt: prompt.clone(),
			max_tokens: 8,
			..Request::default()
		};
		eng.add_request_with_capture(request, tx, Some((spec, reply))).unwrap();
		eng.run_until_idle(Duration::from_secs(10)).unwrap();
		let answer = drain(&mut rx);
		let capture = capture.await.unwrap();

		// Six contributions of random text; contribution 3 is the prompt and that answer.
		let base = BaseModel::<B>::new(config.clone(), &weights, &device()).unwrap();
		let sketcher = Sketcher::last_blocks(DEFAULT_DIM, 1, config.block_count, 1);
		let mut builder = IndexBuilder::new(sketcher);
		let mut rng = SplitMix64::new(77);
		for c in 0..6u64 {
			let text: Vec<u32> = match c {
				3 => prompt.iter().chain(&answer).copied().collect(),
				_ => (0..14).map(|_| 1 + (rng.next_u64() % (VOCAB as u64 - 1)) as u32).collect(),
			};
			let grads = full_gradient(&base, &adapter, &text, prompt.len(), config.block_count - 1)
				.unwrap();
			builder.add(c, &grads);
		}
		// Spans over tokens the model never says: they attribute nothing.
		let spans = SpanIndex::build(&[(0, vec![VOCAB as u32 + 5; 8])]);
		let index = AttributionIndex { spans, influence: Some(builder.finish()) };
		let hash = index.hash();
		let source = IndexSource::new(dir.path().join("indexes"), None);
		source.save(&hash, &index.to_bytes()).unwrap();
		let service = AttributionService::start(source, Default::default(), Some(setup));
		assert_eq!(service.capture_spec(&hash).await, Some(spec));

		let trace = AnswerTrace { prompt: prompt.clone(), answer: answer.clone(), sketch: None };
		let spans_only = service.attribute(&hash, trace.clone(), None).await;
		assert!(spans_only.entries.is_empty() && !spans_only.influence, "{spans_only:?}");
		let attributed =
			service.attribute(&hash, trace, Some(Captured { adapter: id, capture })).await;
		assert!(attributed.influence);
		assert_eq!(attributed.entries.first().map(|e| e.0), Some(3), "{attributed:?}");
		assert_eq!(
			attributed.entries.iter().map(|e| u64::from(e.1)).sum::<u64>(),
			u64::from(crate::attribution::BILLION)
		);

		// Without an influence setup, nothing is captured.
		let plain = AttributionService::start(
			IndexSource::new(dir.path().join("indexes"), None),
			Default::default(),
			None,
		);
		assert_eq!(plain.capture_spec(&hash).await, None);
	}

	#[test]
	fn the_serve_time_gradient_equals_the_full_models() {
		let (config, weights) = tiny(11);
		let adapter = busy(&config, 3);
		let id = AdapterId::repeat_byte(7);
		let prompts: [&[u32]; 3] = [&[5, 17, 33, 2, 80], &[9, 9, 40, 61, 3, 70, 12], &[44, 1, 2]];
		let request = |prompt: &[u32], temperature: f32| Request {
			adapter: Some(id),
			prompt: prompt.to_vec(),
			max_tokens: 6,
			temperature,
			seed: 5,
			..Request::default()
		};
		// Two flagged requests capturing different blocks, one not flagged, in one batch;
		// prompts longer than the prefill budget are fed over several steps.
		let mut eng = engine(&config, &weights, id, &adapter);
		let specs = [CaptureSpec { layer: 1, top_k: VOCAB }, CaptureSpec { layer: 0, top_k: 200 }];
		let mut flagged = Vec::new();
		for (prompt, spec) in prompts.iter().zip(specs) {
			let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
			let (reply, capture) = tokio::sync::oneshot::channel();
			eng.add_request_with_capture(request(prompt, 0.9), tx, Some((spec, reply))).unwrap();
			flagged.push((rx, capture));
		}
		let (tx, mut plain_rx) = tokio::sync::mpsc::unbounded_channel();
		eng.add_request(request(prompts[2], 0.9), tx).unwrap();
		eng.run_until_idle(Duration::from_secs(10)).unwrap();

		// Capturing changes nothing about what is generated: the same batch unflagged.
		let mut reference = engine(&config, &weights, id, &adapter);
		let mut unflagged = Vec::new();
		for prompt in prompts {
			let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
			reference.add_request(request(prompt, 0.9), tx).unwrap();
			unflagged.push(rx);
		}
		reference.run_until_idle(Duration::from_secs(10)).unwrap();
		let expected: Vec<Vec<u32>> = unflagged.iter_mut().map(drain).collect();
		assert_eq!(drain(&mut plain_rx), expected[2]);
		let base = BaseModel::<B>::new(config.clone(), &weights, &device()).unwrap();
		for (((mut rx, mut capture), prompt), (spec, expected)) in
			flagged.into_iter().zip(prompts).zip(specs.iter().zip(&expected))
		{
			let answer = drain(&mut rx);
			assert_eq!(&answer, expected);
			let capture = capture.try_recv().expect("the capture comes before Done");
			assert_eq!(capture.layer, spec.layer);
			assert_eq!(capture.prompt_len, prompt.len());
			let tokens: Vec<u32> = prompt.iter().chain(&answer).copied().collect();
			assert_eq!(capture.tokens, tokens[..tokens.len() - 1]);
			assert_eq!(capture.hidden.len(), capture.tokens.len() * config.embedding_length);
			assert_eq!(capture.answer.iter().map(|s| s.token).collect::<Vec<_>>(), answer);
			let top = &capture.answer[0].top;
			assert_eq!(top.len(), VOCAB);
			assert!(top.windows(2).all(|w| w[0].1 >= w[1].1));
			assert!((top.iter().map(|t| t.1).sum::<f32>() - 1.0).abs() < 1e-4);

			let tail =
				TailModel::<B>::new(config.clone(), &weights, spec.layer, &device()).unwrap();
			let fast = answer_gradient(&tail, &adapter, &capture).unwrap();
			let full = full_gradient(&base, &adapter, &tokens, prompt.len(), spec.layer).unwrap();
			let mut worst = 0f64;
			for block in 0..config.block_count {
				for t in 0..7 {
					match (&fast[block][t], &full[block][t], block >= spec.layer) {
						(Some(f), Some(g), true) => {
							let (ea, eb) = (rel_err(&f.a, &g.a), rel_err(&f.b, &g.b));
							worst = worst.max(ea).max(eb);
							assert!(ea < 1e-4 && eb < 1e-4, "block {block} target {t}: {ea} {eb}");
						}
						(None, None, false) => {}
						other => panic!("block {block} target {t}: {other:?}"),
					}
				}
			}
			eprintln!("capture at block {}: worst relative error {worst:.2e}", spec.layer);
			// And the sketches agree.
			let sketcher = Sketcher::last_blocks(DEFAULT_DIM, 1, config.block_count, 1);
			let s = answer_sketch(&tail, &adapter, &capture, &sketcher).unwrap();
			assert!(rel_err(&s, &sketcher.sketch(&full)) < 1e-4);
		}
	}

	/// What the engine records of `tokens` answered from `prompt_len` on under `adapter`, at
	/// block 0 with the whole vocabulary kept: the residual stream entering block 0 is the
	/// embedding, and `δ` the head's gradient of the token's negative log-likelihood.
	fn exact_capture(
		config: &LlamaConfig,
		weights: &Weights,
		adapter: &Adapter,
		tokens: &[u32],
		prompt_len: usize,
	) -> Capture {
		let d = config.embedding_length;
		let fed = &tokens[..tokens.len() - 1];
		let hidden: Vec<f32> = fed
			.iter()
			.flat_map(|t| weights.token_embd.row(*t as usize).unwrap().to_vec())
			.collect();
		let tail = TailModel::<B>::new(config.clone(), weights, 0, &device()).unwrap();
		let lora = tracked_lora::<B>(adapter, 0, &device());
		let x = tensor2::<B>(hidden.clone(), fed.len(), d, &device());
		let h = host(tail.hidden(x, Some(&lora)).unwrap()).unwrap();
		let head = weights.output_projection();
		let answer = (prompt_len - 1..fed.len())
			.map(|pos| {
				let row = &h[pos * d..(pos + 1) * d];
				let logits: Vec<f64> = (0..config.vocab_size)
					.map(|v| {
						head.row(v).unwrap().iter().zip(row).map(|(a, b)| f64::from(a * b)).sum()
					})
					.collect();
				let max = logits.iter().copied().fold(f64::MIN, f64::max);
				let z: f64 = logits.iter().map(|l| (l - max).exp()).sum();
				let token = tokens[pos + 1];
				let mut delta = vec![0f32; d];
				for (v, l) in logits.iter().enumerate() {
					let p = (l - max).exp() / z - f64::from(u8::from(v == token as usize));
					for (dd, w) in delta.iter_mut().zip(head.row(v).unwrap()) {
						*dd += (p * f64::from(*w)) as f32;
					}
				}
				AnswerStep { pos, token, top: Vec::new(), delta }
			})
			.collect();
		Capture { layer: 0, dim: d, prompt_len, tokens: fed.to_vec(), hidden, answer }
	}

	/// A batch of answers of different lengths under two adapters of one shape (and different
	/// scales), one of another rank on other targets, and one capture that does not fit: each
	/// batched gradient is the one-at-a-time one and the whole Model's, over both tail blocks,
	/// with RoPE over the whole head and over part of it.
	#[test]
	fn batched_answer_gradients_equal_one_at_a_time_ones() {
		for rope_dims in [4, 2] {
			let (mut config, weights) = tiny(15);
			config.rope_dimension_count = rope_dims;
			let base = BaseModel::<B>::new(config.clone(), &weights, &device()).unwrap();
			let tail = TailModel::<B>::new(config.clone(), &weights, 0, &device()).unwrap();
			let first = busy(&config, 6);
			let mut second = busy(&config, 7);
			second.config.alpha = 2;
			let lora = LoraConfig {
				rank: 2,
				alpha: 4,
				dropout: 0.0,
				targets: vec![Target::Q, Target::Down],
			};
			let mut narrow = Adapter::init(lora, &config, 8).unwrap();
			let mut rng = SplitMix64::new(16);
			for w in narrow.blocks.iter_mut().flatten().flatten() {
				w.b.iter_mut().for_each(|v| *v = rng.uniform(-0.3, 0.3));
			}
			let mut text =
				|len: usize| -> Vec<u32> { (0..len).map(|_| rng.below(VOCAB) as u32).collect() };
			let cases = [
				(&first, text(9), 4),
				(&second, text(13), 6),
				(&narrow, text(6), 2),
				(&first, text(5), 3),
				(&second, text(8), 7),
			];
			let captures: Vec<Capture> =
				cases.iter().map(|(a, t, p)| exact_capture(&config, &weights, a, t, *p)).collect();
			let mut bad = captures[0].clone();
			bad.layer = 1;
			let mut answers: Vec<(&Adapter, &Capture)> =
				cases.iter().zip(&captures).map(|((a, _, _), c)| (*a, c)).collect();
			answers.insert(2, (&first, &bad));

			let batched = answer_gradients(&tail, &answers);
			assert_eq!(batched.len(), answers.len());
			assert!(matches!(batched[2], Err(InfluenceError::Mismatch(_))));
			for (i, ((adapter, capture), got)) in answers.iter().zip(&batched).enumerate() {
				if i == 2 {
					continue;
				}
				let got = got.as_ref().unwrap();
				let one = answer_gradient(&tail, adapter, capture).unwrap();
				let mut tokens = capture.tokens.clone();
				tokens.push(capture.answer.last().unwrap().token);
				let full = full_gradient(&base, adapter, &tokens, capture.prompt_len, 0).unwrap();
				for block in 0..config.block_count {
					for t in 0..7 {
						match (&got[block][t], &one[block][t], &full[block][t]) {
							(Some(g), Some(o), Some(f)) => {
								let (ea, eb) = (rel_err(&g.a, &o.a), rel_err(&g.b, &o.b));
								assert!(ea < 1e-5 && eb < 1e-5, "{i} {block} {t}: {ea} {eb}");
								let (ea, eb) = (rel_err(&g.a, &f.a), rel_err(&g.b, &f.b));
								assert!(ea < 1e-4 && eb < 1e-4, "{i} {block} {t}: {ea} {eb}");
							}
							(None, None, None) => {}
							other => panic!("answer {i} block {block} target {t}: {other:?}"),
						}
					}
				}
			}
			// Rerunning every position (the benchmark's baseline) gives the same gradients.
			let all = answer_gradients_with(&tail, &answers, RerunRows::All);
			for (i, (got, every)) in batched.iter().zip(&all).enumerate().filter(|(i, _)| *i != 2) {
				let (got, every) = (got.as_ref().unwrap(), every.as_ref().unwrap());
				for (g, e) in got.iter().flatten().zip(every.iter().flatten()) {
					match (g, e) {
						(Some(g), Some(e)) => {
							assert!(rel_err(&g.a, &e.a) < 1e-5 && rel_err(&g.b, &e.b) < 1e-5, "{i}")
						}
						(None, None) => {}
						other => panic!("answer {i}: {other:?}"),
					}
				}
			}
			// Sketched together as one at a time.
			let sketcher = Sketcher::last_blocks(DEFAULT_DIM, 3, config.block_count, 2);
			let with: Vec<_> = answers.iter().map(|(a, c)| (*a, *c, &sketcher)).collect();
			for (i, (s, (a, c))) in answer_sketches(&tail, &with).iter().zip(&answers).enumerate() {
				match (s, answer_sketch(&tail, a, c, &sketcher)) {
					(Ok(s), Ok(one)) => assert!(rel_err(s, &one) < 1e-5, "answer {i}"),
					(Err(_), Err(_)) => assert_eq!(i, 2),
					other => panic!("answer {i}: {other:?}"),
				}
			}
		}
	}

	#[test]
	fn a_top_k_capture_keeps_k_tokens_and_a_close_gradient() {
		let (config, weights) = tiny(12);
		let adapter = busy(&config, 4);
		let id = AdapterId::repeat_byte(8);
		let mut eng = engine(&config, &weights, id, &adapter);
		let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
		let (reply, mut capture) = tokio::sync::oneshot::channel();
		let prompt = vec![3u32, 14, 15, 92, 65];
		let r = Request {
			adapter: Some(id),
			prompt: prompt.clone(),
			max_tokens: 5,
			..Request::default()
		};
		eng.add_request_with_capture(r, tx, Some((CaptureSpec { layer: 1, top_k: 48 }, reply)))
			.unwrap();
		eng.run_until_idle(Duration::from_secs(10)).unwrap();
		let answer = drain(&mut rx);
		let capture = capture.try_recv().unwrap();
		assert!(capture.answer.iter().all(|s| s.top.len() == 48));
		// Greedy: the token is the most likely one.
		assert!(capture.answer.iter().all(|s| s.top[0].0 == s.token));
		let tail = TailModel::<B>::new(config.clone(), &weights, 1, &device()).unwrap();
		let approx = answer_gradient(&tail, &adapter, &capture).unwrap();
		let base = BaseModel::<B>::new(config.clone(), &weights, &device()).unwrap();
		let tokens: Vec<u32> = prompt.iter().chain(&answer).copied().collect();
		let full = full_gradient(&base, &adapter, &tokens, prompt.len(), 1).unwrap();
		let s = Sketcher::last_blocks(DEFAULT_DIM, 1, 2, 1);
		let (a, b) = (s.sketch(&approx), s.sketch(&full));
		let cos = dot(&unit(&a), &unit(&b));
		eprintln!("top-48 surrogate vs exact gradient sketch: cosine {cos}");
		assert!(cos > 0.99, "cosine {cos} between the top-48 surrogate and the exact gradient");
		// Bad inputs are named errors.
		let at0 = TailModel::<B>::new(config.clone(), &weights, 0, &device()).unwrap();
		assert!(matches!(
			answer_gradient(&at0, &adapter, &capture),
			Err(InfluenceError::Mismatch(_))
		));
		let mut empty = capture.clone();
		empty.answer.clear();
		assert!(matches!(
			answer_gradient(&tail, &adapter, &empty),
			Err(InfluenceError::EmptyAnswer)
		));
		let wide = Sketcher::last_blocks(DEFAULT_DIM, 1, 2, 2);
		assert!(matches!(
			answer_sketch(&tail, &adapter, &capture, &wide),
			Err(InfluenceError::Mismatch(_))
		));
		let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
		let (reply, _capture) = tokio::sync::oneshot::channel();
		let r = Request { prompt, ..Request::default() };
		assert!(matches!(
			eng.add_request_with_capture(r, tx, Some((CaptureSpec { layer: 2, top_k: 4 }, reply))),
			Err(ServeError::InvalidOptions(_))
		));
	}

	#[test]
	fn the_engine_handle_hands_the_capture_back_before_done() {
		let (config, weights) = tiny(14);
		let adapter = busy(&config, 5);
		let id = AdapterId::repeat_byte(9);
		let options = EngineOptions {
			max_batch: 4,
			max_prefill_tokens: 16,
			slab_slots: 2,
			max_rank: 8,
			host_cache_bytes: 1 << 20,
			adapters_dir: std::env::temp_dir().join("influence-unused"),
			store: None,
			threads: 1,
		};
		let source = Arc::new(OneAdapter(id, adapter));
		let handle =
			crate::openlora::EngineHandle::start_with_source(config, weights, options, source)
				.unwrap();
		let r = Request {
			adapter: Some(id),
			prompt: vec![1, 2, 3],
			max_tokens: 4,
			..Request::default()
		};
		let (mut events, mut capture) =
			handle.submit_with_capture(r.clone(), CaptureSpec { layer: 1, top_k: 8 }).unwrap();
		let plain = handle.submit(r).unwrap();
		let mut tokens = Vec::new();
		loop {
			match events.blocking_recv().unwrap() {
				Event::Token { id } => tokens.push(id),
				Event::Done { .. } => break,
				Event::Error(e) => panic!("{e}"),
			}
		}
		let capture = capture.try_recv().expect("sent before Done");
		assert_eq!(capture.answer.iter().map(|s| s.token).collect::<Vec<_>>(), tokens);
		assert_eq!(capture.tokens.len(), 3 + tokens.len() - 1);
		drop(plain);
	}

	#[test]
	fn an_answer_equal_to_a_training_example_scores_its_contribution_highest() {
		let (config, weights) = tiny(13);
		let base = BaseModel::<B>::new(config.clone(), &weights, &device()).unwrap();
		let mut rng = SplitMix64::new(99);
		let mut seq =
			|len: usize| -> Vec<u32> { (0..len).map(|_| rng.below(VOCAB) as u32).collect() };
		let ids = [10u64, 20, 30];
		let texts: Vec<Vec<u32>> = ids.iter().map(|_| seq(14)).collect();
		let example = |i: usize, contribution: u64, tokens: Vec<u32>| Example {
			document: i,
			contribution,
			tokens,
		};
		let documents = (0..4u64)
			.map(|i| Document { contribution: i, hash: [i as u8; 32], text: String::new() })
			.collect();
		let data = Dataset {
			documents,
			train: ids
				.iter()
				.zip(&texts)
				.enumerate()
				.map(|(i, (c, t))| example(i, *c, t.clone()))
				.collect(),
			heldout: vec![example(3, 40, seq(10))],
		};
		let cfg = TrainConfig {
			lora: LoraConfig { rank: 4, alpha: 8, dropout: 0.0, targets: Target::ALL.to_vec() },
			learning_rate: 1e-2,
			warmup_steps: 1,
			steps: 6,
			batch_size: 1,
			grad_accum: 3,
			seq_len: 16,
			heldout_permille: 250,
			seed: 1,
			adamw: AdamWConfig::default(),
			max_grad_norm: 1.0,
		};
		let sketcher = Sketcher::last_blocks(DEFAULT_DIM, 42, config.block_count, 1);
		let mut builder = IndexBuilder::new(sketcher.clone());
		let (adapter, _) = train(&base, &data, &cfg, &mut builder).unwrap();
		let index = builder.finish();
		assert_eq!(index.contributions, ids);
		assert_eq!(index.sketcher(), sketcher);
		for i in 0..ids.len() {
			let norm: f32 = index.row(i).unwrap().iter().map(|v| v * v).sum();
			assert!((norm - 1.0).abs() < 1e-4);
		}
		let answers: Vec<Vec<f32>> = texts
			.iter()
			.map(|t| sketcher.sketch(&full_gradient(&base, &adapter, t, 1, 1).unwrap()))
			.collect();
		let batch = index.score_batch(&answers);
		for (i, scores) in batch.iter().enumerate() {
			let best = scores.iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
			assert_eq!(best.0, ids[i], "answer {i}: {scores:?}");
			assert_eq!(index.score(&answers[i]), *scores);
		}
	}

	#[test]
	fn batch_scores_are_cosines() {
		let mut rng = SplitMix64::new(5);
		let dim = 24;
		let mut builder = IndexBuilder::new(Sketcher::new(dim, 3, vec![1]));
		let mut rows = Vec::new();
		for id in [7u64, 3, 11, 5] {
			let v: Vec<f32> = (0..dim).map(|_| rng.uniform(-1.0, 1.0)).collect();
			builder.add_sketch(id, &v);
			rows.push((id, v));
		}
		// A second occurrence of 7: its row becomes the mean direction.
		let extra: Vec<f32> = (0..dim).map(|_| rng.uniform(-1.0, 1.0)).collect();
		builder.add_sketch(7, &extra);
		let index = builder.finish();
		assert_eq!(index.contributions, vec![3, 5, 7, 11]);
		let answers: Vec<Vec<f32>> =
			(0..3).map(|_| (0..dim).map(|_| rng.uniform(-1.0, 1.0)).collect()).collect();
		let mut with_bad = answers.clone();
		with_bad.push(vec![0.0; dim]);
		with_bad.push(vec![1.0; dim + 1]);
		let scores = index.score_batch(&with_bad);
		assert_eq!(scores.len(), 5);
		let cos = |a: &[f32], b: &[f32]| dot(&unit(a), &unit(b));
		for (answer, got) in answers.iter().zip(&scores) {
			for (id, score) in got {
				let (_, row) = rows.iter().find(|(r, _)| r == id).unwrap();
				let expected = match *id {
					7 => {
						let (u, w) = (unit(row), unit(&extra));
						let mean: Vec<f32> =
							u.iter().zip(&w).map(|(p, q)| ((p + q) / 2.0) as f32).collect();
						cos(answer, &mean)
					}
					_ => cos(answer, row),
				};
				assert!((score - expected).abs() < 1e-5, "{id}: {score} vs {expected}");
			}
		}
		assert!(scores[3].iter().chain(&scores[4]).all(|(_, s)| *s == 0.0));
		assert!(IndexBuilder::new(Sketcher::new(dim, 3, vec![1]))
			.finish()
			.score_batch(&answers)
			.iter()
			.all(Vec::is_empty));
	}

	#[test]
	fn scores_split_over_threads_equal_row_by_row_dot_products() {
		let mut rng = SplitMix64::new(8);
		let dim = 20;
		// Rows that do not divide evenly among the threads, and more threads than rows.
		for (n, threads) in [(7usize, 3usize), (2, 5), (64, 2)] {
			let index = InfluenceIndex {
				dim,
				seed: 1,
				blocks: vec![0],
				contributions: (0..n as u64).map(|i| i * 3 + 1).collect(),
				sketches: (0..n * dim).map(|_| rng.uniform(-1.0, 1.0)).collect(),
			};
			let answers: Vec<Vec<f32>> =
				(0..3).map(|_| (0..dim).map(|_| rng.uniform(-1.0, 1.0)).collect()).collect();
			let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
			let scores = pool.install(|| index.score_batch(&answers));
			for (answer, got) in answers.iter().zip(&scores) {
				assert_eq!(got.len(), n);
				let a = unit(answer);
				for (i, (id, score)) in got.iter().enumerate() {
					assert_eq!(*id, index.contributions[i]);
					let row = index.row(i).unwrap();
					let want: f64 = a.iter().zip(row).map(|(x, y)| x * f64::from(*y)).sum();
					assert!((score - want).abs() < 1e-5, "n {n}, row {i}: {score} vs {want}");
				}
			}
		}
	}

	#[test]
	fn index_bytes_round_trip_and_corruption_is_a_named_error() {
		let mut rng = SplitMix64::new(6);
		let dim = 16;
		let mut builder = IndexBuilder::new(Sketcher::new(dim, 9, vec![0, 1]));
		for id in [1u64, 4, 9] {
			let v: Vec<f32> = (0..dim).map(|_| rng.uniform(-1.0, 1.0)).collect();
			builder.add_sketch(id, &v);
		}
		let index = builder.finish();
		let bytes = index.to_bytes();
		assert_eq!(InfluenceIndex::from_bytes(&bytes).unwrap(), index);
		let empty = IndexBuilder::new(Sketcher::new(dim, 9, vec![1])).finish();
		assert_eq!(InfluenceIndex::from_bytes(&empty.to_bytes()).unwrap(), empty);

		let with = |f: &dyn Fn(&mut Vec<u8>)| {
			let mut b = bytes.clone();
			f(&mut b);
			InfluenceIndex::from_bytes(&b)
		};
		assert_eq!(InfluenceIndex::from_bytes(&[]), Err(IndexBytesError::BadMagic));
		assert_eq!(with(&|b| b[0] ^= 1), Err(IndexBytesError::BadMagic));
		assert_eq!(with(&|b| b[8] = 2), Err(IndexBytesError::UnsupportedVersion(2)));
		assert_eq!(with(&|b| b.truncate(b.len() - 1)), Err(IndexBytesError::Truncated));
		assert_eq!(with(&|b| b.truncate(20)), Err(IndexBytesError::Truncated));
		assert_eq!(with(&|b| b.push(0)), Err(IndexBytesError::TrailingBytes(1)));
		let last_value = bytes.len() - 17;
		assert_eq!(with(&|b| b[last_value] ^= 0x10), Err(IndexBytesError::Checksum));
		assert_eq!(
			with(&|b| b[12..16].copy_from_slice(&0u32.to_le_bytes())),
			Err(IndexBytesError::Invalid("sketch length"))
		);
		// A row count far beyond the bytes is refused before anything is allocated for it.
		let rows_at = 8 + 4 + 4 + 8 + 8 + 2 * 4;
		assert_eq!(
			with(&|b| b[rows_at..rows_at + 8].copy_from_slice(&u64::MAX.to_le_bytes())),
			Err(IndexBytesError::Truncated)
		);
	}
}
