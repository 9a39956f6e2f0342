//! A small GGUF writer for the unit tests: metadata of every value type and tensors of any type,
//! laid out as the format says (or, on request, wrongly, to test the reader's errors); and the
//! tiny random Llama the training and serving tests run on.

use super::{
	gguf::TensorType,
	reference::{BlockWeights, Matrix, Weights},
	LlamaConfig,
};

/// A tiny Llama for unit tests: 2 blocks, dim 16, 4 query heads over 2 key/value heads, a
/// `vocab`-token tied embedding, every weight drawn from `next` in a fixed order (norms are 1).
pub(crate) fn tiny_llama(vocab: usize, mut next: impl FnMut() -> f32) -> (LlamaConfig, Weights) {
	let (dim, kv_dim, ffn) = (16, 8, 24);
	let mut m = |rows: usize, cols: usize| {
		Matrix::new(rows, cols, (0..rows * cols).map(|_| next()).collect()).unwrap()
	};
	let blocks = (0..2)
		.map(|_| BlockWeights {
			attn_norm: vec![1.0; dim],
			attn_q: m(dim, dim),
			attn_k: m(kv_dim, dim),
			attn_v: m(kv_dim, dim),
			attn_output: m(dim, dim),
			ffn_norm: vec![1.0; dim],
			ffn_gate: m(ffn, dim),
			ffn_up: m(ffn, dim),
			ffn_down: m(dim, ffn),
		})
		.collect();
	let weights =
		Weights { token_embd: m(vocab, dim), blocks, output_norm: vec![1.0; dim], output: None };
	let config = LlamaConfig {
		block_count: 2,
		embedding_length: dim,
		feed_forward_length: ffn,
		head_count: 4,
		head_count_kv: 2,
		rope_freq_base: 10_000.0,
		rope_dimension_count: 4,
		rms_norm_eps: 1e-5,
		context_length: 64,
		vocab_size: vocab,
		tied_embeddings: true,
	};
	(config, weights)
}

/// A metadata value to write.
#[derive(Debug, Clone)]
pub(crate) enum Value {
	U8(u8),
	I8(i8),
	U16(u16),
	I16(i16),
	U32(u32),
	I32(i32),
	U64(u64),
	I64(i64),
	F32(f32),
	F64(f64),
	Bool(bool),
	Str(String),
	/// An array whose element type is its first element's (u8 when empty).
	Array(Vec<Value>),
	/// Any type id and raw bytes after it, to write what the format does not allow.
	Raw(u32, Vec<u8>),
}

impl Value {
	fn type_id(&self) -> u32 {
		match self {
			Self::U8(_) => 0,
			Self::I8(_) => 1,
			Self::U16(_) => 2,
			Self::I16(_) => 3,
			Self::U32(_) => 4,
			Self::I32(_) => 5,
			Self::F32(_) => 6,
			Self::Bool(_) => 7,
			Self::Str(_) => 8,
			Self::Array(_) => 9,
			Self::U64(_) => 10,
			Self::I64(_) => 11,
			Self::F64(_) => 12,
			Self::Raw(id, _) => *id,
		}
	}

	fn write_payload(&self, out: &mut Vec<u8>) {
		match self {
			Self::U8(v) => out.extend(v.to_le_bytes()),
			Self::I8(v) => out.extend(v.to_le_bytes()),
			Self::U16(v) => out.extend(v.to_le_bytes()),
			Self::I16(v) => out.extend(v.to_le_bytes()),
			Self::U32(v) => out.extend(v.to_le_bytes()),
			Self::I32(v) => out.extend(v.to_le_bytes()),
			Self::U64(v) => out.extend(v.to_le_bytes()),
			Self::I64(v) => out.extend(v.to_le_bytes()),
			Self::F32(v) => out.extend(v.to_le_bytes()),
			Self::F64(v) => out.extend(v.to_le_bytes()),
			Self::Bool(v) => out.push(u8::from(*v)),
			Self::Str(s) => write_str(out, s),
			Self::Array(items) => {
				out.extend(items.first().map_or(0, Value::type_id).to_le_bytes());
				out.extend((items.len() as u64).to_le_bytes());
				for item in items {
					item.write_payload(out);
				}
			}
			Self::Raw(_, bytes) => out.extend(bytes),
		}
	}
}

struct Tensor {
	name: String,
	dims: Vec<u64>,
	type_id: u32,
	data: Vec<u8>,
	offset: Option<u64>,
}

/// Builds the bytes of a GGUF file.
pub(crate) struct GgufWriter {
	magic: [u8; 4],
	version: u32,
	entries: Vec<(String, Value)>,
	tensors: Vec<Tensor>,
}

impl GgufWriter {
	pub(crate) fn new() -> Self {
		Self { magic: *b"GGUF", version: 3, entries: Vec::new(), tensors: Vec::new() }
	}

	pub(crate) fn magic(&mut self, magic: [u8; 4]) -> &mut Self {
		self.magic = magic;
		self
	}

	pub(crate) fn version(&mut self, version: u32) -> &mut Self {
		self.version = version;
		self
	}

	/// Sets `key`, replacing any earlier value.
	pub(crate) fn kv(&mut self, key: &str, value: Value) -> &mut Self {
		self.entries.retain(|(k, _)| k != key);
		self.entries.push((key.into(), value));
		self
	}

	/// Appends `key` even if it is already there.
	pub(crate) fn push_kv(&mut self, key: &str, value: Value) -> &mut Self {
		self.entries.push((key.into(), value));
		self
	}

	/// Adds a tensor placed at the next aligned offset.
	pub(crate) fn tensor(
		&mut self,
		name: &str,
		dims: &[u64],
		ty: TensorType,
		data: Vec<u8>,
	) -> &mut Self {
		self.raw_tensor(name, dims, ty.id(), data, None)
	}

	/// Adds a tensor with any type id and, optionally, an offset of the test's choosing.
	pub(crate) fn raw_tensor(
		&mut self,
		name: &str,
		dims: &[u64],
		type_id: u32,
		data: Vec<u8>,
		offset: Option<u64>,
	) -> &mut Self {
		self.tensors.push(Tensor { name: name.into(), dims: dims.to_vec(), type_id, data, offset });
		self
	}

	fn alignment(&self) -> u64 {
		self.entries
			.iter()
			.find(|(k, _)| k == "general.alignment")
			.and_then(|(_, v)| match v {
				Value::U32(a) => Some(u64::from(*a)),
				_ => None,
			})
			.unwrap_or(32)
	}

	pub(crate) fn to_bytes(&self) -> Vec<u8> {
		let alignment = self.alignment();
		let mut out = self.magic.to_vec();
		out.extend(self.version.to_le_bytes());
		out.extend((self.tensors.len() as u64).to_le_bytes());
		out.extend((self.entries.len() as u64).to_le_bytes());
		for (key, value) in &self.entries {
			write_str(&mut out, key);
			out.extend(value.type_id().to_le_bytes());
			value.write_payload(&mut out);
		}
		let mut next = 0u64;
		let mut placed = Vec::new();
		for t in &self.tensors {
			let offset = t.offset.unwrap_or(next);
			next = offset.saturating_add(t.data.len() as u64).next_multiple_of(alignment);
			placed.push(offset);
			write_str(&mut out, &t.name);
			out.extend((t.dims.len() as u32).to_le_bytes());
			for d in &t.dims {
				out.extend(d.to_le_bytes());
			}
			out.extend(t.type_id.to_le_bytes());
			out.extend(offset.to_le_bytes());
		}
		let data_start = (out.len() as u64).next_multiple_of(alignment);
		out.resize(data_start as usize, 0);
		// Tensors without data (placed far away to test the reader) write nothing.
		for (t, offset) in self.tensors.iter().zip(placed).filter(|(t, _)| !t.data.is_empty()) {
			let at = (data_start + offset) as usize;
			if out.len() < at + t.data.len() {
				out.resize(at + t.data.len(), 0);
			}
			out[at..at + t.data.len()].copy_from_slice(&t.data);
		}
		out
	}
}

fn write_str(out: &mut Vec<u8>, s: &str) {
	out.extend((s.len() as u64).to_le_bytes());
	out.extend(s.as_bytes());
}
