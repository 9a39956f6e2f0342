//! LoRA adapters: which projections they target, their hyperparameters, their values on the
//! host, and the PEFT format they are saved in (`adapter_model.safetensors` +
//! `adapter_config.json`), which Hugging Face PEFT loads with `PeftModel.from_pretrained`.
//!
//! **Layouts.** Here `a` is `in × rank` and `b` is `rank × out`, so `x a b` is the update of a
//! row `x`. PEFT stores `lora_A.weight` as `rank × in` and `lora_B.weight` as `out × rank`
//! (torch `Linear` weights), so both are transposed on save and load. GGUF Llama files permute
//! the output rows of `q_proj` and `k_proj` so that RoPE rotates adjacent pairs (see
//! [`crate::model::reference`]); Hugging Face checkpoints keep rotate-half order. An adapter
//! trained on a GGUF base therefore has its `q`/`k` `lora_B` rows permuted back on save, so that
//! it applies to the Hugging Face checkpoint of the same Model.

use super::{rng::SplitMix64, TrainError};
use crate::model::{reference::Weights, safetensors::write_f32, LlamaConfig, SafeTensors};
use std::{collections::BTreeMap, path::Path};

/// A projection of a Llama block that an adapter can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
	/// Attention query.
	Q,
	/// Attention key.
	K,
	/// Attention value.
	V,
	/// Attention output.
	O,
	/// Feed-forward gate.
	Gate,
	/// Feed-forward up.
	Up,
	/// Feed-forward down.
	Down,
}

impl Target {
	/// Every target, in index (and on-chain bit) order.
	pub const ALL: [Target; 7] =
		[Target::Q, Target::K, Target::V, Target::O, Target::Gate, Target::Up, Target::Down];

	/// Its position in [`Target::ALL`]; bit `1 << index` in an on-chain target mask.
	pub fn index(self) -> usize {
		match self {
			Target::Q => 0,
			Target::K => 1,
			Target::V => 2,
			Target::O => 3,
			Target::Gate => 4,
			Target::Up => 5,
			Target::Down => 6,
		}
	}

	/// The Hugging Face module name (`q_proj`, ..., `down_proj`).
	pub fn hf_name(self) -> &'static str {
		match self {
			Target::Q => "q_proj",
			Target::K => "k_proj",
			Target::V => "v_proj",
			Target::O => "o_proj",
			Target::Gate => "gate_proj",
			Target::Up => "up_proj",
			Target::Down => "down_proj",
		}
	}

	/// The Hugging Face module path below `model.layers.N`.
	fn hf_parent(self) -> &'static str {
		match self {
			Target::Q | Target::K | Target::V | Target::O => "self_attn",
			Target::Gate | Target::Up | Target::Down => "mlp",
		}
	}

	/// The target named `name` (`q`, `q_proj`, ... as on the command line).
	pub fn parse(name: &str) -> Option<Self> {
		let name = name.trim().trim_end_matches("_proj");
		Self::ALL.into_iter().find(|t| t.hf_name().trim_end_matches("_proj") == name)
	}

	/// The PEFT name prefix of this projection in block `n`
	/// (`base_model.model.model.layers.N.self_attn.q_proj`).
	fn peft_prefix(self, n: usize) -> String {
		format!("base_model.model.model.layers.{n}.{}.{}", self.hf_parent(), self.hf_name())
	}

	/// The heads whose rows GGUF permutes for RoPE: query heads for `q`, key/value heads for
	/// `k`; `None` for projections RoPE does not touch.
	fn rope_heads(self, model: &LlamaConfig) -> Option<usize> {
		match self {
			Target::Q => Some(model.head_count),
			Target::K => Some(model.head_count_kv),
			_ => None,
		}
	}

	/// The targets of an on-chain bit mask (bit `i` = `ALL[i]`); `None` if it is empty or has
	/// unknown bits.
	pub fn from_mask(mask: u8) -> Option<Vec<Target>> {
		if mask == 0 || mask >= 1 << Self::ALL.len() {
			return None;
		}
		Some(Self::ALL.into_iter().filter(|t| mask & (1 << t.index()) != 0).collect())
	}
}

/// The hyperparameters of an adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct LoraConfig {
	/// Rank of `a` and `b`.
	pub rank: u16,
	/// The update is scaled by `alpha / rank`.
	pub alpha: u16,
	/// Dropout on each adapted projection's input, in `[0, 1)`.
	pub dropout: f32,
	/// The projections adapted in every block, in [`Target::ALL`] order.
	pub targets: Vec<Target>,
}

impl LoraConfig {
	/// Checks the values: rank 1..=256, alpha >= 1, dropout in [0, 0.9], at least one target.
	pub fn validate(&self) -> Result<(), TrainError> {
		let bad = |what: &str| Err(TrainError::InvalidConfig(what.into()));
		if self.rank == 0 || self.rank > 256 {
			return bad("rank must be 1..=256");
		}
		if self.alpha == 0 {
			return bad("alpha must be at least 1");
		}
		if !(0.0..=0.9).contains(&self.dropout) {
			return bad("dropout must be in [0, 0.9]");
		}
		if self.targets.is_empty() {
			return bad("at least one target module is needed");
		}
		Ok(())
	}

	/// Whether `target` is adapted.
	pub fn targets(&self, target: Target) -> bool {
		self.targets.contains(&target)
	}
}

/// One adapted projection's values on the host: `a` is `in × rank`, `b` is `rank × out`,
/// row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct LoraWeights {
	/// Rows of the input.
	pub input: usize,
	/// Columns of the output.
	pub output: usize,
	/// `in × rank`.
	pub a: Vec<f32>,
	/// `rank × out`.
	pub b: Vec<f32>,
}

/// An adapter: its config and, per block and target, its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Adapter {
	/// Hyperparameters.
	pub config: LoraConfig,
	/// `blocks[n][target.index()]`.
	pub blocks: Vec<[Option<LoraWeights>; 7]>,
}

impl Adapter {
	/// A fresh adapter for `model`, initialized as PEFT does: `a` uniform in
	/// `±1/sqrt(in)` (Kaiming-uniform with `a = sqrt(5)`), `b` zero, so training starts at the
	/// base Model. Deterministic in `seed`.
	pub fn init(config: LoraConfig, model: &LlamaConfig, seed: u64) -> Result<Self, TrainError> {
		config.validate()?;
		let rank = usize::from(config.rank);
		let mut rng = SplitMix64::new(seed ^ 0x4c6f_5241_696e_6974);
		let blocks = (0..model.block_count)
			.map(|_| {
				let mut slots: [Option<LoraWeights>; 7] = Default::default();
				for target in &config.targets {
					let (input, output) = shape(model, *target);
					let bound = 1.0 / (input as f32).sqrt();
					let a = (0..input * rank).map(|_| rng.uniform(-bound, bound)).collect();
					let b = vec![0.0; rank * output];
					if let Some(slot) = slots.get_mut(target.index()) {
						*slot = Some(LoraWeights { input, output, a, b });
					}
				}
				slots
			})
			.collect();
		Ok(Self { config, blocks })
	}

	/// Adds the adapter's update to `weights` in place: `W[out][in] += scale * Σ_r a[in][r]
	/// b[r][out]` for every adapted projection. The merged Model computes what the base with
	/// the adapter computes (without dropout); it is the reference path adapters are checked
	/// against.
	pub fn merge_into(&self, weights: &mut Weights) {
		let rank = usize::from(self.config.rank);
		let scale = self.config.scale();
		for (block, slots) in weights.blocks.iter_mut().zip(&self.blocks) {
			for target in Target::ALL {
				let Some(w) = slots.get(target.index()).and_then(Option::as_ref) else { continue };
				let m = match target {
					Target::Q => &mut block.attn_q,
					Target::K => &mut block.attn_k,
					Target::V => &mut block.attn_v,
					Target::O => &mut block.attn_output,
					Target::Gate => &mut block.ffn_gate,
					Target::Up => &mut block.ffn_up,
					Target::Down => &mut block.ffn_down,
				};
				for out in 0..w.output {
					let Some(row) = m.row_mut(out) else { continue };
					for (i, value) in row.iter_mut().enumerate().take(w.input) {
						let mut delta = 0f32;
						for r in 0..rank {
							let a = w.a.get(i * rank + r).copied().unwrap_or(0.0);
							let b = w.b.get(r * w.output + out).copied().unwrap_or(0.0);
							delta += a * b;
						}
						*value += scale * delta;
					}
				}
			}
		}
	}

	/// Values per parameter count: `rank × (in + out)` over the adapted projections.
	pub fn parameter_count(&self) -> usize {
		self.blocks.iter().flatten().flatten().map(|w| w.a.len().saturating_add(w.b.len())).sum()
	}

	/// The adapter in PEFT's safetensors layout: `(name, shape, values)` per tensor, sorted by
	/// name. `model` tells the head layout for the `q`/`k` row permutation.
	pub fn peft_tensors(&self, model: &LlamaConfig) -> Vec<(String, Vec<usize>, Vec<f32>)> {
		let rank = usize::from(self.config.rank);
		let mut out = Vec::new();
		for (n, block) in self.blocks.iter().enumerate() {
			for target in Target::ALL {
				let Some(w) = block.get(target.index()).and_then(Option::as_ref) else { continue };
				let prefix = target.peft_prefix(n);
				// lora_A.weight: rank × in, the transpose of a.
				out.push((
					format!("{prefix}.lora_A.weight"),
					vec![rank, w.input],
					transpose(&w.a, w.input, rank),
				));
				// lora_B.weight: out × rank, the transpose of b, rows back in Hugging Face order.
				let mut b = transpose(&w.b, rank, w.output);
				let heads = target.rope_heads(model);
				if let Some(heads) = heads {
					b = unpermute_rows(&b, w.output, rank, heads);
				}
				out.push((format!("{prefix}.lora_B.weight"), vec![w.output, rank], b));
			}
		}
		out.sort_by(|x, y| x.0.cmp(&y.0));
		out
	}

	/// `adapter_model.safetensors` bytes. Deterministic: the same adapter gives the same bytes.
	pub fn to_safetensors(&self, model: &LlamaConfig) -> Vec<u8> {
		let mut meta = BTreeMap::new();
		meta.insert("format".to_string(), "pt".to_string());
		write_f32(&self.peft_tensors(model), &meta)
	}

	/// `adapter_config.json` text for PEFT (`peft_type` LORA, `task_type` CAUSAL_LM).
	pub fn peft_config_json(&self, base_model: &str) -> String {
		let targets: Vec<&str> = self.config.targets.iter().map(|t| t.hf_name()).collect();
		let value = serde_json::json!({
			"base_model_name_or_path": base_model,
			"bias": "none",
			"fan_in_fan_out": false,
			"inference_mode": true,
			"init_lora_weights": true,
			"lora_alpha": self.config.alpha,
			"lora_dropout": self.config.dropout,
			"modules_to_save": null,
			"peft_type": "LORA",
			"r": self.config.rank,
			"target_modules": targets,
			"task_type": "CAUSAL_LM",
			"use_dora": false,
			"use_rslora": false,
		});
		serde_json::to_string_pretty(&value).unwrap_or_default()
	}

	/// Writes `adapter_model.safetensors` and `adapter_config.json` into `dir` (created if
	/// missing). Returns the two files' bytes.
	pub fn save_peft(
		&self,
		dir: &Path,
		model: &LlamaConfig,
		base_model: &str,
	) -> Result<(Vec<u8>, Vec<u8>), TrainError> {
		std::fs::create_dir_all(dir)
			.map_err(|e| TrainError::Io(format!("{}: {e}", dir.display())))?;
		let tensors = self.to_safetensors(model);
		let config = self.peft_config_json(base_model).into_bytes();
		for (name, bytes) in [(ADAPTER_WEIGHTS, &tensors), (ADAPTER_CONFIG, &config)] {
			let path = dir.join(name);
			std::fs::write(&path, bytes)
				.map_err(|e| TrainError::Io(format!("{}: {e}", path.display())))?;
		}
		Ok((tensors, config))
	}

	/// Reads an adapter saved by [`Adapter::save_peft`] (or by PEFT for a Llama Model with the
	/// same layout) back: the inverse of [`Adapter::peft_tensors`].
	pub fn load_peft(dir: &Path, model: &LlamaConfig) -> Result<Self, TrainError> {
		let read = |name: &str| {
			let path = dir.join(name);
			std::fs::read(&path).map_err(|e| TrainError::Io(format!("{}: {e}", path.display())))
		};
		let config = read(ADAPTER_CONFIG)?;
		let file = SafeTensors::from_bytes(read(ADAPTER_WEIGHTS)?)
			.map_err(|e| TrainError::InvalidAdapter(e.to_string()))?;
		Self::from_peft(&config, &file, model)
	}

	/// An adapter from the bytes of its `adapter_config.json` and its parsed
	/// `adapter_model.safetensors` ([`Adapter::load_peft`] once the files are read). Each
	/// tensor goes from the file's bytes into its place in one pass, transposed and (for `q`
	/// and `k`) with its rows permuted on the way.
	pub fn from_peft(
		config: &[u8],
		file: &SafeTensors,
		model: &LlamaConfig,
	) -> Result<Self, TrainError> {
		let config: serde_json::Value = serde_json::from_slice(config)
			.map_err(|e| TrainError::InvalidAdapter(format!("adapter_config.json: {e}")))?;
		let field =
			|k: &str| config.get(k).ok_or_else(|| TrainError::InvalidAdapter(format!("no {k}")));
		let rank = u16::try_from(field("r")?.as_u64().unwrap_or(0))
			.map_err(|_| TrainError::InvalidAdapter("r".into()))?;
		let alpha = u16::try_from(field("lora_alpha")?.as_u64().unwrap_or(0))
			.map_err(|_| TrainError::InvalidAdapter("lora_alpha".into()))?;
		let dropout = field("lora_dropout")?.as_f64().unwrap_or(0.0) as f32;
		let targets = field("target_modules")?
			.as_array()
			.map(|a| {
				a.iter().filter_map(|v| v.as_str().and_then(Target::parse)).collect::<Vec<_>>()
			})
			.unwrap_or_default();
		let mut targets = targets;
		targets.sort();
		let lora = LoraConfig { rank, alpha, dropout, targets };
		lora.validate()?;
		let r = usize::from(rank);
		let invalid = |e: crate::model::safetensors::SafeTensorsError| {
			TrainError::InvalidAdapter(e.to_string())
		};
		let mut blocks = Vec::with_capacity(model.block_count);
		for n in 0..model.block_count {
			let mut slots: [Option<LoraWeights>; 7] = Default::default();
			for target in &lora.targets {
				let (input, output) = shape(model, *target);
				let prefix = target.peft_prefix(n);
				// lora_A.weight is rank × in: a is its transpose.
				let a = file
					.tensor_f32_transposed(&format!("{prefix}.lora_A.weight"), r, input, |i| i)
					.map_err(invalid)?;
				// lora_B.weight is out × rank with rows in Hugging Face order: b is the
				// transpose of its rows in GGUF order.
				let head_dim = target.rope_heads(model).map(|heads| output / heads.max(1));
				let b = file
					.tensor_f32_transposed(&format!("{prefix}.lora_B.weight"), output, r, |row| {
						head_dim.map_or(row, |hd| gguf_to_hf_row(row, hd))
					})
					.map_err(invalid)?;
				if let Some(slot) = slots.get_mut(target.index()) {
					*slot = Some(LoraWeights { input, output, a, b });
				}
			}
			blocks.push(slots);
		}
		Ok(Self { config: lora, blocks })
	}
}

/// File name of the adapter weights.
pub const ADAPTER_WEIGHTS: &str = "adapter_model.safetensors";
/// File name of the adapter config.
pub const ADAPTER_CONFIG: &str = "adapter_config.json";

/// `(in, out)` of a target's projection in `model`.
pub fn shape(model: &LlamaConfig, target: Target) -> (usize, usize) {
	let (dim, kv, ffn) = (model.embedding_length, model.kv_dim(), model.feed_forward_length);
	match target {
		Target::Q | Target::O => (dim, dim),
		Target::K | Target::V => (dim, kv),
		Target::Gate | Target::Up => (dim, ffn),
		Target::Down => (ffn, dim),
	}
}

/// The transpose of a row-major `rows × cols` matrix.
fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
	let mut out = vec![0f32; m.len()];
	for (i, v) in m.iter().enumerate() {
		let (r, c) = (i / cols.max(1), i % cols.max(1));
		if let Some(slot) = out.get_mut(c * rows + r) {
			*slot = *v;
		}
	}
	out
}

/// GGUF row `h*hd + 2i + s` holds Hugging Face row `h*hd + s*hd/2 + i` (`s` in {0, 1}).
fn gguf_to_hf_row(row: usize, head_dim: usize) -> usize {
	let (h, within) = (row / head_dim, row % head_dim);
	let (i, s) = (within / 2, within % 2);
	h * head_dim + s * (head_dim / 2) + i
}

/// Rows of a GGUF-ordered `rows × cols` matrix (`heads` heads) in Hugging Face order.
fn unpermute_rows(m: &[f32], rows: usize, cols: usize, heads: usize) -> Vec<f32> {
	let head_dim = rows / heads.max(1);
	let mut out = vec![0f32; m.len()];
	for r in 0..rows {
		let hf = gguf_to_hf_row(r, head_dim);
		if let (Some(src), Some(dst)) =
			(m.get(r * cols..(r + 1) * cols), out.get_mut(hf * cols..(hf + 1) * cols))
		{
			dst.copy_from_slice(src);
		}
	}
	out
}

/// The inverse of [`unpermute_rows`]: Hugging Face row order to GGUF's (adjacent RoPE pairs).
pub(crate) fn permute_rows(m: &[f32], rows: usize, cols: usize, heads: usize) -> Vec<f32> {
	let head_dim = rows / heads.max(1);
	let mut out = vec![0f32; m.len()];
	for r in 0..rows {
		let hf = gguf_to_hf_row(r, head_dim);
		if let (Some(src), Some(dst)) =
			(m.get(hf * cols..(hf + 1) * cols), out.get_mut(r * cols..(r + 1) * cols))
		{
			dst.copy_from_slice(src);
		}
	}
	out
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn targets_parse_and_masks_round_trip() {
		assert_eq!(Target::parse("q"), Some(Target::Q));
		assert_eq!(Target::parse("down_proj"), Some(Target::Down));
		assert_eq!(Target::parse("x"), None);
		assert_eq!(
			Target::from_mask(0b1111),
			Some(vec![Target::Q, Target::K, Target::V, Target::O])
		);
		assert_eq!(Target::from_mask(0), None);
		assert_eq!(Target::from_mask(128), None);
	}

	#[test]
	fn the_row_permutation_is_a_bijection_and_matches_llama_cpp() {
		// head_dim 4: GGUF rows (0, 1, 2, 3) are HF rows (0, 2, 1, 3).
		assert_eq!((0..4).map(|r| gguf_to_hf_row(r, 4)).collect::<Vec<_>>(), vec![0, 2, 1, 3]);
		let m: Vec<f32> = (0..24).map(|v| v as f32).collect();
		let back = permute_rows(&unpermute_rows(&m, 8, 3, 2), 8, 3, 2);
		assert_eq!(back, m);
		assert_ne!(unpermute_rows(&m, 8, 3, 2), m);
	}

	#[test]
	fn config_validation_names_the_problem() {
		let ok = LoraConfig { rank: 8, alpha: 16, dropout: 0.05, targets: vec![Target::Q] };
		assert!(ok.validate().is_ok());
		for bad in [
			LoraConfig { rank: 0, ..ok.clone() },
			LoraConfig { alpha: 0, ..ok.clone() },
			LoraConfig { dropout: 0.95, ..ok.clone() },
			LoraConfig { targets: vec![], ..ok.clone() },
		] {
			assert!(matches!(bad.validate(), Err(TrainError::InvalidConfig(_))));
		}
	}
}
