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
	reference::{BlockWeights, Matrix, ReferenceError, Weights},
	GgufFile, LlamaConfig, SafeTensors, Tokenizer,
};
use std::path::Path;

pub use data::{Dataset, Document, Example};
pub use llama::{host, BaseModel, TailModel};
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

/// The compute backend training runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainBackend {
	/// burn's ndarray backend.
	Cpu,
	/// burn's CUDA backend (`cuda` feature).
	Cuda,
}

/// Moves `base` onto `backend` and trains there ([`train`]). Without the `cuda` feature,
/// [`TrainBackend::Cuda`] is refused with [`TrainError::Unsupported`].
pub fn train_on(
	backend: TrainBackend,
	base: &BaseFiles,
	data: &Dataset,
	config: &TrainConfig,
	hooks: &mut dyn TrainHooks,
) -> Result<(Adapter, TrainReport), TrainError> {
	match backend {
		TrainBackend::Cpu => {
			train(&base.to_device::<CpuTrain>(&Default::default())?, data, config, hooks)
		}
		#[cfg(feature = "cuda")]
		TrainBackend::Cuda => {
			train(&base.to_device::<CudaTrain>(&Default::default())?, data, config, hooks)
		}
		#[cfg(not(feature = "cuda"))]
		TrainBackend::Cuda => Err(TrainError::Unsupported(
			"this build has no CUDA backend (build with --features cuda)".into(),
		)),
	}
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
	/// Reads `path`: a `.gguf` file, or a Hugging Face directory ([`BaseFiles::open_hf_dir`]).
	pub fn open(path: &Path) -> Result<Self, TrainError> {
		if path.is_dir() {
			return Self::open_hf_dir(path);
		}
		let file = GgufFile::open(path).map_err(ReferenceError::from)?;
		let config = LlamaConfig::from_gguf(file.gguf()).map_err(ReferenceError::from)?;
		let tokenizer = Tokenizer::from_gguf(file.gguf())
			.map_err(|e| TrainError::Unsupported(format!("tokenizer: {e}")))?;
		let weights = Weights::load(&file, &config)?;
		Ok(Self { config, tokenizer, weights })
	}

	/// Reads a Hugging Face checkpoint directory: `config.json`, `tokenizer.json` and
	/// `model.safetensors` (F32, F16 or BF16). The `q_proj` and `k_proj` rows are permuted to
	/// GGUF's adjacent-pair RoPE order, which the forward passes here use. The end-of-sequence
	/// token is the tokenizer's `<|endoftext|>`, `</s>` or `<|im_end|>`, whichever exists.
	pub fn open_hf_dir(dir: &Path) -> Result<Self, TrainError> {
		let read = |name: &str| {
			let path = dir.join(name);
			std::fs::read(&path).map_err(|e| TrainError::Io(format!("{}: {e}", path.display())))
		};
		let text = |name: &str| {
			read(name).and_then(|b| {
				String::from_utf8(b).map_err(|e| TrainError::Io(format!("{name}: {e}")))
			})
		};
		let config = LlamaConfig::from_hf_config_json(&text("config.json")?)
			.map_err(ReferenceError::from)?;
		let mut tokenizer = Tokenizer::from_hf_tokenizer_json(&text("tokenizer.json")?)
			.map_err(|e| TrainError::Unsupported(format!("tokenizer: {e}")))?;
		let eos =
			["<|endoftext|>", "</s>", "<|im_end|>"].iter().find_map(|t| tokenizer.token_id(t));
		tokenizer.set_special_ids(None, eos);
		let file = SafeTensors::from_bytes(read("model.safetensors")?)
			.map_err(|e| TrainError::Unsupported(format!("model.safetensors: {e}")))?;
		let matrix = |name: &str, rows: usize, cols: usize| -> Result<Matrix, TrainError> {
			let values = file
				.tensor_f32(name)
				.map_err(|e| TrainError::Unsupported(format!("{name}: {e}")))?;
			Matrix::new(rows, cols, values)
				.ok_or_else(|| TrainError::Unsupported(format!("{name}: not {rows} x {cols}")))
		};
		let vector = |name: &str, len: usize| -> Result<Vec<f32>, TrainError> {
			let v = file
				.tensor_f32(name)
				.map_err(|e| TrainError::Unsupported(format!("{name}: {e}")))?;
			match v.len() == len {
				true => Ok(v),
				false => {
					Err(TrainError::Unsupported(format!("{name}: {} values, not {len}", v.len())))
				}
			}
		};
		let (dim, kv, ffn) = (config.embedding_length, config.kv_dim(), config.feed_forward_length);
		let rope_order = |m: Matrix, heads: usize| -> Result<Matrix, TrainError> {
			let (rows, cols) = (m.rows(), m.cols());
			let flat: Vec<f32> = (0..rows).flat_map(|r| m.row(r).unwrap_or(&[]).to_vec()).collect();
			Matrix::new(rows, cols, lora::permute_rows(&flat, rows, cols, heads))
				.ok_or_else(|| TrainError::Unsupported("q/k permutation".into()))
		};
		let blocks = (0..config.block_count)
			.map(|n| {
				let name = |what: &str| format!("model.layers.{n}.{what}.weight");
				Ok(BlockWeights {
					attn_norm: vector(&name("input_layernorm"), dim)?,
					attn_q: rope_order(
						matrix(&name("self_attn.q_proj"), dim, dim)?,
						config.head_count,
					)?,
					attn_k: rope_order(
						matrix(&name("self_attn.k_proj"), kv, dim)?,
						config.head_count_kv,
					)?,
					attn_v: matrix(&name("self_attn.v_proj"), kv, dim)?,
					attn_output: matrix(&name("self_attn.o_proj"), dim, dim)?,
					ffn_norm: vector(&name("post_attention_layernorm"), dim)?,
					ffn_gate: matrix(&name("mlp.gate_proj"), ffn, dim)?,
					ffn_up: matrix(&name("mlp.up_proj"), ffn, dim)?,
					ffn_down: matrix(&name("mlp.down_proj"), dim, ffn)?,
				})
			})
			.collect::<Result<Vec<_>, TrainError>>()?;
		let weights = Weights {
			token_embd: matrix("model.embed_tokens.weight", config.vocab_size, dim)?,
			blocks,
			output_norm: vector("model.norm.weight", dim)?,
			output: match config.tied_embeddings {
				true => None,
				false => Some(matrix("lm_head.weight", config.vocab_size, dim)?),
			},
		};
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
