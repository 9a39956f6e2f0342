//! The ModelFactory: LoRA fine-tuning of a pretrained Llama Model on a Datanet snapshot's text.
//!
//! - [`llama`]: the decoder in burn (RMSNorm, RoPE, grouped-query attention, SwiGLU) over a
//!   frozen base, with LoRA pairs added to the projections they target.
//! - [`lora`]: targets, hyperparameters, adapter values, and the PEFT files they are saved as.
//! - [`data`]: documents to token windows; the deterministic train / held-out split.
//! - [`optim`]: AdamW and the warmup + cosine schedule.
//! - [`trainer`]: the loop, per-example gradients ([`trainer::TrainHooks`]), evaluation.
//! - [`report`]: the training report (JSON) and the loss-curve PNG.
//!
//! **Backends.** CPU is burn's `ndarray` backend (the default, and what every test runs). CUDA
//! is burn's CubeCL CUDA backend behind the `cuda` cargo feature; burn 0.21.0 was chosen
//! because its `cuda` feature builds offline from crates.io (CUDA is loaded at run time through
//! cudarc), where 0.22's build downloads LLVM. On CPU a run is bit-for-bit reproducible; on
//! CUDA, kernels may sum in a different order, so replicas agree by held-out metrics within a
//! tolerance instead (see `docs/ARCHITECTURE.md`).

pub mod data;
pub mod llama;
pub mod lora;
pub mod optim;
pub mod report;
pub mod rng;
pub mod trainer;

use crate::model::{
	reference::{ReferenceError, Weights},
	GgufFile, LlamaConfig, Tokenizer,
};
use std::path::Path;

pub use data::{Dataset, Document, Example};
pub use llama::{host, BaseModel};
pub use lora::{Adapter, LoraConfig, Target};
pub use trainer::{train, TrainConfig, TrainHooks, TrainReport};

/// The CPU backend.
pub type Cpu = burn::backend::NdArray<f32>;
/// The CPU backend with autodiff, for training.
pub type CpuTrain = burn::backend::Autodiff<Cpu>;
/// The CUDA backend with autodiff (`cuda` feature).
#[cfg(feature = "cuda")]
pub type CudaTrain = burn::backend::Autodiff<burn::backend::Cuda<f32>>;

/// Why training could not run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
	/// The base Model could not be read.
	#[error("base model: {0}")]
	Model(#[from] ReferenceError),
	/// A file could not be read or written.
	#[error("{0}")]
	Io(String),
	/// A hyperparameter is out of range.
	#[error("invalid training config: {0}")]
	InvalidConfig(String),
	/// The Model uses something this implementation does not.
	#[error("unsupported model: {0}")]
	Unsupported(String),
	/// A sequence with no tokens to predict.
	#[error("a sequence needs at least two tokens")]
	EmptySequence,
	/// A sequence longer than the Model's context.
	#[error("sequence of {len} tokens is over the context length {context}")]
	SequenceTooLong {
		/// Its length.
		len: usize,
		/// The context length.
		context: usize,
	},
	/// A token outside the vocabulary.
	#[error("token {token} is outside the vocabulary of {vocab_size}")]
	TokenOutOfRange {
		/// The token.
		token: u32,
		/// The vocabulary size.
		vocab_size: usize,
	},
	/// Not enough data.
	#[error("no data: {0}")]
	NoData(&'static str),
	/// The loss became NaN or infinite.
	#[error("training diverged at step {step} (non-finite loss); lower the learning rate")]
	Diverged {
		/// The step.
		step: u32,
	},
	/// A saved adapter could not be read.
	#[error("invalid adapter: {0}")]
	InvalidAdapter(String),
	/// The backend reported an error.
	#[error("backend: {0}")]
	Backend(String),
}

/// A base Model read from a GGUF file: config, tokenizer and dequantized weights.
pub struct BaseFiles {
	/// Hyperparameters.
	pub config: LlamaConfig,
	/// The tokenizer from the file's metadata.
	pub tokenizer: Tokenizer,
	/// Every weight as `f32`.
	pub weights: Weights,
}

impl BaseFiles {
	/// Reads `path` (a `.gguf` file).
	pub fn open(path: &Path) -> Result<Self, TrainError> {
		let file = GgufFile::open(path).map_err(ReferenceError::from)?;
		let config = LlamaConfig::from_gguf(file.gguf()).map_err(ReferenceError::from)?;
		let tokenizer = Tokenizer::from_gguf(file.gguf())
			.map_err(|e| TrainError::Unsupported(format!("tokenizer: {e}")))?;
		let weights = Weights::load(&file, &config)?;
		Ok(Self { config, tokenizer, weights })
	}

	/// The base Model on `device`.
	pub fn to_device<B: burn::tensor::backend::Backend>(
		&self,
		device: &B::Device,
	) -> Result<BaseModel<B>, TrainError> {
		BaseModel::new(self.config.clone(), &self.weights, device)
	}
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests;
