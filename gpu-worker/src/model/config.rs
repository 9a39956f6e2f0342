//! The shape of a Llama-architecture Model, read from GGUF metadata.
//!
//! The keys are llama.cpp's: `llama.block_count`, `llama.embedding_length`, and so on. The
//! vocabulary size is the tokenizer's token count, or, without a tokenizer, the outer dimension of
//! `token_embd.weight`; when both are present they must agree. A Model without `output.weight`
//! ties its output projection to the token embeddings.

use super::gguf::{Gguf, MetadataValue};

/// The architecture this config describes.
pub const ARCHITECTURE: &str = "llama";
/// The RoPE base frequency when the file does not set one.
pub const DEFAULT_ROPE_FREQ_BASE: f32 = 10_000.0;
/// The token embedding tensor.
pub const TOKEN_EMBEDDING: &str = "token_embd.weight";
/// The output projection tensor; absent when tied to the token embedding.
pub const OUTPUT: &str = "output.weight";

/// Why a [`LlamaConfig`] could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
	/// `general.architecture` is not `llama`.
	#[error("architecture {0:?} is not supported (expected \"llama\")")]
	UnsupportedArchitecture(String),
	/// A required key is absent.
	#[error("metadata key {0:?} is missing")]
	Missing(String),
	/// A key holds a value of the wrong type.
	#[error("metadata key {key:?} should hold {expected}, found {found:?}")]
	WrongType {
		/// The key.
		key: String,
		/// What it should hold.
		expected: &'static str,
		/// What it holds.
		found: MetadataValue,
	},
	/// The values do not describe a Model that can be built.
	#[error("inconsistent config: {0}")]
	Inconsistent(String),
	/// A Hugging Face `config.json` is not a JSON object.
	#[error("config.json is not a JSON object: {0}")]
	InvalidJson(String),
	/// A Hugging Face `config.json` has a `model_type` other than `llama`.
	#[error("model_type {0:?} is not supported (expected \"llama\")")]
	UnsupportedModelType(String),
	/// A `config.json` key holds a value of the wrong type.
	#[error("config.json key {key:?} should hold {expected}, found {found}")]
	WrongJsonType {
		/// The key.
		key: String,
		/// What it should hold.
		expected: &'static str,
		/// What it holds, as JSON.
		found: String,
	},
}

/// The hyperparameters of a Llama-architecture Model.
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaConfig {
	/// Transformer blocks (`llama.block_count`).
	pub block_count: usize,
	/// Width of the residual stream (`llama.embedding_length`).
	pub embedding_length: usize,
	/// Hidden width of the feed-forward network (`llama.feed_forward_length`).
	pub feed_forward_length: usize,
	/// Query heads (`llama.attention.head_count`).
	pub head_count: usize,
	/// Key/value heads (`llama.attention.head_count_kv`; equal to `head_count` when absent).
	pub head_count_kv: usize,
	/// RoPE base frequency (`llama.rope.freq_base`, default 10000).
	pub rope_freq_base: f32,
	/// Dimensions per head that RoPE rotates (`llama.rope.dimension_count`, default head size).
	pub rope_dimension_count: usize,
	/// RMSNorm epsilon (`llama.attention.layer_norm_rms_epsilon`).
	pub rms_norm_eps: f32,
	/// The context length the Model was trained for (`llama.context_length`).
	pub context_length: usize,
	/// Tokens in the vocabulary.
	pub vocab_size: usize,
	/// Whether the output projection reuses the token embeddings (no `output.weight`).
	pub tied_embeddings: bool,
}

impl LlamaConfig {
	/// Reads the config of the Model in `gguf`.
	pub fn from_gguf(gguf: &Gguf) -> Result<Self, ConfigError> {
		let keys = Keys(gguf);
		let architecture = keys.string("general.architecture")?;
		if architecture != ARCHITECTURE {
			return Err(ConfigError::UnsupportedArchitecture(architecture.into()));
		}
		let block_count = keys.usize("llama.block_count")?;
		let embedding_length = keys.usize("llama.embedding_length")?;
		let feed_forward_length = keys.usize("llama.feed_forward_length")?;
		let head_count = keys.usize("llama.attention.head_count")?;
		let head_count_kv = keys.opt_usize("llama.attention.head_count_kv")?.unwrap_or(head_count);
		let rope_freq_base =
			keys.opt_f32("llama.rope.freq_base")?.unwrap_or(DEFAULT_ROPE_FREQ_BASE);
		let rms_norm_eps = keys.f32("llama.attention.layer_norm_rms_epsilon")?;
		let context_length = keys.usize("llama.context_length")?;

		let inconsistent = |what: String| Err(ConfigError::Inconsistent(what));
		// The shape checks are `validate`'s, once the whole config is read.
		let head_dim = embedding_length.checked_div(head_count).unwrap_or(0);
		let rope_dimension_count =
			keys.opt_usize("llama.rope.dimension_count")?.unwrap_or(head_dim);

		let embedding = gguf.tensor(TOKEN_EMBEDDING);
		let from_tokens = match gguf.metadata().get("tokenizer.ggml.tokens") {
			None => None,
			Some(tokens) => Some(
				tokens
					.as_array()
					.ok_or_else(|| keys.wrong_type("tokenizer.ggml.tokens", "an array", tokens))?
					.len(),
			),
		};
		let from_embedding = match embedding.map(|t| t.dims()) {
			None => None,
			Some([width, rows]) => {
				if *width != len_u64(embedding_length) {
					return inconsistent(format!(
						"{TOKEN_EMBEDDING} rows have {width} elements, not {embedding_length}"
					));
				}
				Some(usize::try_from(*rows).map_err(|_| {
					ConfigError::Inconsistent(format!("{TOKEN_EMBEDDING} has {rows} rows"))
				})?)
			}
			Some(dims) => {
				return inconsistent(format!("{TOKEN_EMBEDDING} has shape {dims:?}, expected 2-D"))
			}
		};
		let vocab_size = match (from_tokens, from_embedding) {
			(Some(tokens), Some(rows)) if tokens != rows => {
				return inconsistent(format!(
					"the tokenizer has {tokens} tokens but {TOKEN_EMBEDDING} has {rows} rows"
				))
			}
			(Some(n), _) | (None, Some(n)) => n,
			(None, None) => {
				return Err(ConfigError::Missing(format!(
					"tokenizer.ggml.tokens (or the {TOKEN_EMBEDDING} tensor)"
				)))
			}
		};
		let config = Self {
			block_count,
			embedding_length,
			feed_forward_length,
			head_count,
			head_count_kv,
			rope_freq_base,
			rope_dimension_count,
			rms_norm_eps,
			context_length,
			vocab_size,
			tied_embeddings: gguf.tensor(OUTPUT).is_none(),
		};
		config.validate()?;
		Ok(config)
	}

	/// Reads the config of a Hugging Face Model from the text of its `config.json`.
	///
	/// `model_type` must be `llama`. The keys map as: `num_hidden_layers` → `block_count`,
	/// `hidden_size` → `embedding_length`, `intermediate_size` → `feed_forward_length`,
	/// `num_attention_heads` → `head_count`, `num_key_value_heads` (default: the head count) →
	/// `head_count_kv`, `rope_theta` (default 10000) → `rope_freq_base`, `rms_norm_eps`,
	/// `max_position_embeddings` → `context_length`, `vocab_size`, and `tie_word_embeddings`
	/// (default false) → `tied_embeddings`. RoPE rotates whole heads; a `head_dim` other than
	/// `hidden_size / num_attention_heads`, or a non-null `rope_scaling`, is refused as
	/// inconsistent, since [`LlamaConfig`] cannot express it.
	pub fn from_hf_config_json(json: &str) -> Result<Self, ConfigError> {
		let value: serde_json::Value =
			serde_json::from_str(json).map_err(|e| ConfigError::InvalidJson(e.to_string()))?;
		let serde_json::Value::Object(map) = value else {
			return Err(ConfigError::InvalidJson("the top level is not an object".into()));
		};
		let keys = JsonKeys(&map);
		let model_type = keys.string("model_type")?;
		if model_type != ARCHITECTURE {
			return Err(ConfigError::UnsupportedModelType(model_type.into()));
		}
		let head_count = keys.usize("num_attention_heads")?;
		let embedding_length = keys.usize("hidden_size")?;
		let config = Self {
			block_count: keys.usize("num_hidden_layers")?,
			embedding_length,
			feed_forward_length: keys.usize("intermediate_size")?,
			head_count,
			head_count_kv: keys.opt_usize("num_key_value_heads")?.unwrap_or(head_count),
			rope_freq_base: keys.opt_f32("rope_theta")?.unwrap_or(DEFAULT_ROPE_FREQ_BASE),
			rope_dimension_count: embedding_length.checked_div(head_count).unwrap_or(0),
			rms_norm_eps: keys.f32("rms_norm_eps")?,
			context_length: keys.usize("max_position_embeddings")?,
			vocab_size: keys.usize("vocab_size")?,
			tied_embeddings: keys.opt_bool("tie_word_embeddings")?.unwrap_or(false),
		};
		config.validate()?;
		if let Some(head_dim) = keys.opt_usize("head_dim")? {
			if head_dim != config.head_dim() {
				return Err(ConfigError::Inconsistent(format!(
					"head_dim {head_dim} is not hidden_size / num_attention_heads = {}",
					config.head_dim()
				)));
			}
		}
		match map.get("rope_scaling") {
			None | Some(serde_json::Value::Null) => {}
			Some(scaling) => {
				return Err(ConfigError::Inconsistent(format!(
					"rope_scaling {scaling} is not supported"
				)))
			}
		}
		Ok(config)
	}

	/// Checks that the sizes fit together (both constructors end with it).
	fn validate(&self) -> Result<(), ConfigError> {
		let inconsistent = |what: String| Err(ConfigError::Inconsistent(what));
		let Self { block_count, embedding_length, feed_forward_length, head_count, .. } = *self;
		let Self { head_count_kv, rope_freq_base, rms_norm_eps, vocab_size, .. } = *self;
		if block_count == 0 || embedding_length == 0 || feed_forward_length == 0 {
			return inconsistent(
				"block count, embedding and feed-forward lengths must be positive".into(),
			);
		}
		if head_count == 0 || embedding_length % head_count != 0 {
			return inconsistent(format!(
				"embedding length {embedding_length} is not a multiple of {head_count} heads"
			));
		}
		if head_count_kv == 0 || head_count % head_count_kv != 0 {
			return inconsistent(format!(
				"{head_count} query heads cannot be shared among {head_count_kv} key/value heads"
			));
		}
		let head_dim = self.head_dim();
		if self.rope_dimension_count > head_dim || self.rope_dimension_count % 2 != 0 {
			return inconsistent(format!(
				"RoPE over {} dimensions does not fit heads of {head_dim}",
				self.rope_dimension_count
			));
		}
		if !(rope_freq_base.is_finite() && rope_freq_base > 0.0) {
			return inconsistent(format!("RoPE base {rope_freq_base} is not positive"));
		}
		if !(rms_norm_eps.is_finite() && rms_norm_eps > 0.0) {
			return inconsistent(format!("RMSNorm epsilon {rms_norm_eps} is not positive"));
		}
		if vocab_size == 0 {
			return inconsistent("the vocabulary is empty".into());
		}
		Ok(())
	}

	/// Dimensions per attention head.
	pub fn head_dim(&self) -> usize {
		self.embedding_length / self.head_count.max(1)
	}

	/// Width of the key and value projections (`head_count_kv * head_dim`).
	pub fn kv_dim(&self) -> usize {
		self.head_count_kv.saturating_mul(self.head_dim())
	}
}

fn len_u64(n: usize) -> u64 {
	u64::try_from(n).unwrap_or(u64::MAX)
}

/// Typed lookups with the errors a config reports.
struct Keys<'a>(&'a Gguf);

impl Keys<'_> {
	fn get(&self, key: &str) -> Result<&MetadataValue, ConfigError> {
		self.0.metadata().get(key).ok_or_else(|| ConfigError::Missing(key.into()))
	}

	fn wrong_type(&self, key: &str, expected: &'static str, found: &MetadataValue) -> ConfigError {
		ConfigError::WrongType { key: key.into(), expected, found: found.clone() }
	}

	fn string(&self, key: &str) -> Result<&str, ConfigError> {
		let value = self.get(key)?;
		value.as_str().ok_or_else(|| self.wrong_type(key, "a string", value))
	}

	fn usize(&self, key: &str) -> Result<usize, ConfigError> {
		let value = self.get(key)?;
		value
			.as_u64()
			.and_then(|v| usize::try_from(v).ok())
			.ok_or_else(|| self.wrong_type(key, "a non-negative integer", value))
	}

	fn opt_usize(&self, key: &str) -> Result<Option<usize>, ConfigError> {
		match self.0.metadata().contains(key) {
			true => self.usize(key).map(Some),
			false => Ok(None),
		}
	}

	fn f32(&self, key: &str) -> Result<f32, ConfigError> {
		let value = self.get(key)?;
		value.as_f64().map(|v| v as f32).ok_or_else(|| self.wrong_type(key, "a float", value))
	}

	fn opt_f32(&self, key: &str) -> Result<Option<f32>, ConfigError> {
		match self.0.metadata().contains(key) {
			true => self.f32(key).map(Some),
			false => Ok(None),
		}
	}
}

/// Typed lookups in a `config.json` object.
struct JsonKeys<'a>(&'a serde_json::Map<String, serde_json::Value>);

impl JsonKeys<'_> {
	fn get(&self, key: &str) -> Result<&serde_json::Value, ConfigError> {
		self.0.get(key).ok_or_else(|| ConfigError::Missing(key.into()))
	}

	fn wrong_type(key: &str, expected: &'static str, found: &serde_json::Value) -> ConfigError {
		ConfigError::WrongJsonType { key: key.into(), expected, found: found.to_string() }
	}

	/// `None` when the key is absent or null.
	fn opt(&self, key: &str) -> Option<&serde_json::Value> {
		self.0.get(key).filter(|v| !v.is_null())
	}

	fn string(&self, key: &str) -> Result<&str, ConfigError> {
		let value = self.get(key)?;
		value.as_str().ok_or_else(|| Self::wrong_type(key, "a string", value))
	}

	fn usize(&self, key: &str) -> Result<usize, ConfigError> {
		self.opt_usize(key)?.ok_or_else(|| ConfigError::Missing(key.into()))
	}

	fn opt_usize(&self, key: &str) -> Result<Option<usize>, ConfigError> {
		let Some(value) = self.opt(key) else { return Ok(None) };
		value
			.as_u64()
			.and_then(|v| usize::try_from(v).ok())
			.map(Some)
			.ok_or_else(|| Self::wrong_type(key, "a non-negative integer", value))
	}

	fn f32(&self, key: &str) -> Result<f32, ConfigError> {
		self.opt_f32(key)?.ok_or_else(|| ConfigError::Missing(key.into()))
	}

	fn opt_f32(&self, key: &str) -> Result<Option<f32>, ConfigError> {
		let Some(value) = self.opt(key) else { return Ok(None) };
		value
			.as_f64()
			.map(|v| Some(v as f32))
			.ok_or_else(|| Self::wrong_type(key, "a number", value))
	}

	fn opt_bool(&self, key: &str) -> Result<Option<bool>, ConfigError> {
		let Some(value) = self.opt(key) else { return Ok(None) };
		value.as_bool().map(Some).ok_or_else(|| Self::wrong_type(key, "a boolean", value))
	}
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
	use super::*;
	use crate::model::{
		gguf::TensorType,
		testing::{GgufWriter, Value},
	};

	fn smol_like() -> GgufWriter {
		let mut w = GgufWriter::new();
		w.kv("general.architecture", Value::Str("llama".into()))
			.kv("llama.block_count", Value::U32(2))
			.kv("llama.context_length", Value::U32(64))
			.kv("llama.embedding_length", Value::U32(64))
			.kv("llama.feed_forward_length", Value::U32(128))
			.kv("llama.attention.head_count", Value::U32(4))
			.kv("llama.attention.head_count_kv", Value::U32(2))
			.kv("llama.attention.layer_norm_rms_epsilon", Value::F32(1e-5))
			.tensor("token_embd.weight", &[64, 10], TensorType::F32, vec![0; 64 * 10 * 4]);
		w
	}

	fn read(w: &GgufWriter) -> Result<LlamaConfig, ConfigError> {
		LlamaConfig::from_gguf(&Gguf::from_bytes(&w.to_bytes()).unwrap())
	}

	#[test]
	fn reads_llama_hyperparameters_with_defaults() {
		let config = read(&smol_like()).unwrap();
		assert_eq!(
			config,
			LlamaConfig {
				block_count: 2,
				embedding_length: 64,
				feed_forward_length: 128,
				head_count: 4,
				head_count_kv: 2,
				rope_freq_base: 10_000.0,
				rope_dimension_count: 16,
				rms_norm_eps: 1e-5,
				context_length: 64,
				vocab_size: 10,
				tied_embeddings: true,
			}
		);
		assert_eq!(config.head_dim(), 16);
		assert_eq!(config.kv_dim(), 32);
	}

	#[test]
	fn reads_rope_base_and_untied_output() {
		let mut w = smol_like();
		w.kv("llama.rope.freq_base", Value::F32(100_000.0)).tensor(
			"output.weight",
			&[64, 10],
			TensorType::F32,
			vec![0; 64 * 10 * 4],
		);
		let config = read(&w).unwrap();
		assert_eq!(config.rope_freq_base, 100_000.0);
		assert!(!config.tied_embeddings);
	}

	#[test]
	fn takes_vocab_size_from_the_tokenizer_and_checks_the_embedding() {
		let mut w = smol_like();
		let tokens: Vec<Value> = (0..10).map(|i| Value::Str(format!("t{i}"))).collect();
		w.kv("tokenizer.ggml.tokens", Value::Array(tokens));
		assert_eq!(read(&w).unwrap().vocab_size, 10);

		let mut w = smol_like();
		let tokens: Vec<Value> = (0..11).map(|i| Value::Str(format!("t{i}"))).collect();
		w.kv("tokenizer.ggml.tokens", Value::Array(tokens));
		assert!(matches!(read(&w), Err(ConfigError::Inconsistent(_))));
	}

	#[test]
	fn rejects_other_architectures() {
		let mut w = GgufWriter::new();
		w.kv("general.architecture", Value::Str("gpt2".into()));
		assert_eq!(read(&w), Err(ConfigError::UnsupportedArchitecture("gpt2".into())));
	}

	#[test]
	fn names_missing_and_mistyped_keys() {
		let mut w = GgufWriter::new();
		w.kv("general.architecture", Value::Str("llama".into()));
		assert_eq!(read(&w), Err(ConfigError::Missing("llama.block_count".into())));

		let mut w = GgufWriter::new();
		w.kv("general.architecture", Value::Str("llama".into()))
			.kv("llama.block_count", Value::Str("thirty".into()));
		assert!(matches!(
			read(&w),
			Err(ConfigError::WrongType { key, .. }) if key == "llama.block_count"
		));
	}

	#[test]
	fn rejects_heads_that_do_not_divide_the_embedding() {
		let mut w = smol_like();
		w.kv("llama.attention.head_count", Value::U32(5));
		assert!(matches!(read(&w), Err(ConfigError::Inconsistent(_))));

		let mut w = smol_like();
		w.kv("llama.attention.head_count_kv", Value::U32(3));
		assert!(matches!(read(&w), Err(ConfigError::Inconsistent(_))));
	}

	/// SmolLM2-135M's config.json, abridged.
	const SMOL_CONFIG: &str = r#"{
		"architectures": ["LlamaForCausalLM"],
		"model_type": "llama",
		"hidden_size": 576,
		"intermediate_size": 1536,
		"num_hidden_layers": 30,
		"num_attention_heads": 9,
		"num_key_value_heads": 3,
		"rms_norm_eps": 1e-05,
		"rope_theta": 100000,
		"rope_scaling": null,
		"max_position_embeddings": 8192,
		"vocab_size": 49152,
		"tie_word_embeddings": true,
		"torch_dtype": "bfloat16"
	}"#;

	fn hf(
		edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
	) -> Result<LlamaConfig, ConfigError> {
		let mut map: serde_json::Map<String, serde_json::Value> =
			serde_json::from_str(SMOL_CONFIG).unwrap();
		edit(&mut map);
		LlamaConfig::from_hf_config_json(&serde_json::Value::Object(map).to_string())
	}

	#[test]
	fn reads_a_hugging_face_config_json() {
		let config = LlamaConfig::from_hf_config_json(SMOL_CONFIG).unwrap();
		assert_eq!(
			config,
			LlamaConfig {
				block_count: 30,
				embedding_length: 576,
				feed_forward_length: 1536,
				head_count: 9,
				head_count_kv: 3,
				rope_freq_base: 100_000.0,
				rope_dimension_count: 64,
				rms_norm_eps: 1e-5,
				context_length: 8192,
				vocab_size: 49152,
				tied_embeddings: true,
			}
		);
		assert_eq!(config.head_dim(), 64);
		assert_eq!(config.kv_dim(), 192);
		// The same with head_dim spelled out.
		assert_eq!(
			hf(|m| {
				m.insert("head_dim".into(), 64.into());
			}),
			Ok(config)
		);
	}

	#[test]
	fn applies_hugging_face_defaults() {
		let config = hf(|m| {
			m.remove("num_key_value_heads");
			m.remove("rope_theta");
			m.remove("tie_word_embeddings");
		})
		.unwrap();
		assert_eq!(config.head_count_kv, 9);
		assert_eq!(config.rope_freq_base, DEFAULT_ROPE_FREQ_BASE);
		assert!(!config.tied_embeddings);
		// null is absent.
		let config = hf(|m| {
			m.insert("num_key_value_heads".into(), serde_json::Value::Null);
		})
		.unwrap();
		assert_eq!(config.head_count_kv, 9);
	}

	#[test]
	fn hugging_face_config_errors() {
		assert!(matches!(LlamaConfig::from_hf_config_json("{"), Err(ConfigError::InvalidJson(_))));
		assert!(matches!(
			LlamaConfig::from_hf_config_json("[1]"),
			Err(ConfigError::InvalidJson(_))
		));
		for model_type in ["mistral", "gpt2"] {
			assert_eq!(
				hf(|m| {
					m.insert("model_type".into(), model_type.into());
				}),
				Err(ConfigError::UnsupportedModelType(model_type.into()))
			);
		}
		assert_eq!(
			hf(|m| {
				m.remove("model_type");
			}),
			Err(ConfigError::Missing("model_type".into()))
		);
		assert_eq!(
			hf(|m| {
				m.insert("model_type".into(), 1.into());
			}),
			Err(ConfigError::WrongJsonType {
				key: "model_type".into(),
				expected: "a string",
				found: "1".into()
			})
		);
		for key in [
			"hidden_size",
			"intermediate_size",
			"num_hidden_layers",
			"num_attention_heads",
			"rms_norm_eps",
			"max_position_embeddings",
			"vocab_size",
		] {
			assert_eq!(
				hf(|m| {
					m.remove(key);
				}),
				Err(ConfigError::Missing(key.into())),
				"{key}"
			);
		}
		for (key, value) in [
			("hidden_size", serde_json::json!("576")),
			("num_key_value_heads", serde_json::json!(-3)),
			("rope_theta", serde_json::json!("big")),
			("tie_word_embeddings", serde_json::json!(1)),
		] {
			assert!(
				matches!(
					hf(|m| {
						m.insert(key.into(), value);
					}),
					Err(ConfigError::WrongJsonType { key: k, .. }) if k == key
				),
				"{key}"
			);
		}
		for (key, value) in [
			("num_attention_heads", serde_json::json!(7)),
			("num_key_value_heads", serde_json::json!(2)),
			("num_hidden_layers", serde_json::json!(0)),
			("rms_norm_eps", serde_json::json!(0.0)),
			("rope_theta", serde_json::json!(-1.0)),
			("vocab_size", serde_json::json!(0)),
			("head_dim", serde_json::json!(32)),
			("rope_scaling", serde_json::json!({"rope_type": "llama3", "factor": 8.0})),
		] {
			assert!(
				matches!(
					hf(|m| {
						m.insert(key.into(), value);
					}),
					Err(ConfigError::Inconsistent(_))
				),
				"{key}"
			);
		}
	}
}
