//! The ModelFactory against the real SmolLM2-135M-Instruct (Q4_1) GGUF file: the burn forward
//! pass matches the plain-Rust reference, and a short LoRA run lowers held-out loss and saves a
//! PEFT adapter that reads back.
//!
//! The file is found as in `tests/model.rs`; without it each test says so and passes without
//! checking anything.

use gpu_worker::{
	model::{gguf::GgufFile, reference::ReferenceModel},
	train::{self, data::Document, Adapter, BaseFiles, CpuTrain, Dataset, LoraConfig, Target, TrainConfig},
};
use std::path::PathBuf;

fn model_path() -> Option<PathBuf> {
	let path = match std::env::var_os("OPENLEDGER_SMOLLM2") {
		Some(path) => PathBuf::from(path),
		None => match std::env::var_os("OPENLEDGER_MODELS") {
			Some(dir) => PathBuf::from(dir),
			None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/openledger/models"),
		}
		.join("SmolLM2-135M-Instruct.Q4_1.gguf"),
	};
	if !path.is_file() {
		println!("skipped: SmolLM2 GGUF not found at {}; run scripts/fetch-model.sh", path.display());
		return None;
	}
	Some(path)
}

#[test]
fn burn_logits_match_the_reference_on_smollm2() {
	let Some(path) = model_path() else { return };
	let base = BaseFiles::open(&path).unwrap();
	let tokens = base.tokenizer.encode("The capital of France is");
	let model = base.to_device::<CpuTrain>(&Default::default()).unwrap();
	let ours = train::host(model.forward(&tokens, None, None).unwrap()).unwrap();
	let mut reference = ReferenceModel::load(&GgufFile::open(&path).unwrap()).unwrap();
	let vocab = base.config.vocab_size;
	let mut worst = 0f32;
	for (pos, token) in tokens.iter().enumerate() {
		let theirs = reference.logits(*token, pos).unwrap();
		let row = &ours[pos * vocab..(pos + 1) * vocab];
		let diff = row.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
		worst = worst.max(diff);
		let argmax = |v: &[f32]| v.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
		assert_eq!(argmax(row), argmax(&theirs), "position {pos}");
	}
	println!("max |burn - reference| over {} positions x {vocab} logits: {worst:e}", tokens.len());
	assert!(worst < 1e-2, "max logit difference {worst}");
}

#[test]
fn a_short_lora_run_on_smollm2_lowers_heldout_loss() {
	let Some(path) = model_path() else { return };
	let base = BaseFiles::open(&path).unwrap();
	let documents: Vec<Document> = (0..12u64)
		.map(|i| {
			let text = format!("Fact {i}: the vault number {i} opens with the code {}.", i * 37 % 100);
			Document { contribution: i, hash: sp_crypto_hashing::blake2_256(text.as_bytes()), text }
		})
		.collect();
	let data = Dataset::build(documents, &base.tokenizer, 32, 100);
	let config = TrainConfig {
		lora: LoraConfig { rank: 4, alpha: 8, dropout: 0.0, targets: vec![Target::Q, Target::V] },
		learning_rate: 2e-3,
		warmup_steps: 1,
		steps: 4,
		batch_size: 1,
		grad_accum: 2,
		seq_len: 32,
		heldout_permille: 100,
		seed: 11,
		adamw: Default::default(),
		max_grad_norm: 1.0,
	};
	let model = base.to_device::<CpuTrain>(&Default::default()).unwrap();
	let (adapter, report) = train::train(&model, &data, &config, &mut ()).unwrap();
	println!(
		"held-out loss {:.4} -> {:.4} in {:.1} s",
		report.before.loss, report.after.loss, report.seconds
	);
	assert!(report.after.loss < report.before.loss);
	let dir = tempfile::tempdir().unwrap();
	adapter.save_peft(dir.path(), &base.config, "SmolLM2-135M-Instruct").unwrap();
	let back = Adapter::load_peft(dir.path(), &base.config).unwrap();
	assert_eq!(back, adapter);
	// 30 blocks x (q: 4 x (576 + 576) + v: 4 x (576 + 192)).
	assert_eq!(adapter.parameter_count(), 30 * (4 * 1152 + 4 * 768));
}
