//! The reference path, naive per-adapter serving: merge the request's adapter into the base
//! weights (`W += scale · Bᵀ Aᵀ`), run the request alone, restore the weights from a pristine
//! copy (exact, unlike subtracting the update again). What the engine's mixed batches are
//! checked against in the tests, and its baseline in the benchmark. It uses the engine's own
//! kernels with a batch of one sequence, so the comparison measures batching, not kernels.

use super::{
	engine::{choose, validate},
	model::{BatchModel, KvCache, Row, Scratch},
	FinishReason, Request, ServeError,
};
use crate::{
	model::{reference::Weights, LlamaConfig},
	train::{lora::Target, rng::SplitMix64, Adapter},
};
use std::time::Instant;

/// One request served alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
	/// The generated tokens (without a stop token).
	pub tokens: Vec<u32>,
	/// Why it stopped.
	pub reason: FinishReason,
	/// Milliseconds from the start to the first token (merge included).
	pub first_token_ms: f64,
	/// Milliseconds from the start to the end (merge and restore included).
	pub total_ms: f64,
	/// The next-token logits of every step, when asked for.
	pub logits: Vec<Vec<f32>>,
}

/// Serves one request at a time with its adapter merged into the weights.
pub struct NaiveServer {
	model: BatchModel,
	pristine: BatchModel,
	pool: rayon::ThreadPool,
	/// Keep every step's logits in [`Completion::logits`].
	pub keep_logits: bool,
}

impl NaiveServer {
	/// A server for the base Model `weights`, computing on `threads` threads.
	pub fn new(config: LlamaConfig, weights: &Weights, threads: usize) -> Result<Self, ServeError> {
		let model = BatchModel::new(config, weights)?;
		let pool = rayon::ThreadPoolBuilder::new()
			.num_threads(threads.max(1))
			.build()
			.map_err(|e| ServeError::InvalidOptions(format!("thread pool: {e}")))?;
		Ok(Self { pristine: model.clone(), model, pool, keep_logits: false })
	}

	/// Merges `adapter`, serves `request` alone (its `adapter` field is ignored), restores the
	/// base weights.
	pub fn serve(
		&mut self,
		adapter: Option<&Adapter>,
		request: &Request,
	) -> Result<Completion, ServeError> {
		validate(self.model.config(), request)?;
		let start = Instant::now();
		if let Some(adapter) = adapter {
			self.merge(adapter);
		}
		let result = self.pool.install(|| run(&self.model, request, start, self.keep_logits));
		if let Some(adapter) = adapter {
			self.restore(adapter);
		}
		let mut completion = result?;
		completion.total_ms = start.elapsed().as_secs_f64() * 1e3;
		Ok(completion)
	}

	/// `W += scale · Bᵀ Aᵀ` for every adapted projection, one small GEMM each.
	fn merge(&mut self, adapter: &Adapter) {
		let rank = usize::from(adapter.config.rank);
		let scale = adapter.config.scale();
		for (layer, block) in adapter.blocks.iter().enumerate() {
			for target in Target::ALL {
				let Some(w) = block.get(target.index()).and_then(Option::as_ref) else { continue };
				let Some(m) = self.model.projection_mut(layer, target) else { continue };
				let (out, input) = (w.output, w.input);
				if m.input() != input
					|| m.out() != out
					|| w.a.len() != input * rank
					|| w.b.len() != rank * out
				{
					continue;
				}
				// Bᵀ(o, r) = b[r·out + o], Aᵀ(r, i) = a[i·rank + r].
				m.add_low_rank(scale, rank, &w.b, 1, out, &w.a, 1, rank);
			}
		}
	}

	/// Copies the adapted projections back from the pristine weights.
	fn restore(&mut self, adapter: &Adapter) {
		for (layer, block) in adapter.blocks.iter().enumerate() {
			for target in Target::ALL {
				if block.get(target.index()).and_then(Option::as_ref).is_none() {
					continue;
				}
				let (Some(src), Some(dst)) = (
					self.pristine.projection(layer, target),
					self.model.projection_mut(layer, target),
				) else {
					continue;
				};
				dst.clone_from(src);
			}
		}
	}
}

/// Prefills the whole prompt in one pass, then decodes token by token.
fn run(
	model: &BatchModel,
	request: &Request,
	start: Instant,
	keep_logits: bool,
) -> Result<Completion, ServeError> {
	let config = model.config();
	let mut cache = KvCache::new(config.block_count);
	cache.reserve_for(config, request);
	let mut rng = SplitMix64::new(request.seed);
	let prompt = &request.prompt;
	let rows: Vec<Row> = prompt
		.iter()
		.enumerate()
		.map(|(pos, &token)| Row {
			seq: 0,
			token,
			pos,
			slot: None,
			prefill: true,
			logits: pos + 1 == prompt.len(),
		})
		.collect();
	let mut scratch = Scratch::default();
	let mut logits = model.forward_with(&rows, &mut [&mut cache], None, &mut scratch)?.to_vec();
	let mut completion = Completion {
		tokens: Vec::new(),
		reason: FinishReason::Length,
		first_token_ms: 0.0,
		total_ms: 0.0,
		logits: Vec::new(),
	};
	loop {
		if keep_logits {
			completion.logits.push(logits.clone());
		}
		let next = choose(&logits, request, &mut rng);
		if completion.tokens.is_empty() {
			completion.first_token_ms = start.elapsed().as_secs_f64() * 1e3;
		}
		if request.stop_tokens.contains(&next) {
			completion.reason = FinishReason::Stop;
			break;
		}
		completion.tokens.push(next);
		let pos = cache.len();
		if completion.tokens.len() >= request.max_tokens as usize || pos >= config.context_length {
			break;
		}
		let row = Row { seq: 0, token: next, pos, slot: None, prefill: false, logits: true };
		logits = model.forward_with(&[row], &mut [&mut cache], None, &mut scratch)?.to_vec();
	}
	Ok(completion)
}
