//! Models as files: reading a pretrained Model from GGUF into plain Rust values.
//!
//! This is the first step of the ModelFactory (LoRA fine-tuning in the worker). Nothing here
//! knows about tensors of a compute framework, HTTP or the chain:
//!
//! - [`gguf`]: the GGUF v2/v3 container: header, metadata key/values, tensor infos, alignment,
//!   and each tensor's bytes, read on demand from the file ([`gguf::GgufFile`]) or from memory.
//! - [`safetensors`]: the Hugging Face `.safetensors` container: header, dtypes, checked offsets,
//!   and F32/F16/BF16 tensors as `f32` ([`safetensors::SafeTensors`]).
//! - [`dequant`]: tensor bytes to `f32` for F32, F16, BF16, Q4_0, Q4_1 and Q8_0.
//! - [`config`]: the hyperparameters of a Llama-architecture Model ([`config::LlamaConfig`]).
//! - [`tokenizer`]: the byte-level BPE tokenizer stored in the file ([`tokenizer::Tokenizer`]).
//! - [`reference`]: a plain-Rust `f32` Llama forward pass with a KV cache and greedy decoding
//!   ([`reference::ReferenceModel`]), the yardstick for accelerated implementations.
//!
//! The flow: open the file, read the config and the tokenizer from its metadata, then read and
//! dequantize the tensors the Model needs. `scripts/fetch-model.sh` downloads the reference
//! Model, SmolLM2-135M-Instruct (Q4_1).

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod config;
pub mod dequant;
pub mod gguf;
pub mod reference;
pub mod safetensors;
pub mod tokenizer;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
pub(crate) mod testing;

pub use config::{ConfigError, LlamaConfig};

/// The file name `scripts/fetch-model.sh` gives the reference Model.
pub const SMOLLM2_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// Where base Models are kept unless told otherwise: `$OPENLEDGER_MODELS`, else
/// `~/.cache/openledger/models` (where `scripts/fetch-model.sh` puts them).
pub fn default_models_dir() -> std::path::PathBuf {
	match std::env::var_os("OPENLEDGER_MODELS") {
		Some(dir) => dir.into(),
		None => std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
			.join(".cache/openledger/models"),
	}
}

/// The reference Model's file: `$OPENLEDGER_SMOLLM2`, else [`SMOLLM2_FILE`] in
/// [`default_models_dir`]. It may not exist.
pub fn smollm2_path() -> std::path::PathBuf {
	match std::env::var_os("OPENLEDGER_SMOLLM2") {
		Some(path) => path.into(),
		None => default_models_dir().join(SMOLLM2_FILE),
	}
}
pub use dequant::DequantError;
pub use gguf::{Gguf, GgufError, GgufFile, TensorInfo, TensorType};
pub use safetensors::{SafeTensors, SafeTensorsError};
pub use tokenizer::{Tokenizer, TokenizerError};
