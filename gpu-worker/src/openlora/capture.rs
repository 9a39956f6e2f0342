//! What the engine records of a request flagged for attribution (the Proof of Attribution's
//! serve-time half, [`crate::attribution::influence`]): enough to recompute the answer's
//! gradient on the last blocks' LoRA parameters without running the whole Model again.
//!
//! - the residual stream entering block [`CaptureSpec::layer`] at every position fed (prompt,
//!   then each generated token that was fed back);
//! - at each answer position: the generated token, the `top_k` most likely tokens with their
//!   probabilities (`softmax` of the logits at temperature 1, whatever the request samples
//!   with), and `delta`, the gradient of the token's negative log-likelihood with respect to the
//!   final hidden state (after the output norm), `W_headᵀ (p̂ − e_y)`, where `p̂` is the top-k
//!   probabilities renormalized to sum to one: exact when `top_k` covers the vocabulary, else a
//!   surrogate that keeps the mass where it is.
//!
//! Nothing is allocated for requests that are not flagged.

use super::{
	kernels::{with_avx2, PackedMatrix},
	ops::exp_nonpositive,
};

/// What to record of a flagged request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureSpec {
	/// The block whose input residual stream is kept (the first block the gradient covers).
	pub layer: usize,
	/// Tokens kept per answer position (at least 1; at or above the vocabulary: exact).
	pub top_k: usize,
}

/// One generated (emitted) token of a captured request.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerStep {
	/// The position whose logits chose it (the token sits at `pos + 1`).
	pub pos: usize,
	/// The token.
	pub token: u32,
	/// The `top_k` most likely tokens and their probabilities, most likely first.
	pub top: Vec<(u32, f32)>,
	/// `W_headᵀ (p̂ − e_token)`, `dim` values (see the module docs).
	pub delta: Vec<f32>,
}

/// What the engine recorded of a flagged request, handed back when it finishes.
#[derive(Debug, Clone, PartialEq)]
pub struct Capture {
	/// [`CaptureSpec::layer`].
	pub layer: usize,
	/// The Model's hidden size.
	pub dim: usize,
	/// Prompt tokens.
	pub prompt_len: usize,
	/// Tokens fed, in position order: the prompt, then generated tokens fed back.
	pub tokens: Vec<u32>,
	/// The residual stream entering block `layer`, `tokens.len() × dim`.
	pub hidden: Vec<f32>,
	/// The emitted tokens, in order (a stop token is not one).
	pub answer: Vec<AnswerStep>,
}

impl Capture {
	/// An empty capture.
	pub fn new(spec: CaptureSpec, dim: usize, prompt_len: usize) -> Self {
		Self {
			layer: spec.layer,
			dim,
			prompt_len,
			tokens: Vec::new(),
			hidden: Vec::new(),
			answer: Vec::new(),
		}
	}
}

/// The rows of the output projection (`vocab × dim`), as [`answer_step`] reads them.
#[derive(Debug, Clone, Copy)]
pub enum HeadRows<'a> {
	/// Row-major, `dim` values per row (the embeddings of a tied head).
	RowMajor {
		/// `vocab × dim` values.
		values: &'a [f32],
		/// Values per row.
		dim: usize,
	},
	/// The packed copy the batched forward uses (a row is strided there).
	Packed(&'a PackedMatrix),
}

impl HeadRows<'_> {
	/// Values per row.
	pub fn dim(&self) -> usize {
		match self {
			Self::RowMajor { dim, .. } => *dim,
			Self::Packed(m) => m.input(),
		}
	}

	/// `acc += coef · row(r)`; a row out of range adds nothing.
	fn add_row(&self, r: usize, coef: f64, acc: &mut [f64]) {
		match self {
			Self::RowMajor { values, dim } => {
				if let Some(row) = values.get(r * dim..(r + 1) * dim) {
					for (a, v) in acc.iter_mut().zip(row) {
						*a += coef * f64::from(*v);
					}
				}
			}
			Self::Packed(m) => {
				for (i, a) in acc.iter_mut().enumerate() {
					*a += coef * f64::from(m.get(r, i).unwrap_or(0.0));
				}
			}
		}
	}
}

/// `Σ e^(l − max)` over `logits` (NaN counts as 0), in f32 lanes summed in f64. With AVX2
/// where the CPU has it (the same arithmetic in the same order either way).
fn exp_sum(logits: &[f32], max: f32) -> f64 {
	with_avx2!(exp_sum_avx2, exp_sum_lanes, (logits: &[f32], max: f32) -> f64)
}

#[inline(always)]
fn exp_sum_lanes(logits: &[f32], max: f32) -> f64 {
	const LANES: usize = 16;
	let mut total = 0f64;
	let mut chunks = logits.chunks_exact(1024);
	for chunk in &mut chunks {
		let mut acc = [0f32; LANES];
		for group in chunk.chunks_exact(LANES) {
			for (a, l) in acc.iter_mut().zip(group) {
				let e = exp_nonpositive(l - max);
				*a += if l.is_nan() { 0.0 } else { e };
			}
		}
		total += acc.iter().map(|v| f64::from(*v)).sum::<f64>();
	}
	for l in chunks.remainder() {
		if !l.is_nan() {
			total += f64::from(exp_nonpositive(l - max));
		}
	}
	total
}

/// The largest of `values` (NaN ignored; `NEG_INFINITY` when none), in compare-and-select
/// lanes the compiler vectorizes.
#[inline(always)]
fn lanes_max(values: &[f32]) -> f32 {
	const LANES: usize = 8;
	let mut acc = [f32::NEG_INFINITY; LANES];
	let mut groups = values.chunks_exact(LANES);
	for group in &mut groups {
		for (a, v) in acc.iter_mut().zip(group) {
			*a = if *v > *a { *v } else { *a };
		}
	}
	let mut m = f32::NEG_INFINITY;
	for v in acc.iter().chain(groups.remainder()) {
		m = if *v > m { *v } else { m };
	}
	m
}

/// The indices of the `k` largest `logits`, most likely first (ties: the smaller index first;
/// NaN ranks below every number), in one pass with a `k`-entry heap. A run of values none of
/// which beats the worst kept one is passed over after its vectorized maximum alone.
fn top_indices(logits: &[f32], k: usize) -> Vec<u32> {
	with_avx2!(top_indices_avx2, top_indices_scan, (logits: &[f32], k: usize) -> Vec<u32>)
}

#[inline(always)]
fn top_indices_scan(logits: &[f32], k: usize) -> Vec<u32> {
	use std::{cmp::Ordering, collections::BinaryHeap};
	/// Ordered so that the heap's greatest is the worst kept entry.
	#[derive(Clone, Copy, PartialEq)]
	struct Worst(f32, u32);
	impl Eq for Worst {}
	impl Ord for Worst {
		fn cmp(&self, other: &Self) -> Ordering {
			other.0.total_cmp(&self.0).then(self.1.cmp(&other.1))
		}
	}
	impl PartialOrd for Worst {
		fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
			Some(self.cmp(other))
		}
	}
	const RUN: usize = 64;
	let value = |v: f32| if v.is_nan() { f32::MIN } else { v };
	let mut heap: BinaryHeap<Worst> = BinaryHeap::with_capacity(k + 1);
	for (r, run) in logits.chunks(RUN).enumerate() {
		if heap.len() >= k {
			// A later index never beats an equal value: strictly greater only.
			match heap.peek() {
				Some(worst) if lanes_max(run) > worst.0 => {}
				_ => continue,
			}
		}
		for (j, l) in run.iter().enumerate() {
			let entry = Worst(value(*l), (r * RUN + j) as u32);
			if heap.len() < k {
				heap.push(entry);
			} else if let Some(mut worst) = heap.peek_mut() {
				if entry.0 > worst.0 {
					*worst = entry;
				}
			}
		}
	}
	// Ascending `Worst` is best first.
	heap.into_sorted_vec().into_iter().map(|w| w.1).collect()
}

/// The top `k` of `logits` as probabilities (most likely first, ties by index) and `delta`
/// for `token` (see the module docs), the head's rows read from `head` (`vocab × dim`).
pub fn answer_step(
	logits: &[f32],
	k: usize,
	token: u32,
	pos: usize,
	head: HeadRows<'_>,
) -> AnswerStep {
	let k = k.clamp(1, logits.len().max(1));
	let value = |i: u32| logits.get(i as usize).copied().filter(|v| !v.is_nan());
	let order = top_indices(logits, k);
	// The most likely first: its logit is the largest (NaN ranks last).
	let max = order.first().and_then(|i| value(*i)).unwrap_or(f32::NEG_INFINITY);
	let total = exp_sum(logits, max).max(f64::MIN_POSITIVE);
	let top: Vec<(u32, f32)> = order
		.into_iter()
		.map(|i| {
			let p = value(i).map_or(0.0, |v| f64::from(v - max).exp() / total);
			(i, p as f32)
		})
		.collect();
	let mass: f64 = top.iter().map(|(_, p)| f64::from(*p)).sum::<f64>().max(f64::MIN_POSITIVE);
	let mut delta = vec![0f64; head.dim()];
	for (i, p) in &top {
		head.add_row(*i as usize, f64::from(*p) / mass, &mut delta);
	}
	head.add_row(token as usize, -1.0, &mut delta);
	AnswerStep { pos, token, top, delta: delta.into_iter().map(|v| v as f32).collect() }
}

#[cfg(test)]
mod tests {
	use super::*;

	/// The step as first written: every probability by `f64::exp`, a full sort by logit, and
	/// the head read element by element from the packed copy.
	fn reference_step(logits: &[f32], k: usize, token: u32, head: &PackedMatrix) -> AnswerStep {
		let max = logits.iter().copied().filter(|v| !v.is_nan()).fold(f32::NEG_INFINITY, f32::max);
		let total: f64 = logits
			.iter()
			.filter(|v| !v.is_nan())
			.map(|l| f64::from(l - max).exp())
			.sum::<f64>()
			.max(f64::MIN_POSITIVE);
		let value =
			|i: u32| logits.get(i as usize).copied().filter(|v| !v.is_nan()).unwrap_or(f32::MIN);
		let mut order: Vec<u32> = (0..logits.len() as u32).collect();
		order.sort_by(|a, b| value(*b).total_cmp(&value(*a)).then(a.cmp(b)));
		order.truncate(k.clamp(1, logits.len()));
		let top: Vec<(u32, f32)> = order
			.iter()
			.map(|&i| {
				let p = logits
					.get(i as usize)
					.filter(|v| !v.is_nan())
					.map_or(0.0, |v| f64::from(v - max).exp() / total);
				(i, p as f32)
			})
			.collect();
		let mass: f64 = top.iter().map(|(_, p)| f64::from(*p)).sum();
		let mut delta = vec![0f64; head.input()];
		for (i, p) in &top {
			for (j, d) in delta.iter_mut().enumerate() {
				*d += f64::from(*p) / mass * f64::from(head.get(*i as usize, j).unwrap_or(0.0));
			}
		}
		for (j, d) in delta.iter_mut().enumerate() {
			*d -= f64::from(head.get(token as usize, j).unwrap_or(0.0));
		}
		AnswerStep { pos: 0, token, top, delta: delta.into_iter().map(|v| v as f32).collect() }
	}

	/// A deterministic stream in `[-1, 1)`.
	fn stream(seed: u64) -> impl FnMut() -> f32 {
		let mut s = seed;
		move || {
			s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
			((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
		}
	}

	#[test]
	fn the_step_equals_the_reference_on_either_head_layout() {
		let (vocab, dim) = (300, 12);
		let mut next = stream(7);
		let head_values: Vec<f32> = (0..vocab * dim).map(|_| next()).collect();
		let packed = PackedMatrix::pack(&head_values, vocab, dim);
		for (round, k) in [1usize, 5, 64, 299, 300, 1000].into_iter().enumerate() {
			// Logits with ties (quantized), a NaN and a very negative outlier.
			let mut logits: Vec<f32> = (0..vocab).map(|_| (next() * 8.0).round() * 1.5).collect();
			logits[3 + round] = f32::NAN;
			logits[100] = -1.0e4;
			let token = (round * 37 % vocab) as u32;
			let want = reference_step(&logits, k, token, &packed);
			let rows = HeadRows::RowMajor { values: &head_values, dim };
			for got in [
				answer_step(&logits, k, token, 0, rows),
				answer_step(&logits, k, token, 0, HeadRows::Packed(&packed)),
			] {
				let ids = |s: &AnswerStep| s.top.iter().map(|(i, _)| *i).collect::<Vec<_>>();
				assert_eq!(ids(&got), ids(&want), "k = {k}: the same tokens in the same order");
				for ((_, p), (_, q)) in got.top.iter().zip(&want.top) {
					assert!((p - q).abs() <= 1e-6 * q.max(1e-30), "k = {k}: {p} vs {q}");
				}
				for (a, b) in got.delta.iter().zip(&want.delta) {
					assert!((a - b).abs() < 1e-5, "k = {k}: delta {a} vs {b}");
				}
			}
		}
	}
}
