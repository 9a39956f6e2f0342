//! The training loop: LoRA on a frozen base, AdamW, gradient accumulation, a warmup + cosine
//! schedule, global-norm clipping, seeded dropout and data order, and held-out evaluation before
//! and after.
//!
//! Each example (one token window of one contribution) is its own micro-batch: its forward and
//! backward pass give the gradients of the LoRA parameters for that example alone, which the
//! [`TrainHooks::on_example`] hook sees (the Proof of Attribution indexes them) before they are
//! summed into the step's gradient. A step averages `batch_size × grad_accum` examples. Windows
//! are never padded, so no compute goes to padding.
//!
//! Everything that varies between runs is derived from the seed, and host-side sums run in a
//! fixed order, so on a deterministic backend (the CPU one) the same seed, data and
//! hyperparameters give a byte-identical adapter.

use super::{
	data::{Dataset, Example},
	host,
	llama::{tensor2, BaseModel, DropoutMasks, LoraPair, LoraTensors},
	lora::{Adapter, LoraConfig, LoraWeights, Target},
	optim::{learning_rate, AdamW, AdamWConfig},
	rng::SplitMix64,
	TrainError,
};
use burn::tensor::backend::AutodiffBackend;
use std::time::Instant;

/// Everything a training run is configured by.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
	/// The adapter's hyperparameters.
	pub lora: LoraConfig,
	/// Peak learning rate.
	pub learning_rate: f32,
	/// Steps of linear warmup.
	pub warmup_steps: u32,
	/// Optimizer steps.
	pub steps: u32,
	/// Examples per micro-batch group (each example runs alone; see the module docs).
	pub batch_size: u16,
	/// Micro-batch groups summed per step.
	pub grad_accum: u16,
	/// Tokens per window (inputs; the window holds one more, the last target).
	pub seq_len: u16,
	/// Documents held out for evaluation, per thousand (see [`super::data::split_score`]).
	pub heldout_permille: u16,
	/// Seeds initialization, data order and dropout.
	pub seed: u64,
	/// Optimizer hyperparameters.
	pub adamw: AdamWConfig,
	/// Gradients are scaled down to this global L2 norm when above it; 0 turns clipping off.
	pub max_grad_norm: f32,
}

impl TrainConfig {
	/// Examples per optimizer step.
	pub fn examples_per_step(&self) -> usize {
		usize::from(self.batch_size.max(1)) * usize::from(self.grad_accum.max(1))
	}

	/// Checks the values.
	pub fn validate(&self) -> Result<(), TrainError> {
		self.lora.validate()?;
		let bad = |what: &str| Err(TrainError::InvalidConfig(what.into()));
		if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
			return bad("learning rate must be in (0, 1]");
		}
		if self.steps == 0 {
			return bad("steps must be at least 1");
		}
		if self.batch_size == 0 || self.grad_accum == 0 {
			return bad("batch size and gradient accumulation must be at least 1");
		}
		if self.seq_len < 2 {
			return bad("sequence length must be at least 2");
		}
		if self.heldout_permille == 0 || self.heldout_permille > 500 {
			return bad("held-out share must be 1..=500 per thousand");
		}
		Ok(())
	}
}

/// What a step did.
#[derive(Debug, Clone, PartialEq)]
pub struct StepLog {
	/// The step, from 1.
	pub step: u32,
	/// Mean training loss of its examples (nats per token, averaged per example).
	pub loss: f32,
	/// The learning rate it used.
	pub learning_rate: f32,
	/// Global L2 norm of its gradient before clipping.
	pub grad_norm: f32,
	/// Tokens predicted in it.
	pub tokens: usize,
	/// Milliseconds since training started.
	pub elapsed_ms: u64,
}

/// Held-out loss: mean cross-entropy per predicted token, and its exponential.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eval {
	/// Nats per token.
	pub loss: f64,
	/// `exp(loss)`.
	pub perplexity: f64,
	/// Tokens predicted.
	pub tokens: usize,
}

/// The outcome of a run, for people (the report file, the plot) and for the chain (the
/// held-out metrics go into the model version's lineage).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
	/// Every step.
	pub steps: Vec<StepLog>,
	/// The base Model on the held-out windows.
	pub before: Eval,
	/// The adapted Model on the held-out windows.
	pub after: Eval,
	/// Training and held-out documents.
	pub train_documents: usize,
	/// Held-out documents.
	pub heldout_documents: usize,
	/// Training windows.
	pub train_examples: usize,
	/// Held-out windows.
	pub heldout_examples: usize,
	/// Trainable values in the adapter.
	pub parameters: usize,
	/// Wall-clock seconds of the whole run (evaluations included).
	pub seconds: f64,
}

/// Called during training; every method has a default that does nothing.
pub trait TrainHooks {
	/// After each example's backward pass, with its loss and its own gradients of the LoRA
	/// parameters (`grads[block][target.index()]`, `a` and `b` laid out as in the adapter).
	fn on_example(
		&mut self,
		_step: u32,
		_example: &Example,
		_loss: f32,
		_grads: &[[Option<LoraWeights>; 7]],
	) {
	}
	/// After each optimizer step.
	fn on_step(&mut self, _log: &StepLog) {}
	/// After each held-out window is scored; `after` is false before training.
	fn on_eval(&mut self, _after: bool, _done: usize, _total: usize) {}
}

impl TrainHooks for () {}

/// Dropout masks drawn from `(seed, step, example, block, target)`.
struct SeededDropout {
	seed: u64,
	step: u32,
	example: usize,
	p: f32,
}

impl DropoutMasks for SeededDropout {
	fn mask(&mut self, block: usize, target: Target, rows: usize, cols: usize) -> Option<Vec<f32>> {
		if self.p <= 0.0 {
			return None;
		}
		let mut rng = SplitMix64::derive(
			self.seed,
			&[0xd0, u64::from(self.step), self.example as u64, block as u64, target.index() as u64],
		);
		let keep = 1.0 / (1.0 - self.p);
		Some((0..rows * cols).map(|_| if rng.unit() < self.p { 0.0 } else { keep }).collect())
	}
}

/// Scores `examples` under `lora` (or the base alone): token-weighted mean loss.
pub fn evaluate<B: AutodiffBackend>(
	base: &BaseModel<B>,
	examples: &[Example],
	lora: Option<&LoraTensors<B>>,
	mut progress: impl FnMut(usize),
) -> Result<Eval, TrainError> {
	let (mut total, mut tokens) = (0f64, 0usize);
	for (i, ex) in examples.iter().enumerate() {
		let loss = host(base.loss(&ex.tokens, lora, None)?)?;
		let n = ex.tokens.len().saturating_sub(1);
		total += f64::from(loss.first().copied().unwrap_or(f32::NAN)) * n as f64;
		tokens += n;
		progress(i + 1);
	}
	let loss = if tokens == 0 { f64::NAN } else { total / tokens as f64 };
	Ok(Eval { loss, perplexity: loss.exp(), tokens })
}

/// The adapter's values as constant tensors (no gradients), for evaluation.
pub fn lora_tensors<B: AutodiffBackend>(
	adapter: &Adapter,
	device: &B::Device,
	track: bool,
) -> LoraTensors<B> {
	let rank = usize::from(adapter.config.rank);
	let blocks = adapter
		.blocks
		.iter()
		.map(|slots| {
			slots.each_ref().map(|w| {
				w.as_ref().map(|w| {
					let a = tensor2::<B>(w.a.clone(), w.input, rank, device);
					let b = tensor2::<B>(w.b.clone(), rank, w.output, device);
					match track {
						true => LoraPair { a: a.require_grad(), b: b.require_grad() },
						false => LoraPair { a, b },
					}
				})
			})
		})
		.collect();
	LoraTensors { blocks, scale: adapter.config.scale() }
}

/// Trains a fresh adapter on `data.train` and evaluates on `data.heldout`.
pub fn train<B: AutodiffBackend>(
	base: &BaseModel<B>,
	data: &Dataset,
	config: &TrainConfig,
	hooks: &mut dyn TrainHooks,
) -> Result<(Adapter, TrainReport), TrainError> {
	config.validate()?;
	if data.train.is_empty() {
		return Err(TrainError::NoData("no training windows"));
	}
	let started = Instant::now();
	let device = base.device();
	let mut adapter = Adapter::init(config.lora.clone(), base.config(), config.seed)?;

	let before =
		evaluate(base, &data.heldout, None, |done| hooks.on_eval(false, done, data.heldout.len()))?;

	let mut order: Vec<usize> = Vec::new();
	let mut epoch = 0u64;
	let mut optimizer = AdamW::new(config.adamw);
	let per_step = config.examples_per_step();
	let mut steps = Vec::with_capacity(config.steps as usize);
	for step in 0..config.steps {
		let lr = learning_rate(config.learning_rate, step, config.warmup_steps, config.steps);
		let mut sum: Vec<[Option<LoraWeights>; 7]> = zeros_like(&adapter);
		let (mut loss_sum, mut tokens) = (0f64, 0usize);
		for example_no in 0..per_step {
			if order.is_empty() {
				order = (0..data.train.len()).collect();
				SplitMix64::derive(config.seed, &[0xda7a, epoch]).shuffle(&mut order);
				order.reverse();
				epoch += 1;
			}
			let Some(example) = order.pop().and_then(|i| data.train.get(i)) else { continue };
			let lora = lora_tensors::<B>(&adapter, device, true);
			let mut dropout = SeededDropout {
				seed: config.seed,
				step,
				example: example_no,
				p: config.lora.dropout,
			};
			let loss = base.loss(&example.tokens, Some(&lora), Some(&mut dropout))?;
			let grads = loss.backward();
			let loss = host(loss.inner())?.first().copied().unwrap_or(f32::NAN);
			if !loss.is_finite() {
				return Err(TrainError::Diverged { step: step + 1 });
			}
			let mut example_grads = zeros_like(&adapter);
			for (slots, pairs) in example_grads.iter_mut().zip(&lora.blocks) {
				for (slot, pair) in slots.iter_mut().zip(pairs) {
					if let (Some(g), Some(pair)) = (slot.as_mut(), pair) {
						g.a = pair.a.grad(&grads).map(host).transpose()?.unwrap_or_default();
						g.b = pair.b.grad(&grads).map(host).transpose()?.unwrap_or_default();
					}
				}
			}
			hooks.on_example(step + 1, example, loss, &example_grads);
			for (acc, g) in
				sum.iter_mut().flatten().flatten().zip(example_grads.iter().flatten().flatten())
			{
				add_into(&mut acc.a, &g.a);
				add_into(&mut acc.b, &g.b);
			}
			loss_sum += f64::from(loss);
			tokens += example.tokens.len().saturating_sub(1);
		}

		// Mean over the step's examples, then clip to the global norm.
		let scale = 1.0 / per_step as f32;
		let mut norm_sq = 0f64;
		for g in sum.iter_mut().flatten().flatten() {
			for v in g.a.iter_mut().chain(g.b.iter_mut()) {
				*v *= scale;
				norm_sq += f64::from(*v) * f64::from(*v);
			}
		}
		let grad_norm = norm_sq.sqrt() as f32;
		if config.max_grad_norm > 0.0 && grad_norm > config.max_grad_norm {
			let clip = config.max_grad_norm / (grad_norm + 1e-6);
			for g in sum.iter_mut().flatten().flatten() {
				g.a.iter_mut().chain(g.b.iter_mut()).for_each(|v| *v *= clip);
			}
		}
		let params = adapter
			.blocks
			.iter_mut()
			.flatten()
			.flatten()
			.zip(sum.iter().flatten().flatten())
			.flat_map(|(p, g)| {
				[(p.a.as_mut_slice(), g.a.as_slice()), (p.b.as_mut_slice(), g.b.as_slice())]
			});
		optimizer.step(lr, params);

		let log = StepLog {
			step: step + 1,
			loss: (loss_sum / per_step as f64) as f32,
			learning_rate: lr,
			grad_norm,
			tokens,
			elapsed_ms: started.elapsed().as_millis() as u64,
		};
		hooks.on_step(&log);
		steps.push(log);
	}

	let trained = lora_tensors::<B>(&adapter, device, false);
	let after = evaluate(base, &data.heldout, Some(&trained), |done| {
		hooks.on_eval(true, done, data.heldout.len())
	})?;
	let heldout_documents = {
		let mut docs: Vec<usize> = data.heldout.iter().map(|e| e.document).collect();
		docs.dedup();
		docs.len()
	};
	let report = TrainReport {
		steps,
		before,
		after,
		train_documents: data.documents.len().saturating_sub(heldout_documents),
		heldout_documents,
		train_examples: data.train.len(),
		heldout_examples: data.heldout.len(),
		parameters: adapter.parameter_count(),
		seconds: started.elapsed().as_secs_f64(),
	};
	Ok((adapter, report))
}

/// Zero gradients shaped like the adapter.
fn zeros_like(adapter: &Adapter) -> Vec<[Option<LoraWeights>; 7]> {
	adapter
		.blocks
		.iter()
		.map(|slots| {
			slots.each_ref().map(|w| {
				w.as_ref().map(|w| LoraWeights {
					input: w.input,
					output: w.output,
					a: vec![0.0; w.a.len()],
					b: vec![0.0; w.b.len()],
				})
			})
		})
		.collect()
}

fn add_into(acc: &mut [f32], g: &[f32]) {
	for (a, g) in acc.iter_mut().zip(g) {
		*a += g;
	}
}
