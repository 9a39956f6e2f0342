//! The Llama decoder in burn, for training: the frozen base Model as tensors on a backend, and a
//! forward pass over a whole sequence (causal attention, no KV cache) with LoRA adapters added to
//! the projections they target.
//!
//! The math is that of [`crate::model::reference`] (which the tests compare it with), batched
//! over the positions of one sequence:
//!
//! ```text
//! x = token_embd[tokens]                                   [T, D]
//! for each block:
//!     h = rms_norm(x) * attn_norm
//!     q, k, v = h Wq + lora_q(h), h Wk + lora_k(h), h Wv + lora_v(h)
//!     rope(q), rope(k)                                       (adjacent pairs, as GGUF stores them)
//!     per head: softmax(q k^T / sqrt(head_dim) + causal mask) v
//!     x += o Wo + lora_o(o)
//!     h = rms_norm(x) * ffn_norm
//!     x += (silu(h Wgate + ..) * (h Wup + ..)) Wdown + ..
//! logits = rms_norm(x) * output_norm  W_out                 [T, V]
//! lora_t(h) = (dropout(h) A_t) B_t * alpha / rank
//! ```
//!
//! Base weights are stored transposed (`in × out`), so each projection is one `matmul`. They are
//! created without `require_grad`, so on an autodiff backend gradients flow through them to the
//! LoRA parameters but are never computed for them.

use super::{
	lora::{shape, LoraConfig, Target},
	TrainError,
};
use crate::model::{
	reference::{BlockWeights, Matrix, Weights},
	LlamaConfig,
};
use burn::tensor::{activation, backend::Backend, Int, Tensor, TensorData};

/// Additive attention mask value for future positions (finite, so an all-masked row cannot
/// produce NaN; no row is all-masked under a causal mask anyway).
const MASKED: f32 = -1.0e9;

/// One block's frozen weights, projections transposed to `in × out`.
#[derive(Debug, Clone)]
struct Block<B: Backend> {
	attn_norm: Tensor<B, 1>,
	/// Projections in [`Target::ALL`] order: q, k, v, o, gate, up, down.
	proj: [Tensor<B, 2>; 7],
	ffn_norm: Tensor<B, 1>,
}

/// The frozen base Model on a backend.
#[derive(Debug, Clone)]
pub struct BaseModel<B: Backend> {
	config: LlamaConfig,
	token_embd: Tensor<B, 2>,
	/// The output projection transposed, `dim × vocab` (a copy of the embeddings when tied).
	output_t: Tensor<B, 2>,
	output_norm: Tensor<B, 1>,
	blocks: Vec<Block<B>>,
	/// `cos` and `sin` of the RoPE angles, `[context, rope_dims / 2]`, built once.
	rope_cos: Tensor<B, 2>,
	rope_sin: Tensor<B, 2>,
	device: B::Device,
}

/// One LoRA pair on a backend: `a` is `in × rank`, `b` is `rank × out` (PEFT's `lora_A` and
/// `lora_B` weights, transposed).
#[derive(Debug, Clone)]
pub struct LoraPair<B: Backend> {
	/// Down-projection, `in × rank`.
	pub a: Tensor<B, 2>,
	/// Up-projection, `rank × out`.
	pub b: Tensor<B, 2>,
}

/// The adapters of a whole Model on a backend: per block, one optional pair per target.
#[derive(Debug, Clone)]
pub struct LoraTensors<B: Backend> {
	/// `blocks[n][t]` adapts projection `Target::ALL[t]` of block `n`.
	pub blocks: Vec<[Option<LoraPair<B>>; 7]>,
	/// `alpha / rank`.
	pub scale: f32,
}

/// One LoRA pair per sequence of a batch: sample `s` of `a` and of `b` adapts sequence `s`.
#[derive(Debug, Clone)]
pub struct BatchLoraPair<B: Backend> {
	/// Down-projections, `[S, in, rank]`.
	pub a: Tensor<B, 3>,
	/// Up-projections, `[S, rank, out]`.
	pub b: Tensor<B, 3>,
}

/// The adapters of a batch of `S` sequences, one per sequence (all of one rank, on the same
/// targets): per block, one optional [`BatchLoraPair`] per target. With the pairs requiring
/// gradients, one backward pass gives each sequence's gradient in its own slice.
#[derive(Debug, Clone)]
pub struct BatchLoraTensors<B: Backend> {
	/// `blocks[n][t]` adapts projection `Target::ALL[t]` of block `n`.
	pub blocks: Vec<[Option<BatchLoraPair<B>>; 7]>,
	/// Each sequence's `alpha / rank`, `[S, 1, 1]`.
	pub scale: Tensor<B, 3>,
}

/// Inverted-dropout masks for one forward pass, made by the caller from its seeded stream:
/// `masks(block, target, rows, cols)` returns `rows × cols` values, each `0` or `1 / (1 - p)`.
pub trait DropoutMasks {
	/// The mask for the input of `target` in `block`, or `None` for no dropout.
	fn mask(&mut self, block: usize, target: Target, rows: usize, cols: usize) -> Option<Vec<f32>>;
}

impl<B: Backend> BaseModel<B> {
	/// Moves `weights` (as [`Weights::load`] read them) onto `device`.
	pub fn new(
		config: LlamaConfig,
		weights: &Weights,
		device: &B::Device,
	) -> Result<Self, TrainError> {
		check_config(&config)?;
		let blocks = weights.blocks.iter().map(|b| block_tensors(b, device)).collect();
		let embd = &weights.token_embd;
		let token_embd =
			Tensor::from_data(TensorData::new(embd_data(embd), [embd.rows(), embd.cols()]), device);
		let (rope_cos, rope_sin) = rope_tables(&config, device);
		Ok(Self {
			output_t: transposed(weights.output_projection(), device),
			output_norm: vector(&weights.output_norm, device),
			token_embd,
			blocks,
			rope_cos,
			rope_sin,
			device: device.clone(),
			config,
		})
	}

	/// The hyperparameters.
	pub fn config(&self) -> &LlamaConfig {
		&self.config
	}

	/// The device the weights live on.
	pub fn device(&self) -> &B::Device {
		&self.device
	}

	/// Next-token logits, `[T, vocab]`, for every position of `tokens` (position 0 first).
	pub fn forward(
		&self,
		tokens: &[u32],
		lora: Option<&LoraTensors<B>>,
		mut dropout: Option<&mut dyn DropoutMasks>,
	) -> Result<Tensor<B, 2>, TrainError> {
		let c = &self.config;
		let t = tokens.len();
		if t == 0 {
			return Err(TrainError::EmptySequence);
		}
		if t > c.context_length {
			return Err(TrainError::SequenceTooLong { len: t, context: c.context_length });
		}
		if let Some(bad) = tokens.iter().find(|tok| (**tok as usize) >= c.vocab_size) {
			return Err(TrainError::TokenOutOfRange { token: *bad, vocab_size: c.vocab_size });
		}
		let ids: Vec<i64> = tokens.iter().map(|tok| i64::from(*tok)).collect();
		let ids = Tensor::<B, 1, Int>::from_data(TensorData::new(ids, [t]), &self.device);
		let mut x = self.token_embd.clone().select(0, ids);

		let attn = Attention::new(c, &self.rope_cos, &self.rope_sin, t, &self.device);
		for (n, block) in self.blocks.iter().enumerate() {
			x = block_forward(block, n, x, lora, &mut dropout, &attn, c, &self.device);
		}
		let h = rms_norm(x, &self.output_norm, c.rms_norm_eps);
		Ok(h.matmul(self.output_t.clone()))
	}

	/// Mean next-token cross-entropy (nats) of `tokens[1..]` given the tokens before each, as a
	/// one-element tensor (differentiable on an autodiff backend).
	pub fn loss(
		&self,
		tokens: &[u32],
		lora: Option<&LoraTensors<B>>,
		dropout: Option<&mut dyn DropoutMasks>,
	) -> Result<Tensor<B, 1>, TrainError> {
		let (inputs, targets) = match tokens.split_last() {
			Some((_, inputs)) if !inputs.is_empty() => (inputs, &tokens[1..]),
			_ => return Err(TrainError::EmptySequence),
		};
		let logits = self.forward(inputs, lora, dropout)?;
		let t = targets.len();
		let ids: Vec<i64> = targets.iter().map(|tok| i64::from(*tok)).collect();
		let ids = Tensor::<B, 2, Int>::from_data(TensorData::new(ids, [t, 1]), &self.device);
		let picked = activation::log_softmax(logits, 1).gather(1, ids);
		Ok(picked.mean().neg())
	}
}

/// The last blocks of a base Model, from `first_block` on, and its output norm, with the same
/// math as [`BaseModel::forward`]: what the Proof of Attribution recomputes at serve time from
/// the residual stream the serving engine captured entering `first_block`, so that an answer's
/// gradient on those blocks' LoRA parameters costs a few blocks, not the whole Model.
#[derive(Debug, Clone)]
pub struct TailModel<B: Backend> {
	config: LlamaConfig,
	first_block: usize,
	/// Blocks `first_block..`.
	blocks: Vec<Block<B>>,
	output_norm: Tensor<B, 1>,
	rope_cos: Tensor<B, 2>,
	rope_sin: Tensor<B, 2>,
	device: B::Device,
}

impl<B: Backend> TailModel<B> {
	/// Blocks `first_block..` of `weights` (and the output norm) on `device`.
	pub fn new(
		config: LlamaConfig,
		weights: &Weights,
		first_block: usize,
		device: &B::Device,
	) -> Result<Self, TrainError> {
		check_config(&config)?;
		if first_block >= weights.blocks.len() {
			return Err(TrainError::InvalidConfig(format!(
				"block {first_block} of a model with {} blocks",
				weights.blocks.len()
			)));
		}
		let blocks =
			weights.blocks.iter().skip(first_block).map(|b| block_tensors(b, device)).collect();
		let (rope_cos, rope_sin) = rope_tables(&config, device);
		Ok(Self {
			first_block,
			blocks,
			output_norm: vector(&weights.output_norm, device),
			rope_cos,
			rope_sin,
			device: device.clone(),
			config,
		})
	}

	/// The hyperparameters.
	pub fn config(&self) -> &LlamaConfig {
		&self.config
	}

	/// The first block it holds.
	pub fn first_block(&self) -> usize {
		self.first_block
	}

	/// The device the weights live on.
	pub fn device(&self) -> &B::Device {
		&self.device
	}

	/// The final hidden states after the output norm, `[T, D]` (what the LM head multiplies),
	/// from `x`, the residual stream entering block [`TailModel::first_block`] at positions
	/// `0..T`. `lora.blocks` is indexed by block number, as for [`BaseModel::forward`].
	pub fn hidden(
		&self,
		x: Tensor<B, 2>,
		lora: Option<&LoraTensors<B>>,
	) -> Result<Tensor<B, 2>, TrainError> {
		let c = &self.config;
		let [t, d] = x.dims();
		if t == 0 {
			return Err(TrainError::EmptySequence);
		}
		if t > c.context_length {
			return Err(TrainError::SequenceTooLong { len: t, context: c.context_length });
		}
		if d != c.embedding_length {
			return Err(TrainError::InvalidConfig(format!(
				"hidden states of {d} values, the model's are {}",
				c.embedding_length
			)));
		}
		let attn = Attention::new(c, &self.rope_cos, &self.rope_sin, t, &self.device);
		let mut x = x;
		for (i, block) in self.blocks.iter().enumerate() {
			x = block_forward(
				block,
				self.first_block + i,
				x,
				lora,
				&mut None,
				&attn,
				c,
				&self.device,
			);
		}
		Ok(rms_norm(x, &self.output_norm, c.rms_norm_eps))
	}

	/// [`TailModel::hidden`] of a batch of `S` sequences at once: `x` is `[S, T, D]`, and so is
	/// the result. Sequence `s` runs under its own adapter, sample `s` of `lora`'s pairs.
	/// Attention is causal within each sequence, so a sequence shorter than `T` may be padded
	/// on the right: its real positions never see the padding (whose own outputs are
	/// meaningless).
	pub fn hidden_batch(
		&self,
		x: Tensor<B, 3>,
		lora: Option<&BatchLoraTensors<B>>,
	) -> Result<Tensor<B, 3>, TrainError> {
		self.hidden_batch_from(x, lora, 0)
	}

	/// [`TailModel::hidden_batch`] at positions `from..T` only, `[S, T − from, D]`: the last
	/// block computes its queries, output projection and MLP for those positions alone (its
	/// keys and values still come from every position), which is all a loss on those
	/// positions reads. Earlier tail blocks run over every position.
	pub fn hidden_batch_from(
		&self,
		x: Tensor<B, 3>,
		lora: Option<&BatchLoraTensors<B>>,
		from: usize,
	) -> Result<Tensor<B, 3>, TrainError> {
		let c = &self.config;
		let [s, t, d] = x.dims();
		if s == 0 || t == 0 {
			return Err(TrainError::EmptySequence);
		}
		if from >= t {
			return Err(TrainError::InvalidConfig(format!(
				"outputs from position {from} of sequences of {t}"
			)));
		}
		if t > c.context_length {
			return Err(TrainError::SequenceTooLong { len: t, context: c.context_length });
		}
		if d != c.embedding_length {
			return Err(TrainError::InvalidConfig(format!(
				"hidden states of {d} values, the model's are {}",
				c.embedding_length
			)));
		}
		if let Some(lora) = lora {
			check_batch_lora(c, lora, s)?;
		}
		if c.head_dim() % 2 != 0 {
			return Err(TrainError::Unsupported(format!(
				"batched RoPE over heads of {} dimensions",
				c.head_dim()
			)));
		}
		let last = self.blocks.len().saturating_sub(1);
		let full = match last {
			0 => None,
			_ => Some(BatchAttention::new(c, s, t, 0, &self.device)),
		};
		let narrow = BatchAttention::new(c, s, t, from, &self.device);
		let mut x = x.reshape([s * t, d]);
		for (i, block) in self.blocks.iter().enumerate() {
			let attn = match (i == last, &full) {
				(false, Some(full)) => full,
				_ => &narrow,
			};
			x = block_forward_batch(block, self.first_block + i, x, lora, attn, c);
		}
		Ok(rms_norm(x, &self.output_norm, c.rms_norm_eps).reshape([s, t - from, d]))
	}
}

/// Refuses batch adapters whose shapes do not fit `config` and `s` sequences (the matmuls
/// would panic on them).
fn check_batch_lora<B: Backend>(
	config: &LlamaConfig,
	lora: &BatchLoraTensors<B>,
	s: usize,
) -> Result<(), TrainError> {
	if lora.scale.dims() != [s, 1, 1] {
		return Err(TrainError::InvalidConfig(format!(
			"LoRA scales of shape {:?} for {s} sequences",
			lora.scale.dims()
		)));
	}
	for (n, pairs) in lora.blocks.iter().enumerate() {
		for (target, pair) in Target::ALL.iter().zip(pairs) {
			let Some(pair) = pair else { continue };
			let (input, output) = shape(config, *target);
			let ([sa, ia, ra], [sb, rb, ob]) = (pair.a.dims(), pair.b.dims());
			if sa != s || sb != s || ia != input || ob != output || ra != rb {
				return Err(TrainError::InvalidConfig(format!(
					"block {n} {target:?}: LoRA pair of shapes {:?} and {:?} for {s} sequences \
					 of a {input} x {output} projection",
					pair.a.dims(),
					pair.b.dims()
				)));
			}
		}
	}
	Ok(())
}

/// Refuses what the forward pass does not implement.
fn check_config(config: &LlamaConfig) -> Result<(), TrainError> {
	let head_dim = config.head_dim();
	let rope_dims = config.rope_dimension_count;
	if rope_dims == 0 || rope_dims > head_dim || rope_dims % 2 != 0 {
		return Err(TrainError::Unsupported(format!(
			"rope over {rope_dims} of {head_dim} dimensions per head"
		)));
	}
	if config.head_count_kv == 0 || config.head_count % config.head_count_kv != 0 {
		return Err(TrainError::Unsupported(format!(
			"{} query heads over {} key/value heads",
			config.head_count, config.head_count_kv
		)));
	}
	Ok(())
}

/// `m` transposed, as an `in × out` tensor.
fn transposed<B: Backend>(m: &Matrix, device: &B::Device) -> Tensor<B, 2> {
	let (rows, cols) = (m.rows(), m.cols());
	let mut t = vec![0f32; rows.saturating_mul(cols)];
	for r in 0..rows {
		if let Some(row) = m.row(r) {
			for (c, v) in row.iter().enumerate() {
				if let Some(slot) = t.get_mut(c.saturating_mul(rows).saturating_add(r)) {
					*slot = *v;
				}
			}
		}
	}
	Tensor::from_data(TensorData::new(t, [cols, rows]), device)
}

fn vector<B: Backend>(v: &[f32], device: &B::Device) -> Tensor<B, 1> {
	Tensor::<B, 1>::from_data(TensorData::new(v.to_vec(), [v.len()]), device)
}

fn block_tensors<B: Backend>(b: &BlockWeights, device: &B::Device) -> Block<B> {
	Block {
		attn_norm: vector(&b.attn_norm, device),
		proj: [
			transposed(&b.attn_q, device),
			transposed(&b.attn_k, device),
			transposed(&b.attn_v, device),
			transposed(&b.attn_output, device),
			transposed(&b.ffn_gate, device),
			transposed(&b.ffn_up, device),
			transposed(&b.ffn_down, device),
		],
		ffn_norm: vector(&b.ffn_norm, device),
	}
}

/// RoPE tables in f64, like the reference: angle(pos, i) = pos * base^(-2i / rope_dims);
/// `(cos, sin)`, each `[context, rope_dims / 2]`.
fn rope_tables<B: Backend>(
	config: &LlamaConfig,
	device: &B::Device,
) -> (Tensor<B, 2>, Tensor<B, 2>) {
	let half = config.rope_dimension_count / 2;
	let ctx = config.context_length;
	let (mut cos, mut sin) = (Vec::with_capacity(ctx * half), Vec::with_capacity(ctx * half));
	for pos in 0..ctx {
		for i in 0..half {
			let (c, s) = rope_angle(config, pos, i);
			cos.push(c);
			sin.push(s);
		}
	}
	(
		Tensor::from_data(TensorData::new(cos, [ctx, half]), device),
		Tensor::from_data(TensorData::new(sin, [ctx, half]), device),
	)
}

/// `(cos, sin)` of RoPE's angle for pair `i` at `pos`, computed in f64.
fn rope_angle(config: &LlamaConfig, pos: usize, i: usize) -> (f32, f32) {
	let rope_dims = config.rope_dimension_count;
	let exponent = -2.0 * i as f64 / rope_dims as f64;
	let theta = pos as f64 * f64::from(config.rope_freq_base).powf(exponent);
	let (s, c) = theta.sin_cos();
	(c as f32, s as f32)
}

/// What every block of one forward pass shares: the causal mask and the RoPE tables of its
/// `T` positions.
struct Attention<B: Backend> {
	mask: Tensor<B, 3>,
	cos: Tensor<B, 2>,
	sin: Tensor<B, 2>,
	t: usize,
}

impl<B: Backend> Attention<B> {
	fn new(
		c: &LlamaConfig,
		rope_cos: &Tensor<B, 2>,
		rope_sin: &Tensor<B, 2>,
		t: usize,
		device: &B::Device,
	) -> Self {
		let mut mask = vec![0f32; t * t];
		for (i, row) in mask.chunks_exact_mut(t).enumerate() {
			for v in row.iter_mut().skip(i + 1) {
				*v = MASKED;
			}
		}
		let mask = Tensor::<B, 2>::from_data(TensorData::new(mask, [t, t]), device)
			.unsqueeze_dim::<3>(0)
			.expand([c.head_count, t, t]);
		let cos = rope_cos.clone().narrow(0, 0, t);
		let sin = rope_sin.clone().narrow(0, 0, t);
		Self { mask, cos, sin, t }
	}
}

/// What every block of one batched forward pass shares: the causal mask, `[S, heads, T, T]`,
/// and RoPE as two multipliers over the `S × T` rows (each sequence's positions `0..T`), each
/// `[S × T, 1, head_dim / 2, 2]`: rotating pairs `(x0, x1)` is `x · cos + swap(x) · sin`,
/// `cos` holding `(cos, cos)` and `sin` `(-sin, sin)` per pair (`1` and `0` past the rotated
/// dimensions).
struct BatchAttention<B: Backend> {
	/// The causal mask of the query rows `from..t` over the keys `0..t`, `[S, heads, T − from, T]`.
	mask: Tensor<B, 4>,
	/// RoPE tables of the key rows, `[S × T, 1, pairs, 2]`.
	cos: Tensor<B, 4>,
	sin: Tensor<B, 4>,
	/// The same for the query rows, `[S × (T − from), 1, pairs, 2]`.
	q_cos: Tensor<B, 4>,
	q_sin: Tensor<B, 4>,
	s: usize,
	t: usize,
	/// The first query row: the block's outputs are computed for positions `from..t` only.
	from: usize,
}

impl<B: Backend> BatchAttention<B> {
	fn new(c: &LlamaConfig, s: usize, t: usize, from: usize, device: &B::Device) -> Self {
		let tq = t - from;
		let mut mask = vec![0f32; tq * t];
		for (i, row) in mask.chunks_exact_mut(t).enumerate() {
			for v in row.iter_mut().skip(from + i + 1) {
				*v = MASKED;
			}
		}
		let heads = c.head_count;
		let mask = Tensor::<B, 2>::from_data(TensorData::new(mask, [tq, t]), device)
			.reshape([1, 1, tq, t])
			.expand([s, heads, tq, t]);
		let (pairs, half) = (c.head_dim() / 2, c.rope_dimension_count / 2);
		let (mut cos, mut sin) = (vec![1f32; t * pairs * 2], vec![0f32; t * pairs * 2]);
		for pos in 0..t {
			for i in 0..half.min(pairs) {
				let (cv, sv) = rope_angle(c, pos, i);
				let at = (pos * pairs + i) * 2;
				if let (Some(cs), Some(ss)) = (cos.get_mut(at..at + 2), sin.get_mut(at..at + 2)) {
					cs.copy_from_slice(&[cv, cv]);
					ss.copy_from_slice(&[-sv, sv]);
				}
			}
		}
		let rows = |table: &[f32], first: usize| -> Tensor<B, 4> {
			let n = t - first;
			let part = table.get(first * pairs * 2..).unwrap_or(&[]).to_vec();
			Tensor::<B, 4>::from_data(TensorData::new(part, [1, n, pairs, 2]), device)
				.expand([s, n, pairs, 2])
				.reshape([s * n, 1, pairs, 2])
		};
		let (k_cos, k_sin) = (rows(&cos, 0), rows(&sin, 0));
		// With every position a query, the query tables are the key tables.
		let (q_cos, q_sin) = match from {
			0 => (k_cos.clone(), k_sin.clone()),
			_ => (rows(&cos, from), rows(&sin, from)),
		};
		Self { mask, cos: k_cos, sin: k_sin, q_cos, q_sin, s, t, from }
	}

	/// RoPE on `[rows, heads × head_dim]` (an even `head_dim`) with tables of `rows` rows.
	fn rope(x: Tensor<B, 2>, heads: usize, cos: &Tensor<B, 4>, sin: &Tensor<B, 4>) -> Tensor<B, 2> {
		let [rows, width] = x.dims();
		let pairs = width / heads / 2;
		let x = x.reshape([rows, heads, pairs, 2]);
		let swapped = x.clone().flip([3]);
		(x * cos.clone() + swapped * sin.clone()).reshape([rows, width])
	}
}

/// Rows `from..t` of each of the `s` sequences of `x` (`[S × T, D]`, sequence-major).
fn tail_rows<B: Backend>(x: Tensor<B, 2>, s: usize, t: usize, from: usize) -> Tensor<B, 2> {
	match from {
		0 => x,
		_ => {
			let [_, d] = x.dims();
			x.reshape([s, t, d]).narrow(1, from, t - from).reshape([s * (t - from), d])
		}
	}
}

/// Block `n` over the residual streams of `S` sequences of `T` positions, `x` `[S × T, D]`
/// (sequence-major), each sequence under its own sample of `lora.blocks[n]`'s pairs. Returns
/// the stream after the block at positions `attn.from..T` of each sequence,
/// `[S × (T − from), D]`: keys and values come from every position, queries, the output
/// projection and the MLP only from those (what a caller that reads no earlier output needs).
fn block_forward_batch<B: Backend>(
	block: &Block<B>,
	n: usize,
	x: Tensor<B, 2>,
	lora: Option<&BatchLoraTensors<B>>,
	attn: &BatchAttention<B>,
	c: &LlamaConfig,
) -> Tensor<B, 2> {
	let (s, t, from) = (attn.s, attn.t, attn.from);
	let tq = t - from;
	let (heads, kv_heads, head_dim) = (c.head_count, c.head_count_kv, c.head_dim());
	let group = heads / kv_heads;
	let scale = 1.0 / (head_dim as f32).sqrt();
	let pairs = lora.and_then(|l| l.blocks.get(n));
	// `input` holds `rows / s` rows of each sequence.
	let project = |input: &Tensor<B, 2>, target: Target| -> Tensor<B, 2> {
		let i = target.index();
		let base = input.clone().matmul(block.proj[i].clone());
		match (lora, pairs.and_then(|p| p[i].as_ref())) {
			(Some(lora), Some(pair)) => {
				let [rows, cols] = input.dims();
				let [_, out] = base.dims();
				// The scale on `b` (`rank × out` per sequence) is cheaper than on the output.
				let b = pair.b.clone().mul(lora.scale.clone());
				let delta =
					input.clone().reshape([s, rows / s, cols]).matmul(pair.a.clone()).matmul(b);
				base + delta.reshape([rows, out])
			}
			_ => base,
		}
	};

	let h = rms_norm(x.clone(), &block.attn_norm, c.rms_norm_eps);
	let q = project(&tail_rows(h.clone(), s, t, from), Target::Q);
	let k = project(&h, Target::K);
	let v = project(&h, Target::V);
	let q = BatchAttention::rope(q, heads, &attn.q_cos, &attn.q_sin);
	let k = BatchAttention::rope(k, kv_heads, &attn.cos, &attn.sin);
	// [S, heads, rows, head_dim]; each key/value head serves `group` query heads in a row.
	let q = q.reshape([s, tq, heads, head_dim]).swap_dims(1, 2);
	let expand = |m: Tensor<B, 2>| -> Tensor<B, 4> {
		m.reshape([s, t, kv_heads, head_dim])
			.swap_dims(1, 2)
			.unsqueeze_dim::<5>(2)
			.expand([s, kv_heads, group, t, head_dim])
			.reshape([s, heads, t, head_dim])
	};
	let k = expand(k);
	let v = expand(v);
	let scores = q.matmul(k.swap_dims(2, 3)).mul_scalar(scale) + attn.mask.clone();
	let mixed = activation::softmax(scores, 3)
		.matmul(v)
		.swap_dims(1, 2)
		.reshape([s * tq, heads * head_dim]);
	let x = tail_rows(x, s, t, from) + project(&mixed, Target::O);

	let h = rms_norm(x.clone(), &block.ffn_norm, c.rms_norm_eps);
	let act = activation::silu(project(&h, Target::Gate)) * project(&h, Target::Up);
	x + project(&act, Target::Down)
}

/// Block `n` over the `[T, D]` residual stream `x` (its LoRA pairs from `lora.blocks[n]`).
#[allow(clippy::too_many_arguments)]
fn block_forward<B: Backend>(
	block: &Block<B>,
	n: usize,
	mut x: Tensor<B, 2>,
	lora: Option<&LoraTensors<B>>,
	dropout: &mut Option<&mut dyn DropoutMasks>,
	attn: &Attention<B>,
	c: &LlamaConfig,
	device: &B::Device,
) -> Tensor<B, 2> {
	let t = attn.t;
	let (heads, kv_heads, head_dim) = (c.head_count, c.head_count_kv, c.head_dim());
	let group = heads / kv_heads;
	let scale = 1.0 / (head_dim as f32).sqrt();
	let (cos, sin) = (&attn.cos, &attn.sin);
	let pairs = lora.and_then(|l| l.blocks.get(n));
	let lora_scale = lora.map(|l| l.scale).unwrap_or(0.0);
	let mut project = |input: &Tensor<B, 2>, target: Target| -> Tensor<B, 2> {
		let i = target.index();
		let base = input.clone().matmul(block.proj[i].clone());
		match pairs.and_then(|p| p[i].as_ref()) {
			None => base,
			Some(pair) => {
				let [rows, cols] = input.dims();
				let masked =
					match dropout.as_deref_mut().and_then(|d| d.mask(n, target, rows, cols)) {
						Some(m) => input
							.clone()
							.mul(Tensor::from_data(TensorData::new(m, [rows, cols]), device)),
						None => input.clone(),
					};
				base + masked.matmul(pair.a.clone()).matmul(pair.b.clone()).mul_scalar(lora_scale)
			}
		}
	};

	let h = rms_norm(x.clone(), &block.attn_norm, c.rms_norm_eps);
	let q = project(&h, Target::Q);
	let k = project(&h, Target::K);
	let v = project(&h, Target::V);
	let q = rope(q.reshape([t, heads, head_dim]), cos, sin, c.rope_dimension_count);
	let k = rope(k.reshape([t, kv_heads, head_dim]), cos, sin, c.rope_dimension_count);
	// [heads, T, head_dim]; each key/value head serves `group` query heads in a row.
	let q = q.swap_dims(0, 1);
	let expand = |m: Tensor<B, 3>| -> Tensor<B, 3> {
		m.swap_dims(0, 1)
			.unsqueeze_dim::<4>(1)
			.expand([kv_heads, group, t, head_dim])
			.reshape([heads, t, head_dim])
	};
	let k = expand(k);
	let v = expand(v.reshape([t, kv_heads, head_dim]));
	let scores = q.matmul(k.swap_dims(1, 2)).mul_scalar(scale) + attn.mask.clone();
	let mixed =
		activation::softmax(scores, 2).matmul(v).swap_dims(0, 1).reshape([t, heads * head_dim]);
	x = x + project(&mixed, Target::O);

	let h = rms_norm(x.clone(), &block.ffn_norm, c.rms_norm_eps);
	let act = activation::silu(project(&h, Target::Gate)) * project(&h, Target::Up);
	x + project(&act, Target::Down)
}

/// The embedding rows, row-major.
fn embd_data(m: &Matrix) -> Vec<f32> {
	(0..m.rows()).flat_map(|r| m.row(r).unwrap_or(&[]).iter().copied()).collect()
}

/// RMSNorm over the last dimension of `[T, D]`, times `weight`.
fn rms_norm<B: Backend>(x: Tensor<B, 2>, weight: &Tensor<B, 1>, eps: f32) -> Tensor<B, 2> {
	let inv = x.clone().powi_scalar(2).mean_dim(1).add_scalar(eps).sqrt().recip();
	x.mul(inv).mul(weight.clone().unsqueeze_dim::<2>(0))
}

/// RoPE on `[T, heads, head_dim]` in ggml's normal mode: pairs `(2i, 2i + 1)` of the first
/// `rope_dims` values rotate by the angle of their position and `i`.
fn rope<B: Backend>(
	x: Tensor<B, 3>,
	cos: &Tensor<B, 2>,
	sin: &Tensor<B, 2>,
	rope_dims: usize,
) -> Tensor<B, 3> {
	let [t, heads, head_dim] = x.dims();
	let half = rope_dims / 2;
	let (rotated, rest) = match rope_dims < head_dim {
		true => {
			(x.clone().narrow(2, 0, rope_dims), Some(x.narrow(2, rope_dims, head_dim - rope_dims)))
		}
		false => (x, None),
	};
	let pairs = rotated.reshape([t, heads, half, 2]);
	let x0 = pairs.clone().narrow(3, 0, 1);
	let x1 = pairs.narrow(3, 1, 1);
	let cos = cos.clone().reshape([t, 1, half, 1]).expand([t, heads, half, 1]);
	let sin = sin.clone().reshape([t, 1, half, 1]).expand([t, heads, half, 1]);
	let out0 = x0.clone().mul(cos.clone()) - x1.clone().mul(sin.clone());
	let out1 = x0.mul(sin) + x1.mul(cos);
	let rotated = Tensor::cat(vec![out0, out1], 3).reshape([t, heads, rope_dims]);
	match rest {
		Some(rest) => Tensor::cat(vec![rotated, rest], 2),
		None => rotated,
	}
}

/// `[rows, cols]` tensor from row-major host values.
pub fn tensor2<B: Backend>(
	values: Vec<f32>,
	rows: usize,
	cols: usize,
	device: &B::Device,
) -> Tensor<B, 2> {
	Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

/// Host values of a tensor, row-major.
pub fn host<B: Backend, const D: usize>(t: Tensor<B, D>) -> Result<Vec<f32>, TrainError> {
	t.into_data()
		.convert::<f32>()
		.into_vec::<f32>()
		.map_err(|e| TrainError::Backend(format!("{e:?}")))
}

impl LoraConfig {
	/// `alpha / rank`, the factor LoRA's update is scaled by.
	pub fn scale(&self) -> f32 {
		f32::from(self.alpha) / f32::from(self.rank.max(1))
	}
}
