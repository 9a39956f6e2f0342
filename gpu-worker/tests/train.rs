//! The ModelFactory against the real SmolLM2-135M-Instruct (Q4_1) GGUF file: the burn forward
//! pass matches the plain-Rust reference, and a short LoRA run lowers held-out loss and saves a
//! PEFT adapter that reads back.
//!
//! The file is found as in `tests/model.rs`; without it each test says so and passes without
//! checking anything.

use gpu_worker::{
	model::{gguf::GgufFile, reference::ReferenceModel},
	train::{
		self, data::Document, Adapter, BaseFiles, CpuTrain, Dataset, LoraConfig, Target,
		TrainConfig,
	},
};
use std::path::PathBuf;

fn model_path() -> Option<PathBuf> {
	let path = gpu_worker::model::smollm2_path();
	if !path.is_file() {
		println!(
			"skipped: SmolLM2 GGUF not found at {}; run scripts/fetch-model.sh",
			path.display()
		);
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
			let text =
				format!("Fact {i}: the vault number {i} opens with the code {}.", i * 37 % 100);
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

/// The burn forward pass against logits recorded by `scripts/reference/llama_logits.py`: a numpy
/// float64 Llama over weights dequantized by llama.cpp's `gguf` Python package, sharing no code
/// with this crate. Compares the top-10 and probe logits of every position of the fixture prompt.
#[test]
fn burn_logits_match_an_independent_numpy_reference() {
	let Some(path) = model_path() else { return };
	let fixture: serde_json::Value =
		serde_json::from_str(include_str!("fixtures/smollm2_reference_logits.json")).unwrap();
	let ids: Vec<u32> = fixture["prompt_ids"]
		.as_array()
		.unwrap()
		.iter()
		.map(|v| u32::try_from(v.as_u64().unwrap()).unwrap())
		.collect();
	let probes: Vec<usize> = fixture["probe_ids"]
		.as_array()
		.unwrap()
		.iter()
		.map(|v| usize::try_from(v.as_u64().unwrap()).unwrap())
		.collect();
	let positions = fixture["positions"].as_array().unwrap();
	assert_eq!(positions.len(), ids.len());

	let base = BaseFiles::open(&path).unwrap();
	assert_eq!(base.tokenizer.encode("The capital of France is"), ids, "the fixture's prompt ids");
	let vocab = base.config.vocab_size;
	assert_eq!(fixture["config"]["vocab_size"].as_u64(), Some(vocab as u64));
	let model = base.to_device::<CpuTrain>(&Default::default()).unwrap();
	let ours = train::host(model.forward(&ids, None, None).unwrap()).unwrap();
	assert_eq!(ours.len(), ids.len() * vocab);

	let mut worst = 0f64;
	let mut compared = 0usize;
	for (pos, recorded) in positions.iter().enumerate() {
		let row = &ours[pos * vocab..(pos + 1) * vocab];
		let top = recorded["top"].as_array().unwrap();
		let mut pairs: Vec<(usize, f64)> = top
			.iter()
			.map(|pair| {
				let id = usize::try_from(pair[0].as_u64().unwrap()).unwrap();
				(id, pair[1].as_f64().unwrap())
			})
			.collect();
		let their_top1 = pairs[0].0;
		let our_top1 = row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
		assert_eq!(our_top1, their_top1, "top-1 id at position {pos}");
		let values = recorded["probes"].as_array().unwrap();
		assert_eq!(values.len(), probes.len());
		pairs.extend(probes.iter().zip(values).map(|(id, v)| (*id, v.as_f64().unwrap())));
		for (id, theirs) in pairs {
			let diff = (f64::from(row[id]) - theirs).abs();
			worst = worst.max(diff);
			compared += 1;
			assert!(diff < 1e-2, "position {pos}, token {id}: ours {} numpy {theirs}", row[id]);
		}
	}
	println!(
		"max |burn - numpy reference| over {compared} recorded logits ({} positions): {worst:e}",
		ids.len()
	);
}

/// Serves one manifest.
struct OneManifest(gpu_worker::chain::types::SnapshotManifest);

#[async_trait::async_trait]
impl gpu_worker::jobs::verify::ManifestSource for OneManifest {
	async fn manifest(
		&self,
		snapshot: u32,
	) -> Result<gpu_worker::chain::types::SnapshotManifest, Box<dyn std::error::Error + Send + Sync>>
	{
		match snapshot == self.0.snapshot {
			true => Ok(self.0.clone()),
			false => Err(format!("no snapshot {snapshot}").into()),
		}
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_train_executor_runs_a_job_reproducibly() {
	use codec::{Decode, Encode};
	use gpu_worker::{
		chain::types::{
			Agreement, AssignedJob, JobKind, LoraHyperparams, ManifestEntry, SnapshotManifest,
			TrainResult, TrainSpec,
		},
		jobs::{Executor, JobError, ModelLibrary, TrainExecutor},
		train::TrainBackend,
	};
	use std::sync::Arc;
	let Some(path) = model_path() else { return };
	let base_hash = sp_crypto_hashing::blake2_256(&std::fs::read(&path).unwrap());
	let files = tempfile::tempdir().unwrap();
	let entries: Vec<ManifestEntry> = (0..8u64)
		.map(|i| {
			let text = format!(
				"{{\"text\": \"Note {i}: the lighthouse keeper number {i} sings at {} o'clock.\"}}",
				i + 1
			);
			let file = files.path().join(format!("c{i}.json"));
			std::fs::write(&file, &text).unwrap();
			ManifestEntry {
				id: 100 + i,
				content_hash: sp_crypto_hashing::blake2_256(text.as_bytes()),
				size: text.len() as u64,
				locator: format!("file://{}", file.display()),
			}
		})
		.collect();
	let manifest = SnapshotManifest {
		snapshot: 3,
		datanet: 1,
		root: [7; 32],
		count: 8,
		total_bytes: 0,
		entries,
	};
	let models_dir = path.parent().unwrap().to_path_buf();
	let adapters = tempfile::tempdir().unwrap();
	let executor = TrainExecutor::new(
		Arc::new(OneManifest(manifest.clone())),
		Arc::new(ModelLibrary::new(models_dir.clone())),
		adapters.path(),
	);
	let hyper = LoraHyperparams {
		rank: 4,
		alpha: 8,
		dropout_permille: 50,
		targets: 0b0101,
		learning_rate_micro: 2000,
		warmup_steps: 1,
		steps: 3,
		batch_size: 1,
		grad_accum: 2,
		seq_len: 32,
		heldout_permille: 200,
		seed: 5,
	};
	let spec = TrainSpec {
		base: 0,
		base_hash,
		snapshot: 3,
		snapshot_root: [7; 32],
		hyper,
		agreement: Agreement::Exact,
	};
	let job = |spec: &TrainSpec| AssignedJob {
		id: 1,
		kind: JobKind::Train,
		spec: spec.encode(),
		round: 0,
		deadline: 100,
	};

	let first = executor.execute(&job(&spec)).await.unwrap();
	let second = executor.execute(&job(&spec)).await.unwrap();
	assert_eq!(first, second, "the same job gives the same payload");
	let result = TrainResult::decode(&mut &first.payload[..]).unwrap();
	assert_eq!(first.payload_hash, sp_crypto_hashing::blake2_256(&first.payload));
	assert_eq!(result.steps, 3);
	assert!(result.heldout_examples > 0 && result.train_examples > 0);
	assert!(result.heldout_loss_before_micro > 0 && result.heldout_loss_after_micro > 0);
	let dir = adapters.path().join(format!("0x{}", hex::encode(result.adapter_hash)));
	let weights = std::fs::read(dir.join("adapter_model.safetensors")).unwrap();
	assert_eq!(sp_crypto_hashing::blake2_256(&weights), result.adapter_hash);
	assert!(dir.join("report.json").is_file() && dir.join("loss.png").is_file());

	// A worker configured for CUDA still trains a bit-for-bit job on the CPU path, so it agrees
	// with CPU workers; a job with a tolerance goes to its CUDA backend (refused by name in a
	// build without the `cuda` feature).
	let gpu_worker = TrainExecutor::new(
		Arc::new(OneManifest(manifest)),
		Arc::new(ModelLibrary::new(models_dir)),
		adapters.path(),
	)
	.with_backend(TrainBackend::Cuda);
	assert_eq!(gpu_worker.execute(&job(&spec)).await.unwrap(), first);
	if !cfg!(feature = "cuda") {
		let tolerant =
			TrainSpec { agreement: Agreement::HeldOutLoss { tolerance_ppm: 10_000 }, ..spec };
		assert!(matches!(
			gpu_worker.execute(&job(&tolerant)).await,
			Err(JobError::Failed(m)) if m.contains("cuda")
		));
	}

	// A changed root, an unknown base and a bad spec are refused, each by name.
	let moved = TrainSpec { snapshot_root: [8; 32], ..spec };
	assert!(
		matches!(executor.execute(&job(&moved)).await, Err(JobError::Failed(m)) if m.contains("root"))
	);
	let unknown = TrainSpec { base_hash: [9; 32], ..spec };
	assert!(
		matches!(executor.execute(&job(&unknown)).await, Err(JobError::Failed(m)) if m.contains("no base model"))
	);
	let bad = TrainSpec { hyper: LoraHyperparams { targets: 0, ..hyper }, ..spec };
	assert!(matches!(executor.execute(&job(&bad)).await, Err(JobError::InvalidSpec(_))));
	let garbage = AssignedJob { spec: vec![1, 2], ..job(&spec) };
	assert!(matches!(executor.execute(&garbage).await, Err(JobError::InvalidSpec(_))));
}
