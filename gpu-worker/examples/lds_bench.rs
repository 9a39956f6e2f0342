//! How well the gradient influence scores predict retraining: the linear datamodeling score
//! (LDS, Park et al. 2023, "TRAK"), on a small random Llama fine-tuned on a synthetic data set,
//! and (with `--timing MODEL.gguf`) what capturing and the serve-time answer gradient cost
//! next to generation on a real Model.
//!
//! **LDS.** Contributions are token sequences drawn from a few "topics" (each a random Markov
//! chain over the vocabulary), so that contributions of one topic help each other. The index is
//! built while training on every contribution ([`IndexBuilder`]); each test sequence (fresh
//! draws from the topics) is scored against it with its exact gradient under the trained
//! adapter ([`full_gradient`]). Then `M` random half-subsets `S_j` are each trained on from
//! scratch (same hyperparameters and seed), and the test loss `L(z; S_j)` measured. For each
//! test sequence `z`, LDS(z) is the Spearman correlation over `j` between the predicted
//! `Σ_{i ∈ S_j} τ(z, i)` and `−L(z; S_j)` (more influence, lower loss); the reported LDS is
//! the mean over test sequences. Scores are computed three ways: the sketch of the last block
//! (the default), the sketch of every block, and exact cosines of the unprojected gradients of
//! every block (what the sketch approximates).
//!
//! ```text
//! cargo run --release -p gpu-worker --example lds_bench -- [--subsets 32] [--contributions 24]
//!     [--topics 4] [--tests 8] [--steps 24] [--seed 1] [--timing MODEL.gguf] [--batch 8]
//! ```

use burn::tensor::Device;
use gpu_worker::{
	attribution::influence::{
		answer_sketch, answer_sketches, answer_sketches_with, full_gradient, BothHooks,
		IndexBuilder, InfluenceIndex, RerunRows, Sketcher, DEFAULT_DIM, DEFAULT_TOP_K,
	},
	model::{
		reference::{BlockWeights, Matrix, Weights},
		LlamaConfig,
	},
	openlora::{
		adapters::synthetic_adapter, AdapterId, AdapterSource, CaptureSpec, Engine, EngineOptions,
		Event, Request, ServeError,
	},
	train::{
		data::{Dataset, Document, Example},
		lora::LoraWeights,
		optim::AdamWConfig,
		rng::SplitMix64,
		trainer::{lora_tensors, train, TrainConfig, TrainHooks},
		Adapter, BaseFiles, BaseModel, CpuTrain, LoraConfig, TailModel, Target,
	},
};
use std::{
	collections::BTreeMap,
	sync::Arc,
	time::{Duration, Instant},
};

type B = CpuTrain;

const VOCAB: usize = 64;
const LEN: usize = 17;

struct Args {
	subsets: usize,
	contributions: usize,
	topics: usize,
	tests: usize,
	steps: u32,
	seed: u64,
	timing: Option<String>,
	batch: usize,
}

fn args() -> Args {
	let mut a = Args {
		subsets: 32,
		contributions: 24,
		topics: 4,
		tests: 8,
		steps: 24,
		seed: 1,
		timing: None,
		batch: 8,
	};
	let argv: Vec<String> = std::env::args().skip(1).collect();
	let mut it = argv.iter();
	while let Some(flag) = it.next() {
		let value = it.next().cloned().unwrap_or_default();
		let num = || value.parse::<u64>().unwrap_or_else(|_| panic!("{flag} {value}"));
		match flag.as_str() {
			"--subsets" => a.subsets = num() as usize,
			"--contributions" => a.contributions = num() as usize,
			"--topics" => a.topics = num() as usize,
			"--tests" => a.tests = num() as usize,
			"--steps" => a.steps = num() as u32,
			"--seed" => a.seed = num(),
			"--timing" => a.timing = Some(value),
			"--batch" => a.batch = num() as usize,
			other => panic!("unknown flag {other}"),
		}
	}
	a
}

/// A random Llama: 2 blocks, dim 32, 4 heads over 2 key/value heads, tied embeddings.
fn tiny_model(seed: u64) -> (LlamaConfig, Weights) {
	let (dim, kv, ffn) = (32, 16, 64);
	let mut rng = SplitMix64::new(seed);
	let mut m = |rows: usize, cols: usize, scale: f32| {
		Matrix::new(rows, cols, (0..rows * cols).map(|_| rng.uniform(-scale, scale)).collect())
			.expect("shape")
	};
	let s = 1.0 / (dim as f32).sqrt();
	let blocks = (0..2)
		.map(|_| BlockWeights {
			attn_norm: vec![1.0; dim],
			attn_q: m(dim, dim, s),
			attn_k: m(kv, dim, s),
			attn_v: m(kv, dim, s),
			attn_output: m(dim, dim, s),
			ffn_norm: vec![1.0; dim],
			ffn_gate: m(ffn, dim, s),
			ffn_up: m(ffn, dim, s),
			ffn_down: m(dim, ffn, 1.0 / (ffn as f32).sqrt()),
		})
		.collect();
	let weights = Weights {
		token_embd: m(VOCAB, dim, 1.0),
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
		rope_dimension_count: 8,
		rms_norm_eps: 1e-5,
		context_length: 64,
		vocab_size: VOCAB,
		tied_embeddings: true,
	};
	(config, weights)
}

/// A topic: each token's 3 likely successors.
fn topic(rng: &mut SplitMix64) -> Vec<[u32; 3]> {
	(0..VOCAB).map(|_| std::array::from_fn(|_| rng.below(VOCAB) as u32)).collect()
}

/// A sequence from `topic`: mostly its successors, sometimes a random token.
fn draw(topic: &[[u32; 3]], rng: &mut SplitMix64) -> Vec<u32> {
	let mut t = vec![rng.below(VOCAB) as u32];
	while t.len() < LEN {
		let last = *t.last().unwrap_or(&0) as usize;
		let next = match rng.unit() < 0.1 {
			true => rng.below(VOCAB) as u32,
			false => topic[last][rng.below(3)],
		};
		t.push(next);
	}
	t
}

fn config(steps: u32, seed: u64) -> TrainConfig {
	TrainConfig {
		lora: LoraConfig { rank: 4, alpha: 8, dropout: 0.0, targets: Target::ALL.to_vec() },
		learning_rate: 1e-2,
		warmup_steps: 2,
		steps,
		batch_size: 2,
		grad_accum: 2,
		seq_len: LEN as u16,
		heldout_permille: 250,
		seed,
		adamw: AdamWConfig::default(),
		max_grad_norm: 1.0,
	}
}

fn dataset(examples: &[(u64, Vec<u32>)], heldout: &[u32]) -> Dataset {
	let documents = (0..=examples.len())
		.map(|i| Document { contribution: i as u64, hash: [0; 32], text: String::new() })
		.collect();
	Dataset {
		documents,
		train: examples
			.iter()
			.enumerate()
			.map(|(i, (c, t))| Example { document: i, contribution: *c, tokens: t.clone() })
			.collect(),
		heldout: vec![Example {
			document: examples.len(),
			contribution: u64::MAX,
			tokens: heldout.to_vec(),
		}],
	}
}

/// Exact gradient cosines: per contribution the mean of its examples' unit gradients (every
/// block), flattened.
#[derive(Default)]
struct ExactIndex {
	rows: BTreeMap<u64, (Vec<f64>, u64)>,
}

fn flatten(grads: &[[Option<LoraWeights>; 7]]) -> Vec<f64> {
	grads
		.iter()
		.flatten()
		.flatten()
		.flat_map(|w| w.a.iter().chain(&w.b))
		.map(|v| f64::from(*v))
		.collect()
}

fn unit(v: Vec<f64>) -> Vec<f64> {
	let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
	v.into_iter().map(|x| if n > 0.0 { x / n } else { 0.0 }).collect()
}

impl TrainHooks for ExactIndex {
	fn on_example(
		&mut self,
		_: u32,
		example: &Example,
		_: f32,
		grads: &[[Option<LoraWeights>; 7]],
	) {
		let g = unit(flatten(grads));
		let (sum, count) =
			self.rows.entry(example.contribution).or_insert_with(|| (vec![0.0; g.len()], 0));
		sum.iter_mut().zip(&g).for_each(|(s, v)| *s += v);
		*count += 1;
	}
}

impl ExactIndex {
	fn score(&self, grads: &[[Option<LoraWeights>; 7]]) -> Vec<(u64, f64)> {
		let g = unit(flatten(grads));
		self.rows
			.iter()
			.map(|(id, (sum, _))| {
				let row = unit(sum.clone());
				(*id, row.iter().zip(&g).map(|(a, b)| a * b).sum())
			})
			.collect()
	}
}

fn ranks(v: &[f64]) -> Vec<f64> {
	let mut order: Vec<usize> = (0..v.len()).collect();
	order.sort_by(|a, b| v[*a].total_cmp(&v[*b]));
	let mut r = vec![0.0; v.len()];
	let mut i = 0;
	while i < order.len() {
		let mut j = i;
		while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
			j += 1;
		}
		for k in i..=j {
			r[order[k]] = (i + j) as f64 / 2.0;
		}
		i = j + 1;
	}
	r
}

fn spearman(x: &[f64], y: &[f64]) -> f64 {
	let (rx, ry) = (ranks(x), ranks(y));
	let n = rx.len() as f64;
	let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
	let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
	let vx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum();
	let vy: f64 = ry.iter().map(|b| (b - my).powi(2)).sum();
	match vx > 0.0 && vy > 0.0 {
		true => cov / (vx * vy).sqrt(),
		false => 0.0,
	}
}

fn loss(base: &BaseModel<B>, adapter: &Adapter, tokens: &[u32]) -> f64 {
	let lora = lora_tensors::<B>(adapter, base.device(), false);
	let l = base.loss(tokens, Some(&lora), None).expect("loss");
	f64::from(gpu_worker::train::host(l).expect("host")[0])
}

fn lds(a: &Args) {
	let (model, weights) = tiny_model(a.seed);
	let device: Device<B> = Default::default();
	let base = BaseModel::<B>::new(model.clone(), &weights, &device).expect("model");
	let mut rng = SplitMix64::new(a.seed ^ 0x1d5);
	let topics: Vec<Vec<[u32; 3]>> = (0..a.topics).map(|_| topic(&mut rng)).collect();
	let examples: Vec<(u64, Vec<u32>)> =
		(0..a.contributions).map(|i| (i as u64, draw(&topics[i % a.topics], &mut rng))).collect();
	let tests: Vec<Vec<u32>> =
		(0..a.tests).map(|i| draw(&topics[i % a.topics], &mut rng)).collect();
	let heldout = draw(&topics[0], &mut rng);

	// The index, from training on everything.
	let started = Instant::now();
	let mut last = IndexBuilder::new(Sketcher::last_blocks(DEFAULT_DIM, 7, model.block_count, 1));
	let mut all = IndexBuilder::new(Sketcher::last_blocks(DEFAULT_DIM, 7, model.block_count, 2));
	let mut exact = ExactIndex::default();
	let full_data = dataset(&examples, &heldout);
	let (adapter, report) = {
		let mut both = BothHooks(&mut last, &mut all);
		let mut hooks = BothHooks(&mut both, &mut exact);
		train(&base, &full_data, &config(a.steps, a.seed), &mut hooks).expect("train")
	};
	let (last, all): (InfluenceIndex, InfluenceIndex) = (last.finish(), all.finish());
	println!(
		"full run: {} contributions, held-out loss {:.3} -> {:.3}, {:.1} s (index built alongside)",
		examples.len(),
		report.before.loss,
		report.after.loss,
		started.elapsed().as_secs_f64()
	);
	let mut taus: Vec<[Vec<f64>; 3]> = Vec::new();
	for z in &tests {
		let g = full_gradient(&base, &adapter, z, 1, 0).expect("gradient");
		let s_last = last.score(&last.sketcher().sketch(&g));
		let s_all = all.score(&all.sketcher().sketch(&g));
		let s_exact = exact.score(&g);
		let v = |s: Vec<(u64, f64)>| s.into_iter().map(|(_, x)| x).collect::<Vec<f64>>();
		taus.push([v(s_last), v(s_all), v(s_exact)]);
	}

	// Retrain on M random halves.
	let started = Instant::now();
	let mut predicted: Vec<[Vec<f64>; 3]> = vec![Default::default(); tests.len()];
	let mut actual: Vec<Vec<f64>> = vec![Vec::new(); tests.len()];
	for j in 0..a.subsets {
		let mut ids: Vec<usize> = (0..examples.len()).collect();
		SplitMix64::derive(a.seed, &[0x5b, j as u64]).shuffle(&mut ids);
		ids.truncate(examples.len() / 2);
		ids.sort_unstable();
		let subset: Vec<(u64, Vec<u32>)> = ids.iter().map(|i| examples[*i].clone()).collect();
		let (adapter_j, _) =
			train(&base, &dataset(&subset, &heldout), &config(a.steps, a.seed), &mut ())
				.expect("train");
		for (t, z) in tests.iter().enumerate() {
			actual[t].push(-loss(&base, &adapter_j, z));
			for (k, tau) in taus[t].iter().enumerate() {
				predicted[t][k].push(ids.iter().map(|i| tau[*i]).sum());
			}
		}
	}
	println!(
		"{} subsets of {} retrained in {:.1} s",
		a.subsets,
		examples.len() / 2,
		started.elapsed().as_secs_f64()
	);
	for (k, name) in
		["sketch D=512, last block", "sketch D=512, all blocks", "exact cosine, all blocks"]
			.iter()
			.enumerate()
	{
		let per: Vec<f64> =
			(0..tests.len()).map(|t| spearman(&predicted[t][k], &actual[t])).collect();
		let mean = per.iter().sum::<f64>() / per.len() as f64;
		let sd = (per.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / per.len() as f64).sqrt();
		println!(
			"LDS ({name}): {mean:.3} (sd over {} test sequences {sd:.3}), M = {}",
			per.len(),
			a.subsets
		);
	}
}

/// One adapter, from memory.
struct OneAdapter(AdapterId, Adapter);

impl AdapterSource for OneAdapter {
	fn load(&self, id: AdapterId, _: &LlamaConfig) -> Result<Adapter, ServeError> {
		match id == self.0 {
			true => Ok(self.1.clone()),
			false => Err(ServeError::UnknownAdapter(id)),
		}
	}
}

fn timing(path: &str, a: &Args) {
	let base = BaseFiles::open(std::path::Path::new(path)).expect("model");
	let c = base.config.clone();
	let adapter = synthetic_adapter(&c, 16, &Target::ALL, 0.02, 3).expect("adapter");
	let id = AdapterId::repeat_byte(1);
	let layer = c.block_count - 1;
	let options = EngineOptions { max_batch: a.batch, slab_slots: 2, ..EngineOptions::default() };
	let mut rng = SplitMix64::new(a.seed);
	let prompts: Vec<Vec<u32>> =
		(0..a.batch).map(|_| (0..32).map(|_| rng.below(c.vocab_size) as u32).collect()).collect();
	let run = |capture: bool| {
		let source = Arc::new(OneAdapter(id, adapter.clone()));
		let mut engine =
			Engine::with_source(c.clone(), &base.weights, options.clone(), source, None)
				.expect("engine");
		// Warm the adapter into its slot first.
		let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
		let warm =
			Request { adapter: Some(id), prompt: vec![1], max_tokens: 1, ..Request::default() };
		engine.add_request(warm, tx).expect("warm");
		engine.run_until_idle(Duration::from_secs(60)).expect("warm");
		let mut streams = Vec::new();
		let started = Instant::now();
		for p in &prompts {
			let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
			let r = Request {
				adapter: Some(id),
				prompt: p.clone(),
				max_tokens: 32,
				..Request::default()
			};
			let (reply, capture_rx) = tokio::sync::oneshot::channel();
			let spec = CaptureSpec { layer, top_k: DEFAULT_TOP_K };
			engine
				.add_request_with_capture(r, tx, capture.then_some((spec, reply)))
				.expect("request");
			streams.push((rx, capture_rx));
		}
		engine.run_until_idle(Duration::from_secs(600)).expect("run");
		let ms = started.elapsed().as_secs_f64() * 1e3;
		let captures: Vec<_> =
			streams.into_iter().filter_map(|(_, mut c)| c.try_recv().ok()).collect();
		(ms, captures, engine.stats().capture_us as f64 / 1e3)
	};
	// Plain and captured generation alternate, in pairs: the medians, and the median of the
	// paired differences, keep a shared machine's drift out of the capture's cost.
	const PAIRS: usize = 4;
	let mut pairs = Vec::new();
	let mut captures = Vec::new();
	let mut recorded = Vec::new();
	for pair in 0..PAIRS {
		// Which of the two runs first alternates too.
		let (plain, (captured, c, capture_ms)) = match pair % 2 {
			0 => (run(false).0, run(true)),
			_ => {
				let second = run(true);
				(run(false).0, second)
			}
		};
		pairs.push((plain, captured));
		recorded.push(capture_ms);
		captures = c;
	}
	let median = |mut v: Vec<f64>| {
		v.sort_by(f64::total_cmp);
		let mid = v.len() / 2;
		match v.len() % 2 {
			0 => {
				(v.get(mid.wrapping_sub(1)).copied().unwrap_or(0.0)
					+ v.get(mid).copied().unwrap_or(0.0))
					/ 2.0
			}
			_ => v.get(mid).copied().unwrap_or(0.0),
		}
	};
	let plain_ms = median(pairs.iter().map(|p| p.0).collect());
	let captured_ms = median(pairs.iter().map(|p| p.1).collect());
	let difference_ms = median(pairs.iter().map(|p| p.1 - p.0).collect());
	// The capture's own cost, timed inside the engine (EngineStats::capture_us).
	let capture_ms = median(recorded);
	let device: Device<B> = Default::default();
	let tail = TailModel::<B>::new(c.clone(), &base.weights, layer, &device).expect("tail");
	let sketcher = Sketcher::last_blocks(DEFAULT_DIM, 7, c.block_count, 1);
	let started = Instant::now();
	let sketches: Vec<Vec<f32>> = captures
		.iter()
		.map(|cap| answer_sketch(&tail, &adapter, cap, &sketcher).expect("sketch"))
		.collect();
	let gradient_ms = started.elapsed().as_secs_f64() * 1e3;
	// The same answers computed together, as the attribution thread does: half the batch
	// under a second adapter of the same shape, so the batch is a mixed-adapter one.
	let other = synthetic_adapter(&c, 16, &Target::ALL, 0.02, 4).expect("adapter");
	let answers: Vec<_> = captures
		.iter()
		.enumerate()
		.map(|(i, cap)| (if i % 2 == 0 { &adapter } else { &other }, cap, &sketcher))
		.collect();
	let started = Instant::now();
	let batched: Vec<Vec<f32>> = answer_sketches(&tail, &answers)
		.into_iter()
		.collect::<Result<_, _>>()
		.expect("batched sketches");
	let batched_ms = started.elapsed().as_secs_f64() * 1e3;
	// The baseline: the same batch with the last block rerun at every position.
	let started = Instant::now();
	let every: Vec<Vec<f32>> = answer_sketches_with(&tail, &answers, RerunRows::All)
		.into_iter()
		.collect::<Result<_, _>>()
		.expect("batched sketches, every position");
	let every_ms = started.elapsed().as_secs_f64() * 1e3;
	let rel = |a: &[f32], b: &[f32]| {
		let diff: f32 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
		let norm: f32 = a.iter().map(|x| x * x).sum();
		(diff / norm.max(f32::MIN_POSITIVE)).sqrt()
	};
	let every_worst = every.iter().zip(&batched).map(|(a, b)| rel(a, b)).fold(0f32, f32::max);
	// The answers under `adapter` must sketch as they did one at a time.
	let worst =
		sketches.iter().zip(&batched).step_by(2).map(|(a, b)| rel(a, b)).fold(0f32, f32::max);
	// An index of 100k contributions, scored in one batch.
	let n = 100_000;
	let index = InfluenceIndex {
		dim: DEFAULT_DIM,
		seed: sketcher.seed,
		blocks: sketcher.blocks.clone(),
		contributions: (0..n as u64).collect(),
		sketches: (0..n * DEFAULT_DIM).map(|_| rng.uniform(-1.0, 1.0) / 13.0).collect(),
	};
	let started = Instant::now();
	let scores = index.score_batch(&sketches);
	let score_ms = started.elapsed().as_secs_f64() * 1e3;
	println!(
		"{path}: batch of {} requests, 32 prompt + 32 answer tokens, rank-16 adapter on all targets",
		a.batch
	);
	println!("  generation (median of {PAIRS} alternating pairs of runs): {plain_ms:.0} ms plain, {captured_ms:.0} ms with capture (block {layer}, top-{DEFAULT_TOP_K}); the capture itself takes {capture_ms:.1} ms on the engine thread ({:.2}%; median paired difference of the runs {difference_ms:.0} ms)", 100.0 * capture_ms / plain_ms);
	let answers_n = sketches.len().max(1) as f64;
	println!(
		"  answer gradients (block {layer} rerun in burn, CPU) + sketches, one at a time: {gradient_ms:.0} ms for {} answers ({:.1} ms each, {:.1}% of plain generation)",
		sketches.len(),
		gradient_ms / answers_n,
		100.0 * gradient_ms / plain_ms
	);
	println!(
		"  the same, batched (one rerun, two adapters): {batched_ms:.0} ms for {} answers ({:.1} ms each, {:.1}% of plain generation); worst relative difference {worst:.1e}",
		batched.len(),
		batched_ms / answers_n,
		100.0 * batched_ms / plain_ms
	);
	println!(
		"  baseline: the same batch rerunning every position of the last block: {every_ms:.0} ms ({:.1}% of plain generation); worst relative difference {every_worst:.1e}",
		100.0 * every_ms / plain_ms
	);
	println!(
		"  scoring the batch against {n} contributions: {score_ms:.1} ms ({} rows back, {:.1}% of plain generation)",
		scores.len(),
		100.0 * score_ms / plain_ms
	);
	println!(
		"  the influence path in all (capture + batched gradients + scoring): {:.0} ms, {:.1}% of plain generation",
		capture_ms + batched_ms + score_ms,
		100.0 * (capture_ms + batched_ms + score_ms) / plain_ms
	);
}

fn main() {
	let a = args();
	match &a.timing {
		Some(path) => timing(path, &a),
		None => lds(&a),
	}
}
