//! OpenLoRA: one base Model serving many LoRA adapters at once, with mixed-adapter batches.
//!
//! The flow of a request: [`EngineHandle::submit`] hands it to the engine thread, which queues
//! it and, when its adapter is not resident, starts loading that adapter at once (prefetch) on
//! a loader thread. Each step of the continuous-batching loop ([`engine::Engine::step`])
//! admits queued requests whose adapter sits in a slab slot, then feeds one set of rows through
//! the Model: prefill chunks of new requests' prompts and one token of every decoding request.
//! Every base projection is one GEMM over all rows; the LoRA part is added per row with that
//! row's adapter: BGMV (each row gathers its adapter) for decode rows, SGMV (rows grouped by
//! adapter, a small GEMM per group) for prefill rows. Tokens stream back as [`Event`]s; requests
//! leave the batch at token boundaries and others take their place.
//!
//! - [`kernels`]: the CPU kernels: the base GEMM over weights packed once at load (AVX-512 or
//!   AVX2/FMA register tiles chosen at run time, panels across rayon threads), BGMV and SGMV
//!   over the adapter slab.
//! - [`model`]: the batched Llama forward with a KV cache per sequence.
//! - [`adapters`]: the adapter tiers: the device slab (N preallocated slots), the host LRU
//!   (bounded by bytes) and the disk/content-store source (verified by hash).
//! - [`engine`]: the synchronous scheduler ([`engine::Engine`]: add requests, step).
//! - [`handle`]: [`EngineHandle`], the engine on its own thread behind channels.
//! - `cuda` (feature `cuda`): BGMV and SGMV in CUDA C, compiled at run time with NVRTC.
//! - [`naive`]: the reference path (merge the adapter into the base weights, run the request
//!   alone, restore the weights) for tests and the benchmark.
//!
//! **KV cache.** Contiguous per sequence and per layer (a growing `Vec` of `kv_dim` rows): with
//! short CPU contexts paging buys nothing, and a sequence's memory is freed when it finishes.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod adapters;
pub mod capture;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod engine;
pub mod handle;
pub mod kernels;
pub mod model;
pub mod naive;
pub mod ops;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests;

use crate::train::lora::Target;
use std::path::PathBuf;

pub use adapters::{AdapterSource, DiskSource};
pub use capture::{AnswerStep, Capture, CaptureSpec, HeadRows};
pub use engine::Engine;
pub use handle::EngineHandle;
pub use naive::NaiveServer;

/// An adapter's id: the blake2-256 hash of its `adapter_model.safetensors`.
pub type AdapterId = sp_core::H256;

/// How the engine is sized and where it finds adapters.
#[derive(Debug, Clone)]
pub struct EngineOptions {
	/// Most sequences in the running batch.
	pub max_batch: usize,
	/// Most prompt tokens fed in one step (over all prefilling sequences).
	pub max_prefill_tokens: usize,
	/// Adapter slots in the device slab.
	pub slab_slots: usize,
	/// Largest adapter rank a slot holds.
	pub max_rank: usize,
	/// Bytes of parsed adapters the host tier keeps.
	pub host_cache_bytes: usize,
	/// The content-addressed adapters directory: `0x<adapter hash>/adapter_model.safetensors`
	/// and `adapter_config.json`, as the trainer writes it.
	pub adapters_dir: PathBuf,
	/// Base URL of a content store to fetch missing adapters from (`http://127.0.0.1:8090`).
	pub store: Option<String>,
	/// Compute threads (at least one).
	pub threads: usize,
}

impl Default for EngineOptions {
	fn default() -> Self {
		Self {
			max_batch: 32,
			max_prefill_tokens: 256,
			slab_slots: 16,
			max_rank: 16,
			host_cache_bytes: 512 << 20,
			adapters_dir: PathBuf::from("adapters"),
			store: None,
			threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
		}
	}
}

/// One completion request, in token ids.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
	/// The adapter to serve it with; `None` for the base Model.
	pub adapter: Option<AdapterId>,
	/// The prompt (at least one token).
	pub prompt: Vec<u32>,
	/// Most tokens to generate (at least one).
	pub max_tokens: u32,
	/// Generation stops before any of these (they are not emitted).
	pub stop_tokens: Vec<u32>,
	/// 0 for greedy decoding; above, sampling from `softmax(logits / temperature)`.
	pub temperature: f32,
	/// Nucleus sampling: sample among the most likely tokens whose probabilities add up to
	/// `top_p` (1 keeps them all). Only used when `temperature > 0`.
	pub top_p: f32,
	/// Seed of the request's sampler.
	pub seed: u64,
}

impl Default for Request {
	fn default() -> Self {
		Self {
			adapter: None,
			prompt: Vec::new(),
			max_tokens: 16,
			stop_tokens: Vec::new(),
			temperature: 0.0,
			top_p: 1.0,
			seed: 0,
		}
	}
}

/// What a request's stream reports, in order; [`Event::Done`] or [`Event::Error`] comes last.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
	/// A generated token.
	Token {
		/// Its id.
		id: u32,
	},
	/// Generation finished.
	Done {
		/// Why.
		reason: FinishReason,
		/// Tokens in the prompt.
		prompt_tokens: u32,
		/// Tokens generated (emitted as [`Event::Token`]).
		completion_tokens: u32,
		/// Milliseconds from submission to the first token (or to the end, when none).
		first_token_ms: f64,
		/// Milliseconds from submission to the end.
		total_ms: f64,
	},
	/// The request failed; nothing follows.
	Error(ServeError),
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
	/// A stop token came up.
	Stop,
	/// `max_tokens` were generated, or the context is full.
	Length,
}

/// Where an adapter sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
	/// In a slab slot, ready for the batch.
	Device,
	/// Parsed in host memory.
	Host,
	/// Only in the adapters directory.
	Disk,
}

/// An adapter as the engine knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AdapterInfo {
	/// Its id.
	pub id: AdapterId,
	/// Its rank.
	pub rank: usize,
	/// The projections it adapts.
	pub targets: Vec<Target>,
	/// Where it sits now.
	pub tier: Tier,
	/// Pinned adapters keep their slot.
	pub pinned: bool,
	/// Bytes of its `f32` values.
	pub bytes: usize,
}

/// Counters of the engine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngineStats {
	/// Sequences in the running batch.
	pub running: usize,
	/// Requests queued (waiting for a batch place or for their adapter).
	pub waiting: usize,
	/// Steps run.
	pub steps: u64,
	/// Tokens generated.
	pub tokens: u64,
	/// Prompt tokens fed.
	pub prompt_tokens: u64,
	/// Adapters loaded from disk or the content store.
	pub loads: u64,
	/// Adapters evicted from a slab slot.
	pub evictions: u64,
	/// Requests finished (done or failed).
	pub finished: u64,
	/// Microseconds the engine thread spent recording captures for attribution (the residual
	/// rows kept and each answer step's top-k and `delta`).
	pub capture_us: u64,
}

/// Why the engine refused or failed something.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServeError {
	/// No adapter with this id in the adapters directory, and no store to fetch it from.
	#[error(
		"unknown adapter {0:?}: not in the adapters directory and no content store configured"
	)]
	UnknownAdapter(AdapterId),
	/// The adapter does not fit the base Model (shapes, block count, format).
	#[error("adapter {id:?} is incompatible with the base model: {reason}")]
	IncompatibleAdapter {
		/// The adapter.
		id: AdapterId,
		/// What does not fit.
		reason: String,
	},
	/// The adapter's rank is above the slab's.
	#[error("adapter {id:?} has rank {rank}, above the engine's max_rank {max_rank}")]
	RankTooLarge {
		/// The adapter.
		id: AdapterId,
		/// Its rank.
		rank: usize,
		/// The slab's largest rank.
		max_rank: usize,
	},
	/// The prompt does not fit the context.
	#[error("the prompt has {tokens} tokens; the context holds {context_length}")]
	PromptTooLong {
		/// Tokens in the prompt.
		tokens: usize,
		/// The Model's context length.
		context_length: usize,
	},
	/// The prompt has no tokens.
	#[error("the prompt is empty")]
	EmptyPrompt,
	/// `max_tokens` is zero.
	#[error("max_tokens must be at least 1")]
	NoTokensRequested,
	/// A token id outside the vocabulary.
	#[error("token {token} is outside the vocabulary of {vocab_size} tokens")]
	TokenOutOfRange {
		/// The token.
		token: u32,
		/// Tokens in the vocabulary.
		vocab_size: usize,
	},
	/// Fetching the adapter from the content store failed (including a hash mismatch).
	#[error("fetching adapter {id:?} from the content store failed: {reason}")]
	StoreFetch {
		/// The adapter.
		id: AdapterId,
		/// Why.
		reason: String,
	},
	/// Every slab slot is pinned, so the adapter cannot become resident.
	#[error("no slab slot for adapter {0:?}: all slots are pinned")]
	SlabFull(AdapterId),
	/// The adapter is used by running requests and cannot be unloaded now.
	#[error("adapter {0:?} is in use by running requests")]
	AdapterInUse(AdapterId),
	/// Options out of range.
	#[error("invalid engine options: {0}")]
	InvalidOptions(String),
	/// The base weights do not match the config.
	#[error("the base weights do not match the config: {0}")]
	InvalidModel(String),
	/// Reading or writing the adapters directory failed.
	#[error("adapters directory: {0}")]
	Io(String),
	/// The engine thread is gone.
	#[error("the engine has stopped")]
	EngineStopped,
}
