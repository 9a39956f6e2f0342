//! `gpu-worker`: the GPU provider's command line.
//!
//! `serve` runs the worker: registered on-chain, it runs the jobs assigned to it and reports
//! their results; the other subcommands run and use the content store for Datanet
//! contributions:
//!
//! ```text
//! gpu-worker serve --node ws://127.0.0.1:9944 --key //Bob [--listen 127.0.0.1:8091]
//!                  [--stake OPEN] [--backend cpu] [--job-kinds verify-snapshot]
//!                  [--poll-ms 1000] [--max-jobs 4] [--heartbeat-blocks 20]
//!                  [--openai 127.0.0.1:8095 [--serve-model FILE] [--allow-unpaid]]
//!                                                                        run the worker service
//! gpu-worker store --dir DIR --listen 127.0.0.1:PORT [--max-bytes N]   serve a store
//! gpu-worker store-put --url http://127.0.0.1:PORT FILE...              upload, print "0x<hash> <size> <locator>"
//! gpu-worker hash FILE                                                  print the blake2-256 content hash
//! gpu-worker fetch LOCATOR --expect 0x<hash> [-o FILE]                  download and verify
//! ```

use clap::{Parser, Subcommand, ValueEnum};
use gpu_worker::{
	api::ApiServer,
	chain::{self, Backend, Capabilities, JobKind},
	fetch::Fetcher,
	jobs::{Executors, InferExecutor, ModelLibrary, TrainExecutor, VerifySnapshotExecutor},
	store::{ContentHash, DiskStore, ServiceConfig, StoreClient, StoreServer},
	train,
	worker::{Config, Worker},
};
use std::{
	io::Write,
	net::SocketAddr,
	path::{Path, PathBuf},
	process::ExitCode,
	sync::Arc,
	time::Duration,
};

#[derive(Parser)]
#[command(name = "gpu-worker", version, about = "OpenLedger GPU provider process")]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Run the worker: register on-chain, run assigned jobs, report results, serve the
	/// `worker_*` JSON-RPC API.
	///
	/// The first line on stdout is `listening on http://ADDR` (the API), so `--listen
	/// 127.0.0.1:0` can be used and the port read back.
	Serve(ServeArgs),
	/// Serve a content-addressed store of Datanet contribution bytes over HTTP.
	///
	/// The first line on stdout is `listening on http://ADDR`, so `--listen 127.0.0.1:0` can be
	/// used and the port read back.
	Store {
		/// Directory holding the objects (created if missing).
		#[arg(long)]
		dir: PathBuf,
		/// Address to listen on, e.g. 127.0.0.1:8090 (port 0 picks a free one).
		#[arg(long)]
		listen: SocketAddr,
		/// Largest object accepted, in bytes.
		#[arg(long, default_value_t = gpu_worker::store::DEFAULT_MAX_OBJECT_BYTES)]
		max_bytes: u64,
		/// Connections served at once.
		#[arg(long, default_value_t = ServiceConfig::default().max_connections)]
		max_connections: usize,
	},
	/// Upload files to a running store; prints `0x<hash> <size> <locator>` per file.
	StorePut {
		/// Base URL of the store, e.g. http://127.0.0.1:8090.
		#[arg(long)]
		url: String,
		/// Files to upload.
		#[arg(required = true)]
		files: Vec<PathBuf>,
	},
	/// Fine-tune a LoRA adapter on local text (the ModelFactory, as a train job runs it).
	///
	/// Writes `adapter_model.safetensors` and `adapter_config.json` (PEFT format),
	/// `report.json` and `loss.png` into `--out`.
	Train(TrainArgs),
	/// Print the blake2-256 content hash of a file, as `0x` + 64 hex digits.
	Hash {
		/// The file.
		file: PathBuf,
	},
	/// Fetch content by locator (http://, https://, file://) and verify its hash.
	Fetch {
		/// Where the content is.
		locator: String,
		/// The content hash it must have.
		#[arg(long)]
		expect: ContentHash,
		/// Write here instead of stdout.
		#[arg(long, short)]
		output: Option<PathBuf>,
	},
}

#[derive(clap::Args)]
struct ServeArgs {
	/// The node's RPC endpoint (ws://, wss://, http:// or https://; used over HTTP), or several
	/// nodes of the chain, comma-separated: when one cannot be reached the worker goes on with
	/// the next.
	#[arg(long)]
	node: String,
	/// The worker's key: a secret URI such as //Bob, or a file holding a seed phrase or a
	/// 0x-hex seed.
	#[arg(long)]
	key: String,
	/// Address of the worker's JSON-RPC API (port 0 picks a free one).
	#[arg(long, default_value = "127.0.0.1:8091")]
	listen: SocketAddr,
	/// Stake bonded when registering, in OPEN (e.g. 1000 or 2.5).
	#[arg(long, default_value = "1000", value_parser = chain::parse_open)]
	stake: u128,
	/// The compute backend.
	#[arg(long, value_enum, default_value_t = BackendArg::Cpu)]
	backend: BackendArg,
	/// The job kinds to declare and run (comma-separated).
	#[arg(long, value_enum, value_delimiter = ',', default_values_t = [KindArg::VerifySnapshot])]
	job_kinds: Vec<KindArg>,
	/// Milliseconds between polls of the best block.
	#[arg(long, default_value_t = 1000)]
	poll_ms: u64,
	/// Jobs run at once.
	#[arg(long, default_value_t = 4)]
	max_jobs: usize,
	/// Blocks between heartbeats.
	#[arg(long, default_value_t = 20)]
	heartbeat_blocks: u32,
	/// Fault injection for tests: report a wrong (but well-formed) result for every job.
	#[arg(long, hide = true)]
	corrupt_results: bool,
	/// Directory of base Models (`.gguf` files), found by content hash for train jobs.
	/// Default: `$OPENLEDGER_MODELS`, else `~/.cache/openledger/models`.
	#[arg(long)]
	models_dir: Option<PathBuf>,
	/// Where trained adapters are kept, one directory per adapter hash (PEFT files, report,
	/// loss plot). Default: `adapters` under the models directory.
	#[arg(long)]
	adapters_dir: Option<PathBuf>,
	/// A content store (http://HOST:PORT) that trained adapters are uploaded to (and that
	/// served adapters missing from the adapters directory are fetched from).
	#[arg(long)]
	store: Option<String>,
	/// Serve the OpenAI-compatible API (OpenLoRA) on this address: `/v1/completions`,
	/// `/v1/chat/completions`, `/v1/models`, adapter admin routes. Paid by signed requests.
	#[arg(long)]
	openai: Option<SocketAddr>,
	/// The base Model served (a `.gguf` file). Default: SmolLM2-135M-Instruct in the models
	/// directory.
	#[arg(long)]
	serve_model: Option<PathBuf>,
	/// Serve requests without payment headers too (local use only).
	#[arg(long)]
	allow_unpaid: bool,
	/// Token the adapter admin routes need (`Authorization: Bearer TOKEN`); without one they
	/// are open, so keep `--openai` on loopback then.
	#[arg(long)]
	admin_token: Option<String>,
	/// Sequences in the running batch.
	#[arg(long, default_value_t = 32)]
	max_batch: usize,
	/// Adapter slots kept ready for the batch.
	#[arg(long, default_value_t = 64)]
	slab_slots: usize,
	/// Largest adapter rank served.
	#[arg(long, default_value_t = 64)]
	max_rank: usize,
	/// Milliseconds between submissions of served requests' receipts.
	#[arg(long, default_value_t = 6000)]
	receipt_interval_ms: u64,
	/// Attribute served answers by verbatim spans only, without their gradient influence (which
	/// reruns the last block backwards under the answer's adapter: tens of ms per answer on a CPU).
	#[arg(long)]
	no_influence: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum BackendArg {
	Cpu,
	Cuda,
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
	VerifySnapshot,
	Train,
	Evaluate,
	Infer,
}

impl From<KindArg> for JobKind {
	fn from(kind: KindArg) -> Self {
		match kind {
			KindArg::VerifySnapshot => Self::VerifySnapshot,
			KindArg::Train => Self::Train,
			KindArg::Evaluate => Self::Evaluate,
			KindArg::Infer => Self::Infer,
		}
	}
}

#[derive(clap::Args)]
struct TrainArgs {
	/// The base Model: a `.gguf` file, or a Hugging Face directory (config.json,
	/// tokenizer.json, model.safetensors).
	#[arg(long)]
	base: PathBuf,
	/// The text: a directory (one document per file) or a `.jsonl` file (one per line; a
	/// `{"text": ...}` object or plain text).
	#[arg(long)]
	data: PathBuf,
	/// Where the adapter, report and plot go (created if missing).
	#[arg(long)]
	out: PathBuf,
	/// LoRA rank.
	#[arg(long, default_value_t = 8)]
	rank: u16,
	/// LoRA alpha (the update is scaled by alpha / rank).
	#[arg(long, default_value_t = 16)]
	alpha: u16,
	/// Dropout on the adapted projections' inputs.
	#[arg(long, default_value_t = 0.05)]
	dropout: f32,
	/// Adapted projections: q, k, v, o, gate, up, down.
	#[arg(long, value_delimiter = ',', default_value = "q,k,v,o")]
	targets: Vec<String>,
	/// Peak learning rate.
	#[arg(long, default_value_t = 1e-3)]
	lr: f32,
	/// Warmup steps.
	#[arg(long, default_value_t = 2)]
	warmup: u32,
	/// Optimizer steps.
	#[arg(long, default_value_t = 20)]
	steps: u32,
	/// Examples per micro-batch group.
	#[arg(long, default_value_t = 1)]
	batch_size: u16,
	/// Groups accumulated per step.
	#[arg(long, default_value_t = 4)]
	grad_accum: u16,
	/// Tokens per training window.
	#[arg(long, default_value_t = 128)]
	seq_len: u16,
	/// Documents held out, per thousand.
	#[arg(long, default_value_t = 100)]
	heldout_permille: u16,
	/// Seed for initialization, data order and dropout.
	#[arg(long, default_value_t = 0)]
	seed: u64,
	/// AdamW decoupled weight decay.
	#[arg(long, default_value_t = 0.0)]
	weight_decay: f32,
	/// Gradient clipping norm (0: off).
	#[arg(long, default_value_t = 1.0)]
	max_grad_norm: f32,
	/// Compute backend.
	#[arg(long, value_enum, default_value_t = BackendArg::Cpu)]
	backend: BackendArg,
	/// No progress bar (for logs).
	#[arg(long)]
	quiet: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
	let cli = Cli::parse();
	let result = match cli.command {
		Command::Serve(args) => serve_worker(args).await,
		Command::Store { dir, listen, max_bytes, max_connections } => {
			serve(&dir, listen, max_bytes, max_connections).await
		}
		Command::StorePut { url, files } => store_put(&url, &files).await,
		Command::Hash { file } => hash(&file),
		Command::Train(args) => tokio::task::spawn_blocking(move || train_cli(args))
			.await
			.unwrap_or_else(|e| Err(e.into())),
		Command::Fetch { locator, expect, output } => fetch(&locator, expect, output).await,
	};
	match result {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			// Every error's message already includes its cause.
			eprintln!("error: {e}");
			ExitCode::FAILURE
		}
	}
}

type AnyError = Box<dyn std::error::Error + Send + Sync>;

async fn serve(
	dir: &Path,
	listen: SocketAddr,
	max_bytes: u64,
	max_connections: usize,
) -> Result<(), AnyError> {
	let store = DiskStore::open(dir, max_bytes)?;
	let config = ServiceConfig { max_connections, ..ServiceConfig::default() };
	let server = StoreServer::bind(listen, store, config).await?;
	let addr = server.local_addr()?;
	// Scripts read this first line to learn the port; stdout is line-buffered, so it goes out now.
	println!("listening on http://{addr}");
	eprintln!("store: serving {} (objects up to {max_bytes} bytes)", dir.display());
	server
		.run_until(async {
			// Ctrl-C ends the server cleanly; writes are atomic, so any other kill is safe too.
			let _ = tokio::signal::ctrl_c().await;
		})
		.await;
	Ok(())
}

async fn serve_worker(args: ServeArgs) -> Result<(), AnyError> {
	let (backend, train_backend) =
		match args.backend {
			BackendArg::Cpu => (Backend::Cpu, train::TrainBackend::Cpu),
			#[cfg(feature = "cuda")]
			BackendArg::Cuda => (Backend::Cuda, train::TrainBackend::Cuda),
			#[cfg(not(feature = "cuda"))]
			BackendArg::Cuda => return Err(
				"this build has no CUDA backend (build with --features cuda); use --backend cpu"
					.into(),
			),
		};
	let chain = chain::connect(&args.node, &args.key).await?;
	let chain_for_openai = chain.clone();
	let models_dir = args.models_dir.clone().unwrap_or_else(gpu_worker::model::default_models_dir);
	let adapters_dir = args.adapters_dir.clone().unwrap_or_else(|| models_dir.join("adapters"));
	let mut trainer =
		TrainExecutor::new(chain.clone(), Arc::new(ModelLibrary::new(models_dir)), adapters_dir)
			.with_backend(train_backend);
	if let Some(url) = &args.store {
		trainer = trainer.with_store(StoreClient::new(url));
	}
	let kinds: Vec<JobKind> = args.job_kinds.iter().map(|&k| JobKind::from(k)).collect();
	// The serving engine, when the API is on or infer jobs are taken: one base Model for both.
	let serving = if args.openai.is_some() || kinds.contains(&JobKind::Infer) {
		Some(load_serving(&args).await?)
	} else {
		None
	};
	let mut executors = Executors::new()
		.with(VerifySnapshotExecutor::new(chain.clone()))
		.with(trainer)
		.with_corrupt_results(args.corrupt_results);
	if let Some(serving) = &serving {
		executors = executors.with(
			InferExecutor::new(
				chain.clone(),
				serving.engine.clone(),
				serving.tokenizer.clone(),
				serving.base_hash,
			)
			.with_attribution(serving.attribution.clone()),
		);
	}
	if let Some(missing) = kinds.iter().find(|&&kind| !executors.runs(kind)) {
		return Err(format!("this build cannot run {missing} jobs yet").into());
	}
	let config = Config {
		stake: args.stake,
		capabilities: Capabilities {
			backend,
			gpu_memory_mib: 0,
			max_resident_adapters: 0,
			job_kinds: JobKind::mask(kinds),
		},
		poll: Duration::from_millis(args.poll_ms.max(1)),
		max_jobs: args.max_jobs.max(1),
		heartbeat_blocks: args.heartbeat_blocks.max(1),
	};
	let account = chain.account();
	let (worker, handle) = Worker::new(chain, executors, config);

	let server = ApiServer::bind(args.listen).await?;
	let addr = server.local_addr()?;
	// Scripts read this first line to learn the port; stdout is line-buffered, so it goes out now.
	println!("listening on http://{addr}");
	eprintln!(
		"serve: worker {} (0x{}) on {}{}",
		chain::ss58(&account),
		hex::encode(account),
		args.node,
		if args.corrupt_results { "; CORRUPTING RESULTS (fault injection)" } else { "" }
	);
	let api = server.start(handle);
	let openai = match (args.openai, serving) {
		(Some(addr), Some(serving)) => {
			Some(start_openai(&args, addr, chain_for_openai, serving).await?)
		}
		_ => None,
	};
	worker
		.run(async {
			// Ctrl-C stops the loop; jobs it abandons are assigned again to a later start.
			let _ = tokio::signal::ctrl_c().await;
		})
		.await;
	let _ = api.stop();
	api.stopped().await;
	if let Some(openai) = openai {
		openai.abort();
	}
	Ok(())
}

/// The OpenLoRA engine over the served base Model, and what reads it.
#[derive(Clone)]
struct Serving {
	engine: gpu_worker::openlora::EngineHandle,
	tokenizer: Arc<gpu_worker::model::tokenizer::Tokenizer>,
	base_hash: [u8; 32],
	attribution: Arc<gpu_worker::attribution::service::AttributionService>,
}

/// Loads the served base Model (`--serve-model`, else SmolLM2 in the models directory) and
/// starts the OpenLoRA engine over it.
async fn load_serving(args: &ServeArgs) -> Result<Serving, AnyError> {
	use gpu_worker::{
		attribution::service::{AttributionService, IndexSource, InfluenceSetup},
		model::{config::LlamaConfig, gguf::GgufFile, reference::Weights, tokenizer::Tokenizer},
		openlora::{EngineHandle, EngineOptions},
	};
	let models_dir = args.models_dir.clone().unwrap_or_else(gpu_worker::model::default_models_dir);
	let path = args
		.serve_model
		.clone()
		.unwrap_or_else(|| models_dir.join(gpu_worker::model::SMOLLM2_FILE));
	let bytes = std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
	let base_hash = sp_crypto_hashing::blake2_256(&bytes);
	drop(bytes);
	let (config, weights, tokenizer) = tokio::task::spawn_blocking(move || {
		let file = GgufFile::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
		let config = LlamaConfig::from_gguf(file.gguf()).map_err(|e| e.to_string())?;
		let weights = Weights::load(&file, &config).map_err(|e| e.to_string())?;
		let tokenizer = Tokenizer::from_gguf(file.gguf()).map_err(|e| e.to_string())?;
		Ok::<_, String>((config, weights, tokenizer))
	})
	.await??;
	let adapters_dir = args.adapters_dir.clone().unwrap_or_else(|| models_dir.join("adapters"));
	let options = EngineOptions {
		max_batch: args.max_batch.max(1),
		slab_slots: args.slab_slots.max(1),
		max_rank: args.max_rank.max(1),
		adapters_dir: adapters_dir.clone(),
		store: args.store.clone(),
		..EngineOptions::default()
	};
	// Train jobs sketch the last block's gradients; serving reruns that block for answers.
	let influence = match args.no_influence {
		true => None,
		false => Some(InfluenceSetup::new(&config, &weights, 1, adapters_dir.clone())?),
	};
	let engine = EngineHandle::start(config, weights, options)?;
	let attribution = AttributionService::start(
		IndexSource::new(adapters_dir.join(gpu_worker::jobs::train::INDEX_DIR), args.store.clone()),
		Default::default(),
		influence,
	);
	Ok(Serving { engine, tokenizer: Arc::new(tokenizer), base_hash, attribution })
}

/// Starts the OpenAI-compatible API on `addr` over `serving`, and a task that submits receipts
/// every `--receipt-interval-ms`.
async fn start_openai(
	args: &ServeArgs,
	addr: SocketAddr,
	chain: Arc<dyn chain::Chain>,
	serving: Serving,
) -> Result<tokio::task::JoinHandle<()>, AnyError> {
	use gpu_worker::openai::{ApiConfig, ApiServer as OpenAiServer, ApiState, Ledger};
	let Serving { engine, tokenizer, base_hash, attribution } = serving;
	let ledger = Arc::new(Ledger::new(chain.clone()));
	let state = ApiState::new(
		engine,
		tokenizer,
		Some(chain),
		Some(ledger.clone()),
		ApiConfig {
			allow_unpaid: args.allow_unpaid,
			admin_token: args.admin_token.clone(),
			base_hash,
			max_connections: 256,
		},
	)
	.with_attribution(attribution);
	let server = OpenAiServer::bind(addr, state).await?;
	eprintln!(
		"openai: serving on http://{} (base 0x{}){}",
		server.local_addr()?,
		hex::encode(base_hash),
		if args.allow_unpaid { "; unpaid requests allowed" } else { "" }
	);
	let interval = Duration::from_millis(args.receipt_interval_ms.max(100));
	Ok(tokio::spawn(async move {
		let receipts = tokio::spawn(async move {
			loop {
				tokio::time::sleep(interval).await;
				match ledger.flush().await {
					Ok(report) if report.submitted > 0 || report.dropped > 0 => eprintln!(
						"openai: receipts submitted {}, settled {}, dropped {}",
						report.submitted, report.settled, report.dropped
					),
					Ok(_) => {}
					Err(e) => eprintln!("openai: submitting receipts failed (retrying): {e}"),
				}
			}
		});
		server.run_until(std::future::pending()).await;
		receipts.abort();
	}))
}

async fn store_put(url: &str, files: &[PathBuf]) -> Result<(), AnyError> {
	let client = StoreClient::new(url);
	for file in files {
		let bytes = std::fs::read(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
		let size = bytes.len();
		let (hash, _outcome) =
			client.put(bytes).await.map_err(|e| format!("uploading {}: {e}", file.display()))?;
		println!("{hash} {size} {}", client.locator(&hash));
	}
	Ok(())
}

fn hash(file: &Path) -> Result<(), AnyError> {
	let bytes = std::fs::read(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
	println!("{}", ContentHash::of(&bytes));
	Ok(())
}

async fn fetch(
	locator: &str,
	expect: ContentHash,
	output: Option<PathBuf>,
) -> Result<(), AnyError> {
	let bytes = Fetcher::new().fetch(locator, expect).await?;
	match output {
		Some(path) => {
			std::fs::write(&path, &bytes).map_err(|e| format!("writing {}: {e}", path.display()))?
		}
		None => std::io::stdout().write_all(&bytes)?,
	}
	Ok(())
}

/// A progress bar over the steps (and the two evaluations) of a training run.
struct Progress {
	bar: Option<indicatif::ProgressBar>,
}

impl train::TrainHooks for Progress {
	fn on_step(&mut self, log: &train::trainer::StepLog) {
		if let Some(bar) = &self.bar {
			bar.set_message(format!("loss {:.4}  lr {:.2e}", log.loss, log.learning_rate));
			bar.inc(1);
		} else {
			eprintln!("step {} loss {:.4} lr {:.2e}", log.step, log.loss, log.learning_rate);
		}
	}

	fn on_eval(&mut self, after: bool, done: usize, total: usize) {
		if let Some(bar) = &self.bar {
			let phase = if after { "held-out eval (after)" } else { "held-out eval (before)" };
			bar.set_message(format!("{phase} {done}/{total}"));
			bar.tick();
		}
	}
}

fn train_cli(args: TrainArgs) -> Result<(), AnyError> {
	let targets = args
		.targets
		.iter()
		.map(|t| train::Target::parse(t).ok_or_else(|| format!("unknown target module {t:?}")))
		.collect::<Result<Vec<_>, _>>()?;
	let mut targets = targets;
	targets.sort();
	targets.dedup();
	let config = train::TrainConfig {
		lora: train::LoraConfig {
			rank: args.rank,
			alpha: args.alpha,
			dropout: args.dropout,
			targets,
		},
		learning_rate: args.lr,
		warmup_steps: args.warmup,
		steps: args.steps,
		batch_size: args.batch_size,
		grad_accum: args.grad_accum,
		seq_len: args.seq_len,
		heldout_permille: args.heldout_permille,
		seed: args.seed,
		adamw: train::optim::AdamWConfig { weight_decay: args.weight_decay, ..Default::default() },
		max_grad_norm: args.max_grad_norm,
	};
	config.validate()?;
	let started = std::time::Instant::now();
	let base = train::BaseFiles::open(&args.base)?;
	eprintln!(
		"base {}: {} blocks, dim {}, vocab {} (loaded in {:.1} s)",
		args.base.display(),
		base.config.block_count,
		base.config.embedding_length,
		base.config.vocab_size,
		started.elapsed().as_secs_f64()
	);
	let documents = train::data::read_documents(&args.data)?;
	let data = train::Dataset::build(
		documents,
		&base.tokenizer,
		usize::from(args.seq_len),
		args.heldout_permille,
	);
	eprintln!(
		"data {}: {} documents, {} training windows ({} tokens), {} held-out windows",
		args.data.display(),
		data.documents.len(),
		data.train.len(),
		data.train_tokens(),
		data.heldout.len()
	);
	let bar = (!args.quiet).then(|| {
		let bar = indicatif::ProgressBar::new(u64::from(args.steps));
		bar.set_style(
			indicatif::ProgressStyle::with_template(
				"{elapsed_precise} [{bar:30}] step {pos}/{len} {msg}",
			)
			.unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
			.progress_chars("=> "),
		);
		bar
	});
	let mut progress = Progress { bar };
	let base_name = args.base.file_name().and_then(|n| n.to_str()).unwrap_or("base").to_string();
	let backend = match args.backend {
		BackendArg::Cpu => train::TrainBackend::Cpu,
		BackendArg::Cuda => train::TrainBackend::Cuda,
	};
	let (adapter, report) = train::train_on(backend, &base, &data, &config, &mut progress)?;
	if let Some(bar) = &progress.bar {
		bar.finish_and_clear();
	}
	let (weights, _) = adapter.save_peft(&args.out, &base.config, &base_name)?;
	train::report::write_report(&args.out, &report, &config, &base_name)?;
	println!(
		"held-out loss {:.4} -> {:.4} (perplexity {:.2} -> {:.2}) over {} tokens",
		report.before.loss,
		report.after.loss,
		report.before.perplexity,
		report.after.perplexity,
		report.after.tokens
	);
	println!(
		"adapter 0x{} ({} parameters) in {} ({:.1} s)",
		hex::encode(sp_crypto_hashing::blake2_256(&weights)),
		report.parameters,
		args.out.display(),
		report.seconds
	);
	Ok(())
}
