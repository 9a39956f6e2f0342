//! [`JobKind::Train`]: fine-tune a LoRA adapter on a Datanet snapshot (the ModelFactory).
//!
//! The flow of a job: decode its [`TrainSpec`]; find the base Model by its on-chain content hash
//! among the GGUF files of the worker's model directory ([`ModelLibrary`]); read the snapshot's
//! manifest and check its root against the spec's; fetch every contribution, each verified
//! against its registered hash; train ([`crate::train`]); save the adapter in the PEFT format
//! (with the report and the loss plot) under the adapters directory, build the Proof of
//! Attribution index (every example's gradient sketch, taken while training, and a suffix
//! array over the training contributions' tokens) and keep it under `attribution/`, upload the
//! two PEFT files and the index to the content store when one is configured, and report a
//! [`TrainResult`] (with the index's hash).
//!
//! On the CPU backend the result is bit-for-bit reproducible, so replicated workers agree on
//! its hash. One training runs at a time per worker: it is CPU- (or GPU-) bound, and two would
//! only slow each other down.

use super::{verify::fetch_contents, Executor, JobError, JobOutput};
use crate::{
	attribution::{
		index::AttributionIndex,
		influence::{IndexBuilder, Sketcher, DEFAULT_DIM},
		service::IndexSource,
		spans::SpanIndex,
	},
	chain::types::{Agreement, AssignedJob, JobKind, LoraHyperparams, TrainResult, TrainSpec},
	fetch::Fetcher,
	jobs::verify::ManifestSource,
	store::StoreClient,
	train::{
		self, data::contribution_text, optim::AdamWConfig, BaseFiles, Dataset, Document,
		LoraConfig, Target, TrainBackend, TrainConfig,
	},
};
use async_trait::async_trait;
use codec::{Decode, DecodeAll, Encode};
use sp_crypto_hashing::blake2_256;
use std::{
	collections::BTreeMap,
	path::{Path, PathBuf},
	sync::{Arc, Mutex},
};

/// Where attribution indexes are kept under the adapters directory (`0x<hash>.idx`).
pub const INDEX_DIR: &str = "attribution";

/// Base Models a worker holds, found by the blake2-256 hash of their GGUF file.
pub struct ModelLibrary {
	dir: PathBuf,
	index: Mutex<BTreeMap<[u8; 32], PathBuf>>,
	loaded: Mutex<BTreeMap<[u8; 32], Arc<BaseFiles>>>,
}

impl ModelLibrary {
	/// The `.gguf` files of `dir` (indexed when first asked for a hash it does not know).
	pub fn new(dir: impl Into<PathBuf>) -> Self {
		Self { dir: dir.into(), index: Mutex::default(), loaded: Mutex::default() }
	}

	/// The directory.
	pub fn dir(&self) -> &Path {
		&self.dir
	}

	/// Hashes every `.gguf` file in the directory (blocking: call off the async runtime).
	fn rescan(&self) -> std::io::Result<()> {
		let mut found = BTreeMap::new();
		if self.dir.is_dir() {
			for entry in std::fs::read_dir(&self.dir)? {
				let path = entry?.path();
				if path.extension().and_then(|e| e.to_str()) == Some("gguf") && path.is_file() {
					found.insert(blake2_256(&std::fs::read(&path)?), path);
				}
			}
		}
		if let Ok(mut index) = self.index.lock() {
			*index = found;
		}
		Ok(())
	}

	/// The Model whose file hashes to `hash`, read and dequantized once and kept (blocking).
	pub fn load(&self, hash: &[u8; 32]) -> Result<Arc<BaseFiles>, String> {
		if let Some(model) = self.loaded.lock().ok().and_then(|l| l.get(hash).cloned()) {
			return Ok(model);
		}
		let lookup = || self.index.lock().ok().and_then(|i| i.get(hash).cloned());
		let path = match lookup() {
			Some(path) => path,
			None => {
				self.rescan().map_err(|e| format!("indexing {}: {e}", self.dir.display()))?;
				lookup().ok_or_else(|| {
					format!(
						"no base model with hash 0x{} in {}",
						hex::encode(hash),
						self.dir.display()
					)
				})?
			}
		};
		let model = Arc::new(BaseFiles::open(&path).map_err(|e| e.to_string())?);
		if let Ok(mut loaded) = self.loaded.lock() {
			loaded.insert(*hash, model.clone());
		}
		Ok(model)
	}
}

/// Runs [`JobKind::Train`] jobs.
pub struct TrainExecutor<M: ?Sized> {
	manifests: Arc<M>,
	fetcher: Fetcher,
	models: Arc<ModelLibrary>,
	store: Option<StoreClient>,
	adapters: PathBuf,
	backend: TrainBackend,
	one_at_a_time: Arc<tokio::sync::Mutex<()>>,
}

impl<M: ManifestSource + ?Sized + 'static> TrainExecutor<M> {
	/// An executor reading manifests from `manifests`, base Models from `models`, and keeping
	/// adapters under `adapters` (one directory per adapter hash).
	pub fn new(manifests: Arc<M>, models: Arc<ModelLibrary>, adapters: impl Into<PathBuf>) -> Self {
		Self {
			manifests,
			fetcher: Fetcher::new(),
			models,
			store: None,
			adapters: adapters.into(),
			backend: TrainBackend::Cpu,
			one_at_a_time: Arc::default(),
		}
	}

	/// Also uploads `adapter_model.safetensors` and `adapter_config.json` to `store`.
	pub fn with_store(mut self, store: StoreClient) -> Self {
		self.store = Some(store);
		self
	}

	/// Trains on `backend`.
	pub fn with_backend(mut self, backend: TrainBackend) -> Self {
		self.backend = backend;
		self
	}
}

/// The training config a job's hyperparameters ask for.
pub fn train_config(hyper: &LoraHyperparams) -> Result<TrainConfig, JobError> {
	let targets = Target::from_mask(hyper.targets)
		.ok_or_else(|| JobError::InvalidSpec(format!("target mask {:#x}", hyper.targets)))?;
	let config = TrainConfig {
		lora: LoraConfig {
			rank: hyper.rank,
			alpha: hyper.alpha,
			dropout: f32::from(hyper.dropout_permille) / 1000.0,
			targets,
		},
		learning_rate: hyper.learning_rate_micro as f32 / 1e6,
		warmup_steps: hyper.warmup_steps,
		steps: hyper.steps,
		batch_size: hyper.batch_size,
		grad_accum: hyper.grad_accum,
		seq_len: hyper.seq_len,
		heldout_permille: hyper.heldout_permille,
		seed: hyper.seed,
		adamw: AdamWConfig::default(),
		max_grad_norm: 1.0,
	};
	config.validate().map_err(|e| JobError::InvalidSpec(e.to_string()))?;
	Ok(config)
}

/// A loss in nats as the chain stores it: millionths, rounded (0 for NaN or negative).
pub fn micro(loss: f64) -> u64 {
	if loss.is_finite() && loss > 0.0 {
		(loss * 1e6).round() as u64
	} else {
		0
	}
}

/// A training run's result, its adapter weights, its adapter config (JSON) and its influence
/// index, as bytes.
type Trained = (TrainResult, Vec<u8>, Vec<u8>, Vec<u8>);

/// Trains and saves: the blocking part of a job.
fn run(
	base: &BaseFiles,
	base_hash: &[u8; 32],
	documents: Vec<Document>,
	config: &TrainConfig,
	backend: TrainBackend,
	adapters: &Path,
) -> Result<Trained, JobError> {
	let data = Dataset::build(
		documents,
		&base.tokenizer,
		usize::from(config.seq_len),
		config.heldout_permille,
	);
	let failed = |e: train::TrainError| JobError::Failed(e.to_string());
	// Every example's own gradient is sketched into the influence index as it trains.
	let sketcher = Sketcher::last_blocks(DEFAULT_DIM, config.seed, base.config.block_count, 1);
	let mut influence = IndexBuilder::new(sketcher);
	let (adapter, report) =
		train::train_on(backend, base, &data, config, &mut influence).map_err(failed)?;
	let documents: Vec<(u64, Vec<u32>)> =
		data.train.iter().map(|e| (e.contribution, e.tokens.clone())).collect();
	let index = AttributionIndex {
		spans: SpanIndex::build(&documents),
		influence: Some(influence.finish()),
	};
	let index_bytes = index.to_bytes();
	let index_hash = blake2_256(&index_bytes);
	IndexSource::new(adapters.join(INDEX_DIR), None)
		.save(&index_hash, &index_bytes)
		.map_err(|e| JobError::Failed(format!("keeping the attribution index: {e}")))?;
	let base_name = format!("blake2-256:0x{}", hex::encode(base_hash));
	let weights = adapter.to_safetensors(&base.config);
	let config_json = adapter.peft_config_json(&base_name).into_bytes();
	let adapter_hash = blake2_256(&weights);
	let dir = adapters.join(format!("0x{}", hex::encode(adapter_hash)));
	adapter.save_peft(&dir, &base.config, &base_name).map_err(failed)?;
	train::report::write_report(&dir, &report, config, &base_name).map_err(failed)?;
	let result = TrainResult {
		adapter_hash,
		config_hash: blake2_256(&config_json),
		train_examples: u32::try_from(report.train_examples).unwrap_or(u32::MAX),
		heldout_examples: u32::try_from(report.heldout_examples).unwrap_or(u32::MAX),
		heldout_loss_before_micro: micro(report.before.loss),
		heldout_loss_after_micro: micro(report.after.loss),
		steps: config.steps,
		attribution_index: index_hash,
	};
	Ok((result, weights, config_json, index_bytes))
}

#[async_trait]
impl<M: ManifestSource + ?Sized + 'static> Executor for TrainExecutor<M> {
	fn kind(&self) -> JobKind {
		JobKind::Train
	}

	async fn execute(&self, job: &AssignedJob) -> Result<JobOutput, JobError> {
		let spec = TrainSpec::decode_all(&mut job.spec.as_slice())
			.map_err(|e| JobError::InvalidSpec(format!("not a TrainSpec: {e}")))?;
		let config = train_config(&spec.hyper)?;
		let manifest = self.manifests.manifest(spec.snapshot).await.map_err(|e| {
			JobError::Inputs(format!("manifest of snapshot {}: {e}", spec.snapshot))
		})?;
		if manifest.root != spec.snapshot_root {
			return Err(JobError::Failed(format!(
				"snapshot {} has root 0x{}, the job names 0x{}",
				spec.snapshot,
				hex::encode(manifest.root),
				hex::encode(spec.snapshot_root)
			)));
		}
		let contents = fetch_contents(&self.fetcher, 8, &manifest).await;
		let mut documents = Vec::with_capacity(contents.len());
		for (entry, content) in manifest.entries.iter().zip(contents) {
			let bytes =
				content.map_err(|e| JobError::Inputs(format!("contribution {}: {e}", entry.id)))?;
			documents.push(Document {
				contribution: entry.id,
				hash: entry.content_hash,
				text: contribution_text(&bytes),
			});
		}

		let _running = self.one_at_a_time.lock().await;
		let (models, adapters) = (self.models.clone(), self.adapters.clone());
		let backend = backend_for(spec.agreement, self.backend);
		let (result, weights, config_json, index) = tokio::task::spawn_blocking(move || {
			let base = models.load(&spec.base_hash).map_err(JobError::Failed)?;
			run(&base, &spec.base_hash, documents, &config, backend, &adapters)
		})
		.await
		.map_err(|e| JobError::Failed(format!("training task: {e}")))??;
		if let Some(store) = &self.store {
			for bytes in [weights, config_json, index] {
				store
					.put(bytes)
					.await
					.map_err(|e| JobError::Inputs(format!("uploading the adapter: {e}")))?;
			}
		}
		Ok(JobOutput::new(result.encode()))
	}
}

/// The backend a job runs on: bit-for-bit agreement needs the deterministic CPU path whatever
/// this worker's configured backend; a tolerance lets a GPU worker use its GPU.
pub fn backend_for(agreement: Agreement, configured: TrainBackend) -> TrainBackend {
	match agreement {
		Agreement::Exact => TrainBackend::Cpu,
		Agreement::HeldOutLoss { .. } => configured,
	}
}

/// Decodes a train job's result payload.
pub fn decode_result(payload: &[u8]) -> Option<TrainResult> {
	TrainResult::decode(&mut &payload[..]).ok()
}
