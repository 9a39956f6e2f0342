//! Training on a tiny randomly initialized Model: the burn forward pass against the plain-Rust
//! reference (base and merged adapter), gradients against finite differences, determinism, PEFT
//! round trips, the data split and the report files.

use super::{
	data::{split_score, Dataset, Document, Example},
	llama::{BaseModel, LoraTensors},
	lora::{Adapter, LoraConfig, LoraWeights, Target},
	optim::AdamWConfig,
	report::{loss_curve_png, report_json},
	trainer::{lora_tensors, train, TrainConfig, TrainHooks},
	CpuTrain, TrainError,
};
use crate::model::{
	reference::{ReferenceModel, Weights},
	testing::tiny_llama,
	tokenizer::{byte_to_char, PreTokenizer, TokenKind},
	LlamaConfig, Tokenizer,
};

type B = CpuTrain;

/// A random tiny Llama over the 258 tokens of [`bytes_tokenizer`].
fn tiny(seed: u32) -> (LlamaConfig, Weights) {
	let mut state = seed;
	tiny_llama(258, move || {
		state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
		((state >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 0.6
	})
}

/// A byte-level tokenizer for the tiny Model: 256 byte tokens, then an end-of-text control.
fn bytes_tokenizer() -> Tokenizer {
	let mut tokens: Vec<String> = (0..=255).map(|b| byte_to_char(b).to_string()).collect();
	tokens.extend(["<|endoftext|>".to_string(), "<|pad|>".to_string()]);
	let mut kinds = vec![TokenKind::Normal; 256];
	kinds.extend([TokenKind::Control, TokenKind::Control]);
	let mut t = Tokenizer::new(tokens, kinds, &[], PreTokenizer::Gpt2).unwrap();
	t.set_special_ids(None, Some(256));
	t
}

fn device() -> burn::tensor::Device<B> {
	Default::default()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
	assert_eq!(a.len(), b.len());
	a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Logits of every position from the reference, row after row.
fn reference_logits(config: &LlamaConfig, weights: &Weights, tokens: &[u32]) -> Vec<f32> {
	let mut model = ReferenceModel::new(config.clone(), weights.clone());
	tokens.iter().enumerate().flat_map(|(pos, t)| model.logits(*t, pos).unwrap()).collect()
}

fn lora(targets: &[Target]) -> LoraConfig {
	LoraConfig { rank: 4, alpha: 8, dropout: 0.0, targets: targets.to_vec() }
}

/// An adapter with non-zero `b` (a fresh one starts at `b = 0`, an exact no-op).
fn busy_adapter(config: &LlamaConfig, targets: &[Target], seed: u64) -> Adapter {
	let mut adapter = Adapter::init(lora(targets), config, seed).unwrap();
	let mut rng = super::rng::SplitMix64::new(seed);
	for w in adapter.blocks.iter_mut().flatten().flatten() {
		w.b.iter_mut().for_each(|v| *v = rng.uniform(-0.3, 0.3));
	}
	adapter
}

#[test]
fn burn_forward_matches_the_reference_model() {
	let (config, weights) = tiny(3);
	let base = BaseModel::<B>::new(config.clone(), &weights, &device()).unwrap();
	let tokens = [5u32, 77, 200, 3, 3, 150, 9];
	let ours = super::host(base.forward(&tokens, None, None).unwrap()).unwrap();
	let theirs = reference_logits(&config, &weights, &tokens);
	assert!(max_diff(&ours, &theirs) < 1e-4, "max diff {}", max_diff(&ours, &theirs));
}

#[test]
fn an_adapter_computes_what_its_merged_weights_compute() {
	let (config, weights) = tiny(4);
	let base = BaseModel::<B>::new(config.clone(), &weights, &device()).unwrap();
	let adapter = busy_adapter(&config, &Target::ALL, 9);
	let lora: LoraTensors<B> = lora_tensors(&adapter, &device(), false);
	let tokens = [1u32, 2, 3, 250, 17];
	let adapted = super::host(base.forward(&tokens, Some(&lora), None).unwrap()).unwrap();
	let mut merged = weights.clone();
	adapter.merge_into(&mut merged);
	let reference = reference_logits(&config, &merged, &tokens);
	assert!(max_diff(&adapted, &reference) < 1e-4, "max diff {}", max_diff(&adapted, &reference));
	// And the adapter does change the output.
	let plain = reference_logits(&config, &weights, &tokens);
	assert!(max_diff(&adapted, &plain) > 1e-2);
}

#[test]
fn forward_refuses_bad_sequences() {
	let (config, weights) = tiny(5);
	let base = BaseModel::<B>::new(config, &weights, &device()).unwrap();
	assert!(matches!(base.forward(&[], None, None), Err(TrainError::EmptySequence)));
	assert!(matches!(base.loss(&[4], None, None), Err(TrainError::EmptySequence)));
	assert!(matches!(
		base.forward(&[1, 258], None, None),
		Err(TrainError::TokenOutOfRange { token: 258, .. })
	));
	assert!(matches!(
		base.forward(&[1; 65], None, None),
		Err(TrainError::SequenceTooLong { len: 65, context: 64 })
	));
}

/// Per-example gradients: `grads[block][target]`.
type Grads = Vec<[Option<LoraWeights>; 7]>;

/// Records every per-example gradient.
#[derive(Default)]
struct Recorder {
	examples: Vec<(u32, u64, f32, Grads)>,
	steps: Vec<f32>,
}

impl TrainHooks for Recorder {
	fn on_example(
		&mut self,
		step: u32,
		example: &Example,
		loss: f32,
		grads: &[[Option<LoraWeights>; 7]],
	) {
		self.examples.push((step, example.contribution, loss, grads.to_vec()));
	}
	fn on_step(&mut self, log: &super::trainer::StepLog) {
		self.steps.push(log.loss);
	}
}

#[test]
fn per_example_gradients_match_finite_differences() {
	let (config, weights) = tiny(6);
	let base = BaseModel::<B>::new(config.clone(), &weights, &device()).unwrap();
	let adapter = busy_adapter(&config, &[Target::Q, Target::V, Target::Down], 2);
	let tokens = vec![10u32, 20, 30, 40, 50, 60];
	let lora: LoraTensors<B> = lora_tensors(&adapter, &device(), true);
	let loss = base.loss(&tokens, Some(&lora), None).unwrap();
	let grads = loss.backward();
	let analytic_a =
		super::host(lora.blocks[1][0].as_ref().unwrap().a.grad(&grads).unwrap()).unwrap();
	let analytic_b =
		super::host(lora.blocks[0][6].as_ref().unwrap().b.grad(&grads).unwrap()).unwrap();

	let loss_with = |adapter: &Adapter| -> f64 {
		let t: LoraTensors<B> = lora_tensors(adapter, &device(), false);
		f64::from(super::host(base.loss(&tokens, Some(&t), None).unwrap()).unwrap()[0])
	};
	let eps = 1e-2f32;
	for (block, target, which, index, analytic) in
		[(1usize, 0usize, 'a', 5usize, analytic_a[5]), (0, 6, 'b', 3, analytic_b[3])]
	{
		let mut plus = adapter.clone();
		let mut minus = adapter.clone();
		for (a, sign) in [(&mut plus, 1.0), (&mut minus, -1.0)] {
			let w = a.blocks[block][target].as_mut().unwrap();
			let v = if which == 'a' { &mut w.a[index] } else { &mut w.b[index] };
			*v += sign * eps;
		}
		let numeric = (loss_with(&plus) - loss_with(&minus)) / (2.0 * f64::from(eps));
		let err = (numeric - f64::from(analytic)).abs();
		assert!(
			err < 2e-3 + 0.02 * numeric.abs(),
			"{which}[{index}] of block {block}: numeric {numeric}, analytic {analytic}"
		);
		assert!(analytic.abs() > 1e-5, "a gradient that is exactly zero tests nothing");
	}
}

fn documents() -> Vec<Document> {
	(0..12u64)
		.map(|i| {
			let text = format!(
				"fact {i}: the {} of item {i} is {}.",
				["colour", "size", "shape"][i as usize % 3],
				i * 7 % 10
			);
			Document { contribution: i, hash: sp_crypto_hashing::blake2_256(text.as_bytes()), text }
		})
		.collect()
}

fn train_config(seed: u64) -> TrainConfig {
	TrainConfig {
		lora: LoraConfig {
			rank: 4,
			alpha: 8,
			dropout: 0.1,
			targets: vec![Target::Q, Target::V, Target::Up],
		},
		learning_rate: 2e-2,
		warmup_steps: 2,
		steps: 8,
		batch_size: 2,
		grad_accum: 2,
		seq_len: 16,
		heldout_permille: 250,
		seed,
		adamw: AdamWConfig::default(),
		max_grad_norm: 1.0,
	}
}

#[test]
fn training_lowers_the_loss_and_is_byte_for_byte_reproducible() {
	let (config, weights) = tiny(7);
	let base = BaseModel::<B>::new(config.clone(), &weights, &device()).unwrap();
	let data = Dataset::build(documents(), &bytes_tokenizer(), 16, 250);
	assert!(!data.train.is_empty() && !data.heldout.is_empty());

	let mut recorder = Recorder::default();
	let (adapter, report) = train(&base, &data, &train_config(1), &mut recorder).unwrap();
	assert_eq!(report.steps.len(), 8);
	assert_eq!(recorder.steps.len(), 8);
	// Every example of every step reached the hook, with its own gradients.
	assert_eq!(recorder.examples.len(), 8 * 4);
	let first_b: f32 = recorder.examples[0]
		.3
		.iter()
		.flatten()
		.flatten()
		.map(|g| g.b.iter().map(|v| v.abs()).sum::<f32>())
		.sum();
	assert!(first_b > 0.0);
	assert_ne!(recorder.examples[0].3, recorder.examples[1].3, "two examples, two gradients");
	// Training fits the training data: the last steps' loss is below the first's.
	let early = report.steps[0].loss;
	let late = report.steps[6..].iter().map(|s| s.loss).sum::<f32>() / 2.0;
	assert!(late < early, "loss went from {early} to {late}");
	assert!(report.before.loss.is_finite() && report.after.loss.is_finite());
	assert!((report.before.perplexity - report.before.loss.exp()).abs() < 1e-9);
	assert_eq!(report.parameters, adapter.parameter_count());

	let (again, _) = train(&base, &data, &train_config(1), &mut ()).unwrap();
	assert_eq!(adapter.to_safetensors(&config), again.to_safetensors(&config));
	let (other, _) = train(&base, &data, &train_config(2), &mut ()).unwrap();
	assert_ne!(adapter.to_safetensors(&config), other.to_safetensors(&config));
}

#[test]
fn training_refuses_bad_configs_and_empty_data() {
	let (config, weights) = tiny(8);
	let base = BaseModel::<B>::new(config, &weights, &device()).unwrap();
	let data = Dataset::build(documents(), &bytes_tokenizer(), 16, 250);
	for bad in [
		TrainConfig { steps: 0, ..train_config(1) },
		TrainConfig { learning_rate: 0.0, ..train_config(1) },
		TrainConfig { batch_size: 0, ..train_config(1) },
		TrainConfig { seq_len: 1, ..train_config(1) },
		TrainConfig { heldout_permille: 0, ..train_config(1) },
	] {
		assert!(matches!(train(&base, &data, &bad, &mut ()), Err(TrainError::InvalidConfig(_))));
	}
	let empty = Dataset::default();
	assert!(matches!(train(&base, &empty, &train_config(1), &mut ()), Err(TrainError::NoData(_))));
}

#[test]
fn peft_files_round_trip() {
	let (config, _) = tiny(9);
	let adapter = busy_adapter(&config, &[Target::Q, Target::K, Target::Down], 5);
	let dir = tempfile::tempdir().unwrap();
	let (tensors, json) = adapter.save_peft(dir.path(), &config, "tiny").unwrap();
	assert_eq!(std::fs::read(dir.path().join("adapter_model.safetensors")).unwrap(), tensors);
	let cfg: serde_json::Value = serde_json::from_slice(&json).unwrap();
	assert_eq!(cfg["peft_type"], "LORA");
	assert_eq!(cfg["r"], 4);
	assert_eq!(cfg["lora_alpha"], 8);
	assert_eq!(cfg["target_modules"], serde_json::json!(["q_proj", "k_proj", "down_proj"]));
	let file = crate::model::SafeTensors::from_bytes(tensors).unwrap();
	let a = file.tensor("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight").unwrap();
	assert_eq!(a.shape, vec![4, 16]);
	let b = file.tensor("base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight").unwrap();
	assert_eq!(b.shape, vec![8, 4]);
	assert_eq!(file.tensors().len(), 2 * 3 * 2);
	assert_eq!(Adapter::load_peft(dir.path(), &config).unwrap(), adapter);
	// A missing file is a named error.
	std::fs::remove_file(dir.path().join("adapter_config.json")).unwrap();
	assert!(matches!(Adapter::load_peft(dir.path(), &config), Err(TrainError::Io(_))));
}

#[test]
fn the_split_is_by_hash_and_keeps_both_sides() {
	let tokenizer = bytes_tokenizer();
	let docs = documents();
	let a = Dataset::build(docs.clone(), &tokenizer, 16, 250);
	let mut reversed = docs.clone();
	reversed.reverse();
	let b = Dataset::build(reversed, &tokenizer, 16, 250);
	let held = |d: &Dataset| {
		let mut c: Vec<u64> = d.heldout.iter().map(|e| e.contribution).collect();
		c.sort();
		c.dedup();
		c
	};
	assert_eq!(held(&a), held(&b), "order does not change the split");
	let expected: Vec<u64> =
		docs.iter().filter(|d| split_score(&d.hash) < 250).map(|d| d.contribution).collect();
	if !expected.is_empty() && expected.len() < docs.len() {
		assert_eq!(held(&a), expected);
	}
	// Windows overlap by one token and cover each document's tokens.
	let doc0: Vec<&Example> =
		a.train.iter().chain(&a.heldout).filter(|e| e.contribution == 0).collect();
	let predicted: usize = doc0.iter().map(|e| e.tokens.len() - 1).sum();
	assert_eq!(
		predicted,
		docs[0].text.len(),
		"every byte and the end token after the first are predicted"
	);
	// Two documents, a tiny held-out share: still one held out and one trained on.
	let two = Dataset::build(docs[..2].to_vec(), &tokenizer, 16, 1);
	assert!(!two.train.is_empty() && !two.heldout.is_empty());
}

#[test]
fn report_json_and_png() {
	let (config, weights) = tiny(10);
	let base = BaseModel::<B>::new(config, &weights, &device()).unwrap();
	let data = Dataset::build(documents(), &bytes_tokenizer(), 16, 250);
	let cfg = TrainConfig { steps: 3, ..train_config(3) };
	let (_, report) = train(&base, &data, &cfg, &mut ()).unwrap();
	let json = report_json(&report, &cfg, "tiny");
	assert_eq!(json["steps"].as_array().unwrap().len(), 3);
	assert_eq!(json["config"]["rank"], 4);
	assert!(json["heldout_after"]["perplexity"].as_f64().unwrap() > 1.0);
	let png = loss_curve_png(&report).unwrap();
	let decoder = png::Decoder::new(std::io::Cursor::new(png));
	let mut reader = decoder.read_info().unwrap();
	let mut pixels = vec![0; reader.output_buffer_size()];
	let info = reader.next_frame(&mut pixels).unwrap();
	assert_eq!((info.width, info.height), (640, 400));
	// The curve is drawn: some pixels are the line's blue.
	assert!(pixels.chunks(3).any(|p| p == [31, 100, 200]));
}
