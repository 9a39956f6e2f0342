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

use super::kernels::PackedMatrix;

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

/// The top `k` of `logits` as probabilities (most likely first, ties by index) and `delta`
/// for `token` (see the module docs), the head's rows read from `head` (`vocab × dim`).
pub fn answer_step(
	logits: &[f32],
	k: usize,
	token: u32,
	pos: usize,
	head: &PackedMatrix,
) -> AnswerStep {
	let max = logits.iter().copied().filter(|v| !v.is_nan()).fold(f32::NEG_INFINITY, f32::max);
	let total: f64 = logits
		.iter()
		.filter(|v| !v.is_nan())
		.map(|l| f64::from(l - max).exp())
		.sum::<f64>()
		.max(f64::MIN_POSITIVE);
	let mut order: Vec<u32> = (0..logits.len() as u32).collect();
	let value =
		|i: u32| logits.get(i as usize).copied().filter(|v| !v.is_nan()).unwrap_or(f32::MIN);
	let by_logit = |a: &u32, b: &u32| value(*b).total_cmp(&value(*a)).then(a.cmp(b));
	let k = k.clamp(1, logits.len().max(1));
	if k < order.len() {
		order.select_nth_unstable_by(k - 1, by_logit);
		order.truncate(k);
	}
	order.sort_by(by_logit);
	let top: Vec<(u32, f32)> =
		order.iter().map(|&i| (i, (f64::from(value(i) - max).exp() / total) as f32)).collect();
	let mass: f64 = top.iter().map(|(_, p)| f64::from(*p)).sum::<f64>().max(f64::MIN_POSITIVE);
	let dim = head.input();
	let mut delta = vec![0f64; dim];
	let mut add_row = |row: u32, coef: f64| {
		for (i, d) in delta.iter_mut().enumerate() {
			*d += coef * f64::from(head.get(row as usize, i).unwrap_or(0.0));
		}
	};
	for (i, p) in &top {
		add_row(*i, f64::from(*p) / mass);
	}
	add_row(token, -1.0);
	AnswerStep { pos, token, top, delta: delta.into_iter().map(|v| v as f32).collect() }
}
