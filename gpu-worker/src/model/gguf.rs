//! Reading GGUF model files (versions 2 and 3).
//!
//! A GGUF file is, in little-endian order: the magic `GGUF`, a `u32` version, a `u64` tensor
//! count and a `u64` metadata count; then the metadata key/values (a string key, a `u32` value
//! type, the value); then one info per tensor (name, `u32` dimension count, `u64` dimensions
//! innermost first, `u32` ggml type, `u64` offset); then padding up to the alignment
//! (`general.alignment`, 32 when absent) where the tensor data section starts. Each tensor's
//! offset is relative to that section and is itself aligned. Strings are a `u64` byte length and
//! UTF-8 bytes; arrays are a `u32` element type, a `u64` count and the elements.
//!
//! [`Gguf::parse`] reads everything up to the data section and checks that every tensor's bytes
//! lie within the file, so a [`Gguf`] that parsed never points outside its file. The tensor data
//! is read on demand: from a file with [`GgufFile`], or from bytes already in memory with
//! [`Gguf::tensor_data`].

use super::dequant::{self, DequantError};
use std::{
	collections::HashMap,
	fmt,
	fs::File,
	io::{self, BufReader, Read, Seek, SeekFrom},
	ops::Range,
	path::{Path, PathBuf},
};

/// The four bytes every GGUF file starts with.
pub const MAGIC: [u8; 4] = *b"GGUF";
/// The tensor data alignment when the file does not set `general.alignment`.
pub const DEFAULT_ALIGNMENT: u64 = 32;
/// The metadata key that overrides [`DEFAULT_ALIGNMENT`].
pub const ALIGNMENT_KEY: &str = "general.alignment";
/// The most dimensions a tensor may have (ggml's limit).
pub const MAX_DIMS: usize = 4;
/// How deeply arrays may nest inside arrays; the format allows it, real files never go past one.
const MAX_ARRAY_NESTING: u32 = 8;

/// Why a GGUF file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
	/// The operating system failed to open or read the file.
	#[error("reading {path}: {source}")]
	Io {
		/// The file.
		path: PathBuf,
		/// The underlying error.
		#[source]
		source: io::Error,
	},
	/// The file does not start with `GGUF`.
	#[error("not a GGUF file: it starts with {found:02x?}, not \"GGUF\"")]
	BadMagic {
		/// The first four bytes.
		found: [u8; 4],
	},
	/// A version other than 2 or 3 (version 1 used 32-bit counts; a byte-swapped version means a
	/// big-endian file).
	#[error("unsupported GGUF version {0} (this reader handles versions 2 and 3)")]
	UnsupportedVersion(u32),
	/// The file ended before a field it declares.
	#[error(
		"GGUF file truncated: {what} at byte {offset} needs {needed} bytes, {available} remain"
	)]
	Truncated {
		/// The field being read.
		what: &'static str,
		/// Where it starts.
		offset: u64,
		/// The bytes it needs.
		needed: u64,
		/// The bytes the file still has.
		available: u64,
	},
	/// A metadata value type id the format does not define.
	#[error("metadata key {key:?} has unknown value type {type_id}")]
	UnknownValueType {
		/// The key being read.
		key: String,
		/// The type id found.
		type_id: u32,
	},
	/// A tensor type id this reader does not know the block layout of.
	#[error("tensor {tensor:?} has unknown type id {type_id}")]
	UnknownTensorType {
		/// The tensor.
		tensor: String,
		/// The ggml type id found.
		type_id: u32,
	},
	/// A value that breaks the format: a string that is not UTF-8, a bool that is not 0 or 1, a
	/// repeated key or tensor name, arrays nested too deeply, a bad alignment.
	#[error("malformed GGUF: {what}: {reason}")]
	Malformed {
		/// What was being read (usually a key or a tensor name).
		what: String,
		/// What is wrong with it.
		reason: &'static str,
	},
	/// A tensor's shape cannot be stored in its type (too many dimensions, a row that is not a
	/// whole number of blocks, an element count that overflows).
	#[error("tensor {tensor:?} has invalid shape {dims:?}: {reason}")]
	BadShape {
		/// The tensor.
		tensor: String,
		/// Its dimensions, innermost first.
		dims: Vec<u64>,
		/// What is wrong.
		reason: &'static str,
	},
	/// A tensor offset that is not a multiple of the file's alignment.
	#[error("tensor {tensor:?} offset {offset} is not a multiple of the alignment {alignment}")]
	MisalignedTensor {
		/// The tensor.
		tensor: String,
		/// Its offset within the data section.
		offset: u64,
		/// The file's alignment.
		alignment: u64,
	},
	/// A tensor's bytes reach past the end of the file (or of the bytes given).
	#[error("tensor {tensor:?} data [{start}, {end}) lies outside the {len} bytes available")]
	OutOfBounds {
		/// The tensor.
		tensor: String,
		/// First byte, absolute.
		start: u64,
		/// One past the last byte, absolute (saturated when it overflows).
		end: u64,
		/// The bytes available.
		len: u64,
	},
	/// No tensor has this name.
	#[error("no tensor named {0:?}")]
	TensorNotFound(String),
	/// The tensor's bytes were read but could not be turned into `f32`.
	#[error("dequantizing tensor {tensor:?}: {source}")]
	Dequant {
		/// The tensor.
		tensor: String,
		/// Why.
		#[source]
		source: DequantError,
	},
}

/// The type of a metadata value, with the ids the format assigns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
	U8,
	I8,
	U16,
	I16,
	U32,
	I32,
	F32,
	Bool,
	String,
	Array,
	U64,
	I64,
	F64,
}

impl ValueType {
	/// The type for a format id, if the format defines one.
	pub fn from_id(id: u32) -> Option<Self> {
		Some(match id {
			0 => Self::U8,
			1 => Self::I8,
			2 => Self::U16,
			3 => Self::I16,
			4 => Self::U32,
			5 => Self::I32,
			6 => Self::F32,
			7 => Self::Bool,
			8 => Self::String,
			9 => Self::Array,
			10 => Self::U64,
			11 => Self::I64,
			12 => Self::F64,
			_ => return None,
		})
	}

	/// The format id of this type.
	pub fn id(self) -> u32 {
		match self {
			Self::U8 => 0,
			Self::I8 => 1,
			Self::U16 => 2,
			Self::I16 => 3,
			Self::U32 => 4,
			Self::I32 => 5,
			Self::F32 => 6,
			Self::Bool => 7,
			Self::String => 8,
			Self::Array => 9,
			Self::U64 => 10,
			Self::I64 => 11,
			Self::F64 => 12,
		}
	}

	/// The fewest bytes one value of this type takes; bounds array allocations by the bytes left.
	fn min_encoded_len(self) -> u64 {
		match self {
			Self::U8 | Self::I8 | Self::Bool => 1,
			Self::U16 | Self::I16 => 2,
			Self::U32 | Self::I32 | Self::F32 => 4,
			Self::U64 | Self::I64 | Self::F64 | Self::String => 8,
			Self::Array => 12,
		}
	}
}

/// One metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataValue {
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
	String(String),
	/// The element type (kept so that an empty array still has one) and the elements.
	Array(ValueType, Vec<MetadataValue>),
}

impl MetadataValue {
	/// The type of this value.
	pub fn value_type(&self) -> ValueType {
		match self {
			Self::U8(_) => ValueType::U8,
			Self::I8(_) => ValueType::I8,
			Self::U16(_) => ValueType::U16,
			Self::I16(_) => ValueType::I16,
			Self::U32(_) => ValueType::U32,
			Self::I32(_) => ValueType::I32,
			Self::U64(_) => ValueType::U64,
			Self::I64(_) => ValueType::I64,
			Self::F32(_) => ValueType::F32,
			Self::F64(_) => ValueType::F64,
			Self::Bool(_) => ValueType::Bool,
			Self::String(_) => ValueType::String,
			Self::Array(..) => ValueType::Array,
		}
	}

	/// Any integer value that is not negative. Writers differ in which integer type they use for
	/// counts, so readers accept them all.
	pub fn as_u64(&self) -> Option<u64> {
		match *self {
			Self::U8(v) => Some(v.into()),
			Self::U16(v) => Some(v.into()),
			Self::U32(v) => Some(v.into()),
			Self::U64(v) => Some(v),
			Self::I8(v) => u64::try_from(v).ok(),
			Self::I16(v) => u64::try_from(v).ok(),
			Self::I32(v) => u64::try_from(v).ok(),
			Self::I64(v) => u64::try_from(v).ok(),
			_ => None,
		}
	}

	/// Any integer value that fits an `i64`.
	pub fn as_i64(&self) -> Option<i64> {
		match *self {
			Self::I8(v) => Some(v.into()),
			Self::I16(v) => Some(v.into()),
			Self::I32(v) => Some(v.into()),
			Self::I64(v) => Some(v),
			Self::U8(v) => Some(v.into()),
			Self::U16(v) => Some(v.into()),
			Self::U32(v) => Some(v.into()),
			Self::U64(v) => i64::try_from(v).ok(),
			_ => None,
		}
	}

	/// A floating-point value, as `f64`.
	pub fn as_f64(&self) -> Option<f64> {
		match *self {
			Self::F32(v) => Some(v.into()),
			Self::F64(v) => Some(v),
			_ => None,
		}
	}

	/// A string value.
	pub fn as_str(&self) -> Option<&str> {
		match self {
			Self::String(s) => Some(s),
			_ => None,
		}
	}

	/// A bool value.
	pub fn as_bool(&self) -> Option<bool> {
		match *self {
			Self::Bool(b) => Some(b),
			_ => None,
		}
	}

	/// The elements of an array value.
	pub fn as_array(&self) -> Option<&[MetadataValue]> {
		match self {
			Self::Array(_, items) => Some(items),
			_ => None,
		}
	}
}

/// The key/values of a GGUF file, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
	entries: Vec<(String, MetadataValue)>,
	index: HashMap<String, usize>,
}

impl Metadata {
	/// The value under `key`.
	pub fn get(&self, key: &str) -> Option<&MetadataValue> {
		let at = *self.index.get(key)?;
		self.entries.get(at).map(|(_, v)| v)
	}

	/// Whether `key` is present.
	pub fn contains(&self, key: &str) -> bool {
		self.index.contains_key(key)
	}

	/// The key/values in file order.
	pub fn iter(&self) -> impl Iterator<Item = (&str, &MetadataValue)> {
		self.entries.iter().map(|(k, v)| (k.as_str(), v))
	}

	/// How many keys there are.
	pub fn len(&self) -> usize {
		self.entries.len()
	}

	/// Whether there are none.
	pub fn is_empty(&self) -> bool {
		self.entries.is_empty()
	}

	/// Adds a key/value; `false` (and nothing changes) when the key is already present.
	fn insert(&mut self, key: String, value: MetadataValue) -> bool {
		if self.index.contains_key(&key) {
			return false;
		}
		self.index.insert(key.clone(), self.entries.len());
		self.entries.push((key, value));
		true
	}
}

/// A ggml tensor element type, as GGUF stores it. The quantized types pack a block of elements
/// into a fixed number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum TensorType {
	F32,
	F16,
	Q4_0,
	Q4_1,
	Q5_0,
	Q5_1,
	Q8_0,
	Q8_1,
	Q2_K,
	Q3_K,
	Q4_K,
	Q5_K,
	Q6_K,
	Q8_K,
	I8,
	I16,
	I32,
	I64,
	F64,
	BF16,
}

impl TensorType {
	/// The type for a ggml type id, if this reader knows its block layout. The `IQ*` and ternary
	/// types are not listed: nothing here reads them.
	pub fn from_id(id: u32) -> Option<Self> {
		Some(match id {
			0 => Self::F32,
			1 => Self::F16,
			2 => Self::Q4_0,
			3 => Self::Q4_1,
			6 => Self::Q5_0,
			7 => Self::Q5_1,
			8 => Self::Q8_0,
			9 => Self::Q8_1,
			10 => Self::Q2_K,
			11 => Self::Q3_K,
			12 => Self::Q4_K,
			13 => Self::Q5_K,
			14 => Self::Q6_K,
			15 => Self::Q8_K,
			24 => Self::I8,
			25 => Self::I16,
			26 => Self::I32,
			27 => Self::I64,
			28 => Self::F64,
			30 => Self::BF16,
			_ => return None,
		})
	}

	/// The ggml type id.
	pub fn id(self) -> u32 {
		match self {
			Self::F32 => 0,
			Self::F16 => 1,
			Self::Q4_0 => 2,
			Self::Q4_1 => 3,
			Self::Q5_0 => 6,
			Self::Q5_1 => 7,
			Self::Q8_0 => 8,
			Self::Q8_1 => 9,
			Self::Q2_K => 10,
			Self::Q3_K => 11,
			Self::Q4_K => 12,
			Self::Q5_K => 13,
			Self::Q6_K => 14,
			Self::Q8_K => 15,
			Self::I8 => 24,
			Self::I16 => 25,
			Self::I32 => 26,
			Self::I64 => 27,
			Self::F64 => 28,
			Self::BF16 => 30,
		}
	}

	/// Elements per block (1 for the plain types).
	pub fn block_len(self) -> u64 {
		match self {
			Self::F32 | Self::F16 | Self::BF16 | Self::F64 => 1,
			Self::I8 | Self::I16 | Self::I32 | Self::I64 => 1,
			Self::Q4_0 | Self::Q4_1 | Self::Q5_0 | Self::Q5_1 | Self::Q8_0 | Self::Q8_1 => 32,
			Self::Q2_K | Self::Q3_K | Self::Q4_K | Self::Q5_K | Self::Q6_K | Self::Q8_K => 256,
		}
	}

	/// Bytes per block.
	pub fn block_bytes(self) -> u64 {
		match self {
			Self::I8 => 1,
			Self::F16 | Self::BF16 | Self::I16 => 2,
			Self::F32 | Self::I32 => 4,
			Self::F64 | Self::I64 => 8,
			// f16 scale + 32 nibbles
			Self::Q4_0 => 18,
			// f16 scale, f16 min + 32 nibbles
			Self::Q4_1 => 20,
			// f16 scale + 32 high bits + 32 nibbles
			Self::Q5_0 => 22,
			// f16 scale, f16 min + 32 high bits + 32 nibbles
			Self::Q5_1 => 24,
			// f16 scale + 32 i8
			Self::Q8_0 => 34,
			// f16 scale, f16 sum + 32 i8
			Self::Q8_1 => 36,
			Self::Q2_K => 84,
			Self::Q3_K => 110,
			Self::Q4_K => 144,
			Self::Q5_K => 176,
			Self::Q6_K => 210,
			Self::Q8_K => 292,
		}
	}

	/// The bytes `elements` elements take, if that is a whole number of blocks and fits a `u64`.
	pub fn bytes_for(self, elements: u64) -> Option<u64> {
		if elements % self.block_len() != 0 {
			return None;
		}
		(elements / self.block_len()).checked_mul(self.block_bytes())
	}
}

impl fmt::Display for TensorType {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		fmt::Debug::fmt(self, f)
	}
}

/// Where a tensor is and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
	name: String,
	dims: Vec<u64>,
	tensor_type: TensorType,
	offset: u64,
	elements: u64,
	byte_len: u64,
}

impl TensorInfo {
	/// The tensor's name, e.g. `blk.0.attn_q.weight`.
	pub fn name(&self) -> &str {
		&self.name
	}

	/// Dimensions, innermost (contiguous) first, as ggml orders them: `token_embd.weight` of a
	/// model with embedding 576 and vocab 49152 is `[576, 49152]`, 49152 rows of 576.
	pub fn dims(&self) -> &[u64] {
		&self.dims
	}

	/// The element type.
	pub fn tensor_type(&self) -> TensorType {
		self.tensor_type
	}

	/// The offset of its bytes within the data section.
	pub fn offset(&self) -> u64 {
		self.offset
	}

	/// The number of elements.
	pub fn elements(&self) -> u64 {
		self.elements
	}

	/// The number of bytes its data takes.
	pub fn byte_len(&self) -> u64 {
		self.byte_len
	}
}

/// The parsed header of a GGUF file: version, metadata, tensor infos and where the data starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Gguf {
	version: u32,
	metadata: Metadata,
	tensors: Vec<TensorInfo>,
	tensor_index: HashMap<String, usize>,
	alignment: u64,
	data_offset: u64,
	file_len: u64,
}

impl Gguf {
	/// Reads a GGUF header from `reader`, which yields a file of `file_len` bytes from its start.
	/// Only the header is read; every tensor is checked to lie within `file_len`.
	pub fn parse<R: Read>(reader: R, file_len: u64) -> Result<Self, GgufError> {
		let mut r = FieldReader { inner: reader, pos: 0, len: file_len };

		let magic: [u8; 4] = r.array("magic")?;
		if magic != MAGIC {
			return Err(GgufError::BadMagic { found: magic });
		}
		let version = r.u32("version")?;
		if !(2..=3).contains(&version) {
			return Err(GgufError::UnsupportedVersion(version));
		}
		let tensor_count = r.u64("tensor count")?;
		let kv_count = r.u64("metadata count")?;

		let mut metadata = Metadata::default();
		for _ in 0..kv_count {
			let key = r.string("metadata key")?;
			let type_id = r.u32("metadata value type")?;
			let value = r.value(&key, type_id, 0)?;
			if !metadata.insert(key.clone(), value) {
				return Err(malformed(key, "metadata key appears twice"));
			}
		}

		let alignment = match metadata.get(ALIGNMENT_KEY) {
			None => DEFAULT_ALIGNMENT,
			Some(v) => match v.as_u64() {
				Some(a) if a > 0 && a % 8 == 0 => a,
				_ => return Err(malformed(ALIGNMENT_KEY, "must be a positive multiple of 8")),
			},
		};

		// A tensor info takes at least 8 (name length) + 4 + 4 + 8 bytes.
		let mut tensors = Vec::with_capacity(capacity_for(tensor_count, 24, r.remaining()));
		let mut tensor_index = HashMap::new();
		for _ in 0..tensor_count {
			let info = r.tensor_info()?;
			if tensor_index.insert(info.name.clone(), tensors.len()).is_some() {
				return Err(malformed(info.name, "tensor name appears twice"));
			}
			tensors.push(info);
		}

		let data_offset = align_up(r.pos, alignment)
			.ok_or_else(|| malformed("tensor data offset", "overflows"))?;
		let gguf =
			Self { version, metadata, tensors, tensor_index, alignment, data_offset, file_len };
		for info in &gguf.tensors {
			if info.offset % alignment != 0 {
				return Err(GgufError::MisalignedTensor {
					tensor: info.name.clone(),
					offset: info.offset,
					alignment,
				});
			}
			gguf.bounded_range(info, file_len)?;
		}
		Ok(gguf)
	}

	/// Reads a GGUF file held in memory.
	pub fn from_bytes(bytes: &[u8]) -> Result<Self, GgufError> {
		Self::parse(bytes, len_u64(bytes.len()))
	}

	/// The format version (2 or 3).
	pub fn version(&self) -> u32 {
		self.version
	}

	/// The metadata key/values.
	pub fn metadata(&self) -> &Metadata {
		&self.metadata
	}

	/// Every tensor, in file order.
	pub fn tensors(&self) -> &[TensorInfo] {
		&self.tensors
	}

	/// The tensor called `name`.
	pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
		self.tensors.get(*self.tensor_index.get(name)?)
	}

	/// The alignment of the data section and of every tensor in it.
	pub fn alignment(&self) -> u64 {
		self.alignment
	}

	/// Where the data section starts in the file.
	pub fn data_offset(&self) -> u64 {
		self.data_offset
	}

	/// The length of the file the header was read from.
	pub fn file_len(&self) -> u64 {
		self.file_len
	}

	/// The bytes of `info`'s data in the file, as an absolute range. Parsing checked that it lies
	/// within [`Gguf::file_len`].
	pub fn tensor_range(&self, info: &TensorInfo) -> Range<u64> {
		let start = self.data_offset.saturating_add(info.offset);
		start..start.saturating_add(info.byte_len)
	}

	/// The data of tensor `name` within `file`, the whole file's bytes.
	pub fn tensor_data<'a>(&self, file: &'a [u8], name: &str) -> Result<&'a [u8], GgufError> {
		let info = self.tensor(name).ok_or_else(|| GgufError::TensorNotFound(name.into()))?;
		let range = self.bounded_range(info, len_u64(file.len()))?;
		let oob = || GgufError::OutOfBounds {
			tensor: info.name.clone(),
			start: range.start,
			end: range.end,
			len: len_u64(file.len()),
		};
		let start = usize::try_from(range.start).map_err(|_| oob())?;
		let end = usize::try_from(range.end).map_err(|_| oob())?;
		file.get(start..end).ok_or_else(oob)
	}

	/// `info`'s absolute byte range, checked against `len` available bytes.
	fn bounded_range(&self, info: &TensorInfo, len: u64) -> Result<Range<u64>, GgufError> {
		let start = self.data_offset.checked_add(info.offset);
		let end = start.and_then(|s| s.checked_add(info.byte_len));
		match (start, end) {
			(Some(start), Some(end)) if end <= len => Ok(start..end),
			_ => Err(GgufError::OutOfBounds {
				tensor: info.name.clone(),
				start: start.unwrap_or(u64::MAX),
				end: end.unwrap_or(u64::MAX),
				len,
			}),
		}
	}
}

/// A GGUF file on disk: the header is read once, tensor data on demand.
#[derive(Debug, Clone)]
pub struct GgufFile {
	path: PathBuf,
	gguf: Gguf,
}

impl GgufFile {
	/// Opens `path` and reads its header.
	pub fn open(path: impl AsRef<Path>) -> Result<Self, GgufError> {
		let path = path.as_ref().to_path_buf();
		let io_err = |source| GgufError::Io { path: path.clone(), source };
		let file = File::open(&path).map_err(io_err)?;
		let len = file.metadata().map_err(io_err)?.len();
		let gguf =
			Gguf::parse(BufReader::with_capacity(1 << 20, file), len).map_err(|e| match e {
				GgufError::Io { source, .. } => io_err(source),
				other => other,
			})?;
		Ok(Self { path, gguf })
	}

	/// The file's path.
	pub fn path(&self) -> &Path {
		&self.path
	}

	/// The parsed header.
	pub fn gguf(&self) -> &Gguf {
		&self.gguf
	}

	/// Reads the raw bytes of tensor `name` from the file.
	pub fn read_tensor_bytes(&self, name: &str) -> Result<Vec<u8>, GgufError> {
		let info = self.gguf.tensor(name).ok_or_else(|| GgufError::TensorNotFound(name.into()))?;
		let range = self.gguf.tensor_range(info);
		let io_err = |source| GgufError::Io { path: self.path.clone(), source };
		let mut file = File::open(&self.path).map_err(io_err)?;
		// The file may have changed since it was opened; check again rather than trust the header.
		let len = file.metadata().map_err(io_err)?.len();
		if range.end > len {
			return Err(GgufError::OutOfBounds {
				tensor: info.name.clone(),
				start: range.start,
				end: range.end,
				len,
			});
		}
		let byte_len = usize::try_from(info.byte_len).map_err(|_| GgufError::OutOfBounds {
			tensor: info.name.clone(),
			start: range.start,
			end: range.end,
			len,
		})?;
		file.seek(SeekFrom::Start(range.start)).map_err(io_err)?;
		let mut bytes = vec![0; byte_len];
		file.read_exact(&mut bytes).map_err(io_err)?;
		Ok(bytes)
	}

	/// Reads tensor `name` and dequantizes it to `f32`, elements in file order.
	pub fn read_tensor_f32(&self, name: &str) -> Result<Vec<f32>, GgufError> {
		let info = self.gguf.tensor(name).ok_or_else(|| GgufError::TensorNotFound(name.into()))?;
		let bytes = self.read_tensor_bytes(name)?;
		dequant::dequantize(info.tensor_type, &bytes)
			.map_err(|source| GgufError::Dequant { tensor: info.name.clone(), source })
	}
}

fn malformed(what: impl Into<String>, reason: &'static str) -> GgufError {
	GgufError::Malformed { what: what.into(), reason }
}

fn len_u64(len: usize) -> u64 {
	u64::try_from(len).unwrap_or(u64::MAX)
}

fn align_up(pos: u64, alignment: u64) -> Option<u64> {
	let rem = pos % alignment;
	if rem == 0 {
		Some(pos)
	} else {
		pos.checked_add(alignment - rem)
	}
}

/// A capacity for `count` items of at least `min_len` bytes each that the remaining bytes could
/// hold, so that a corrupt count cannot make us allocate more than the file could describe.
fn capacity_for(count: u64, min_len: u64, remaining: u64) -> usize {
	let fits = remaining / min_len.max(1);
	usize::try_from(count.min(fits)).unwrap_or(0)
}

/// Little-endian fields from a reader that knows how many bytes the file has left, so every
/// length is checked before anything is allocated for it.
struct FieldReader<R> {
	inner: R,
	pos: u64,
	len: u64,
}

impl<R: Read> FieldReader<R> {
	fn remaining(&self) -> u64 {
		self.len.saturating_sub(self.pos)
	}

	fn ensure(&self, what: &'static str, needed: u64) -> Result<(), GgufError> {
		if needed > self.remaining() {
			return Err(GgufError::Truncated {
				what,
				offset: self.pos,
				needed,
				available: self.remaining(),
			});
		}
		Ok(())
	}

	fn fill(&mut self, what: &'static str, buf: &mut [u8]) -> Result<(), GgufError> {
		let needed = len_u64(buf.len());
		self.ensure(what, needed)?;
		self.inner.read_exact(buf).map_err(|source| {
			if source.kind() == io::ErrorKind::UnexpectedEof {
				GgufError::Truncated { what, offset: self.pos, needed, available: self.remaining() }
			} else {
				GgufError::Io { path: PathBuf::new(), source }
			}
		})?;
		self.pos = self.pos.saturating_add(needed);
		Ok(())
	}

	fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], GgufError> {
		let mut buf = [0; N];
		self.fill(what, &mut buf)?;
		Ok(buf)
	}

	fn u32(&mut self, what: &'static str) -> Result<u32, GgufError> {
		self.array(what).map(u32::from_le_bytes)
	}

	fn u64(&mut self, what: &'static str) -> Result<u64, GgufError> {
		self.array(what).map(u64::from_le_bytes)
	}

	fn string(&mut self, what: &'static str) -> Result<String, GgufError> {
		let len = self.u64(what)?;
		self.ensure(what, len)?;
		let len = usize::try_from(len).map_err(|_| malformed(what, "string length overflows"))?;
		let mut buf = vec![0; len];
		self.fill(what, &mut buf)?;
		String::from_utf8(buf).map_err(|_| malformed(what, "string is not UTF-8"))
	}

	fn value(&mut self, key: &str, type_id: u32, depth: u32) -> Result<MetadataValue, GgufError> {
		let ty = ValueType::from_id(type_id)
			.ok_or_else(|| GgufError::UnknownValueType { key: key.into(), type_id })?;
		const WHAT: &str = "metadata value";
		Ok(match ty {
			ValueType::U8 => MetadataValue::U8(u8::from_le_bytes(self.array(WHAT)?)),
			ValueType::I8 => MetadataValue::I8(i8::from_le_bytes(self.array(WHAT)?)),
			ValueType::U16 => MetadataValue::U16(u16::from_le_bytes(self.array(WHAT)?)),
			ValueType::I16 => MetadataValue::I16(i16::from_le_bytes(self.array(WHAT)?)),
			ValueType::U32 => MetadataValue::U32(u32::from_le_bytes(self.array(WHAT)?)),
			ValueType::I32 => MetadataValue::I32(i32::from_le_bytes(self.array(WHAT)?)),
			ValueType::U64 => MetadataValue::U64(u64::from_le_bytes(self.array(WHAT)?)),
			ValueType::I64 => MetadataValue::I64(i64::from_le_bytes(self.array(WHAT)?)),
			ValueType::F32 => MetadataValue::F32(f32::from_le_bytes(self.array(WHAT)?)),
			ValueType::F64 => MetadataValue::F64(f64::from_le_bytes(self.array(WHAT)?)),
			ValueType::Bool => match self.array::<1>(WHAT)? {
				[0] => MetadataValue::Bool(false),
				[1] => MetadataValue::Bool(true),
				_ => return Err(malformed(key, "bool is neither 0 nor 1")),
			},
			ValueType::String => MetadataValue::String(self.string("metadata string")?),
			ValueType::Array => {
				if depth >= MAX_ARRAY_NESTING {
					return Err(malformed(key, "arrays nested too deeply"));
				}
				let element_id = self.u32("array element type")?;
				let element = ValueType::from_id(element_id).ok_or_else(|| {
					GgufError::UnknownValueType { key: key.into(), type_id: element_id }
				})?;
				let count = self.u64("array length")?;
				let min_len = element.min_encoded_len();
				self.ensure("array elements", count.saturating_mul(min_len))?;
				let mut items = Vec::with_capacity(capacity_for(count, min_len, self.remaining()));
				for _ in 0..count {
					items.push(self.value(key, element_id, depth.saturating_add(1))?);
				}
				MetadataValue::Array(element, items)
			}
		})
	}

	fn tensor_info(&mut self) -> Result<TensorInfo, GgufError> {
		let name = self.string("tensor name")?;
		let n_dims = self.u32("tensor dimension count")?;
		let n_dims = usize::try_from(n_dims).unwrap_or(usize::MAX);
		if n_dims > MAX_DIMS {
			return Err(GgufError::BadShape {
				tensor: name,
				dims: Vec::new(),
				reason: "more than 4 dimensions",
			});
		}
		let mut dims = Vec::with_capacity(n_dims);
		for _ in 0..n_dims {
			dims.push(self.u64("tensor dimension")?);
		}
		let type_id = self.u32("tensor type")?;
		let offset = self.u64("tensor offset")?;
		let tensor_type = TensorType::from_id(type_id)
			.ok_or_else(|| GgufError::UnknownTensorType { tensor: name.clone(), type_id })?;

		let bad_shape =
			|reason| GgufError::BadShape { tensor: name.clone(), dims: dims.clone(), reason };
		let elements = dims
			.iter()
			.try_fold(1u64, |acc, &d| acc.checked_mul(d))
			.ok_or_else(|| bad_shape("element count overflows"))?;
		// ggml quantizes along rows, so each row (the innermost dimension) is whole blocks.
		let row = dims.first().copied().unwrap_or(1);
		if row % tensor_type.block_len() != 0 {
			return Err(bad_shape("rows are not a whole number of blocks"));
		}
		let byte_len =
			tensor_type.bytes_for(elements).ok_or_else(|| bad_shape("byte size overflows"))?;
		Ok(TensorInfo { name, dims, tensor_type, offset, elements, byte_len })
	}
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
	use super::*;
	use crate::model::testing::{GgufWriter, Value};

	fn f32_bytes(values: &[f32]) -> Vec<u8> {
		values.iter().flat_map(|v| v.to_le_bytes()).collect()
	}

	/// Metadata of every value type, and one small tensor of each type the dequantizer reads.
	fn sample() -> GgufWriter {
		let mut w = GgufWriter::new();
		w.kv("general.architecture", Value::Str("llama".into()))
			.kv("test.u8", Value::U8(200))
			.kv("test.i8", Value::I8(-100))
			.kv("test.u16", Value::U16(60_000))
			.kv("test.i16", Value::I16(-30_000))
			.kv("test.u32", Value::U32(4_000_000_000))
			.kv("test.i32", Value::I32(-2_000_000_000))
			.kv("test.u64", Value::U64(u64::MAX))
			.kv("test.i64", Value::I64(i64::MIN))
			.kv("test.f32", Value::F32(0.25))
			.kv("test.f64", Value::F64(-1e300))
			.kv("test.bool", Value::Bool(true))
			.kv("test.str", Value::Str("héllo".into()))
			.kv("test.empty", Value::Array(vec![]))
			.kv("test.ints", Value::Array(vec![Value::I32(1), Value::I32(-2)]))
			.kv(
				"test.nested",
				Value::Array(vec![
					Value::Array(vec![Value::Str("a".into())]),
					Value::Array(vec![Value::Str("b".into()), Value::Str("c".into())]),
				]),
			);
		// 2 x 3 f32, row-major: rows of 2.
		w.tensor("plain", &[2, 3], TensorType::F32, f32_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
		// f16: 1.0, -2.0.
		w.tensor(
			"half",
			&[2],
			TensorType::F16,
			[0x3c00u16, 0xc000].iter().flat_map(|v| v.to_le_bytes()).collect(),
		);
		// Q4_0: d = 1.0, all nibbles 9 -> every element (9 - 8) * 1 = 1.
		let mut q4_0 = 0x3c00u16.to_le_bytes().to_vec();
		q4_0.extend([0x99; 16]);
		w.tensor("q4_0", &[32], TensorType::Q4_0, q4_0);
		// Q4_1: d = 0.5, m = 1.0, low nibbles 2, high 4 -> 2, then 3.
		let mut q4_1 = 0x3800u16.to_le_bytes().to_vec();
		q4_1.extend(0x3c00u16.to_le_bytes());
		q4_1.extend([0x42; 16]);
		w.tensor("q4_1", &[32], TensorType::Q4_1, q4_1);
		// Q8_0: d = 2.0, q = -3 -> -6.
		let mut q8_0 = 0x4000u16.to_le_bytes().to_vec();
		q8_0.extend([(-3i8).to_le_bytes()[0]; 32]);
		w.tensor("q8_0", &[32], TensorType::Q8_0, q8_0);
		w
	}

	#[test]
	fn reads_metadata_of_every_value_type() {
		let gguf = Gguf::from_bytes(&sample().to_bytes()).unwrap();
		let m = gguf.metadata();
		assert_eq!(gguf.version(), 3);
		assert_eq!(m.len(), 16);
		assert_eq!(m.get("general.architecture").and_then(MetadataValue::as_str), Some("llama"));
		assert_eq!(m.get("test.u8"), Some(&MetadataValue::U8(200)));
		assert_eq!(m.get("test.i8"), Some(&MetadataValue::I8(-100)));
		assert_eq!(m.get("test.u16"), Some(&MetadataValue::U16(60_000)));
		assert_eq!(m.get("test.i16"), Some(&MetadataValue::I16(-30_000)));
		assert_eq!(m.get("test.u32").and_then(MetadataValue::as_u64), Some(4_000_000_000));
		assert_eq!(m.get("test.i32").and_then(MetadataValue::as_i64), Some(-2_000_000_000));
		assert_eq!(m.get("test.i32").and_then(MetadataValue::as_u64), None);
		assert_eq!(m.get("test.u64").and_then(MetadataValue::as_u64), Some(u64::MAX));
		assert_eq!(m.get("test.i64"), Some(&MetadataValue::I64(i64::MIN)));
		assert_eq!(m.get("test.f32").and_then(MetadataValue::as_f64), Some(0.25));
		assert_eq!(m.get("test.f64").and_then(MetadataValue::as_f64), Some(-1e300));
		assert_eq!(m.get("test.bool").and_then(MetadataValue::as_bool), Some(true));
		assert_eq!(m.get("test.str").and_then(MetadataValue::as_str), Some("héllo"));
		assert_eq!(m.get("test.empty"), Some(&MetadataValue::Array(ValueType::U8, vec![])));
		assert_eq!(
			m.get("test.ints"),
			Some(&MetadataValue::Array(
				ValueType::I32,
				vec![MetadataValue::I32(1), MetadataValue::I32(-2)]
			))
		);
		let nested = m.get("test.nested").and_then(MetadataValue::as_array).unwrap();
		assert_eq!(nested.len(), 2);
		assert_eq!(
			nested[1],
			MetadataValue::Array(
				ValueType::String,
				vec![MetadataValue::String("b".into()), MetadataValue::String("c".into())]
			)
		);
		let keys: Vec<&str> = m.iter().map(|(k, _)| k).take(3).collect();
		assert_eq!(keys, ["general.architecture", "test.u8", "test.i8"], "file order is kept");
	}

	#[test]
	fn reads_tensor_infos_and_data() {
		let bytes = sample().to_bytes();
		let gguf = Gguf::from_bytes(&bytes).unwrap();
		assert_eq!(gguf.alignment(), DEFAULT_ALIGNMENT);
		assert_eq!(gguf.data_offset() % 32, 0);
		let names: Vec<&str> = gguf.tensors().iter().map(TensorInfo::name).collect();
		assert_eq!(names, ["plain", "half", "q4_0", "q4_1", "q8_0"]);

		let plain = gguf.tensor("plain").unwrap();
		assert_eq!(plain.dims(), &[2, 3]);
		assert_eq!(plain.tensor_type(), TensorType::F32);
		assert_eq!(plain.elements(), 6);
		assert_eq!(plain.byte_len(), 24);
		assert_eq!(plain.offset(), 0);
		// Each tensor starts on the alignment: 24 bytes of f32 round up to 32.
		assert_eq!(gguf.tensor("half").unwrap().offset(), 32);
		assert_eq!(gguf.tensor("q4_0").unwrap().byte_len(), 18);
		assert_eq!(gguf.tensor("q8_0").unwrap().byte_len(), 34);

		let data = gguf.tensor_data(&bytes, "plain").unwrap();
		assert_eq!(data, f32_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).as_slice());
		assert_eq!(gguf.tensor_range(plain).start, gguf.data_offset());
		assert!(matches!(gguf.tensor_data(&bytes, "nope"), Err(GgufError::TensorNotFound(_))));
	}

	#[test]
	fn reads_and_dequantizes_tensors_from_a_file() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("sample.gguf");
		std::fs::write(&path, sample().to_bytes()).unwrap();
		let file = GgufFile::open(&path).unwrap();
		assert_eq!(file.path(), path);
		assert_eq!(file.read_tensor_f32("plain").unwrap(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
		assert_eq!(file.read_tensor_f32("half").unwrap(), [1.0, -2.0]);
		assert_eq!(file.read_tensor_f32("q4_0").unwrap(), [1.0; 32]);
		let q4_1 = file.read_tensor_f32("q4_1").unwrap();
		assert_eq!(&q4_1[..16], &[2.0; 16]);
		assert_eq!(&q4_1[16..], &[3.0; 16]);
		assert_eq!(file.read_tensor_f32("q8_0").unwrap(), [-6.0; 32]);
		assert!(matches!(file.read_tensor_bytes("nope"), Err(GgufError::TensorNotFound(_))));
	}

	#[test]
	fn reads_version_2_and_a_custom_alignment() {
		let mut w = sample();
		w.version(2).kv(ALIGNMENT_KEY, Value::U32(64));
		let bytes = w.to_bytes();
		let gguf = Gguf::from_bytes(&bytes).unwrap();
		assert_eq!(gguf.version(), 2);
		assert_eq!(gguf.alignment(), 64);
		assert_eq!(gguf.data_offset() % 64, 0);
		assert_eq!(gguf.tensor("half").unwrap().offset(), 64);
		assert_eq!(gguf.tensor_data(&bytes, "half").unwrap(), [0x00, 0x3c, 0x00, 0xc0]);
	}

	#[test]
	fn rejects_bad_magic_and_versions() {
		let mut w = sample();
		w.magic(*b"GGML");
		assert!(matches!(
			Gguf::from_bytes(&w.to_bytes()),
			Err(GgufError::BadMagic { found }) if &found == b"GGML"
		));
		for version in [1, 4, 0x0300_0000] {
			let mut w = sample();
			w.version(version);
			assert!(matches!(
				Gguf::from_bytes(&w.to_bytes()),
				Err(GgufError::UnsupportedVersion(v)) if v == version
			));
		}
	}

	#[test]
	fn rejects_every_truncation() {
		let bytes = sample().to_bytes();
		let gguf = Gguf::from_bytes(&bytes).unwrap();
		let header_end = usize::try_from(gguf.data_offset()).unwrap();
		for cut in 0..bytes.len() {
			let result = Gguf::from_bytes(&bytes[..cut]);
			match result {
				Err(GgufError::Truncated { .. }) => assert!(cut < header_end, "cut at {cut}"),
				Err(GgufError::OutOfBounds { .. }) => {
					assert!(cut >= header_end - 31, "cut at {cut}")
				}
				other => panic!("cut at {cut}: {other:?}"),
			}
		}
	}

	#[test]
	fn rejects_unknown_tensor_types() {
		let mut w = GgufWriter::new();
		w.raw_tensor("iq", &[256], 16, vec![0; 66], None);
		assert!(matches!(
			Gguf::from_bytes(&w.to_bytes()),
			Err(GgufError::UnknownTensorType { tensor, type_id: 16 }) if tensor == "iq"
		));
	}

	#[test]
	fn rejects_tensors_outside_the_file_or_off_alignment() {
		// The header puts 16 bytes a terabyte in; the writer writes no data for it.
		let mut w = GgufWriter::new();
		w.raw_tensor("far", &[4], TensorType::F32.id(), vec![], Some(1 << 40));
		assert!(matches!(
			Gguf::from_bytes(&w.to_bytes()),
			Err(GgufError::OutOfBounds { tensor, end, .. }) if tensor == "far" && end > 1 << 40
		));

		let mut w = GgufWriter::new();
		w.raw_tensor("overflow", &[4], TensorType::F32.id(), vec![], Some(u64::MAX - 8));
		assert!(matches!(
			Gguf::from_bytes(&w.to_bytes()),
			Err(GgufError::MisalignedTensor { .. } | GgufError::OutOfBounds { .. })
		));

		let mut w = GgufWriter::new();
		w.raw_tensor("odd", &[4], TensorType::F32.id(), vec![0; 16], Some(8));
		assert!(matches!(
			Gguf::from_bytes(&w.to_bytes()),
			Err(GgufError::MisalignedTensor { offset: 8, alignment: 32, .. })
		));

		// Bytes handed to tensor_data that are shorter than the file the header describes.
		let bytes = sample().to_bytes();
		let gguf = Gguf::from_bytes(&bytes).unwrap();
		assert!(matches!(
			gguf.tensor_data(&bytes[..bytes.len() - 1], "q8_0"),
			Err(GgufError::OutOfBounds { .. })
		));
	}

	#[test]
	fn rejects_malformed_shapes_and_values() {
		let mut w = GgufWriter::new();
		w.raw_tensor("ragged", &[31], TensorType::Q4_0.id(), vec![0; 18], None);
		assert!(matches!(Gguf::from_bytes(&w.to_bytes()), Err(GgufError::BadShape { .. })));

		let mut w = GgufWriter::new();
		w.raw_tensor("huge", &[u64::MAX, 2], TensorType::F32.id(), vec![], None);
		assert!(matches!(Gguf::from_bytes(&w.to_bytes()), Err(GgufError::BadShape { .. })));

		let mut w = GgufWriter::new();
		w.raw_tensor("5d", &[1, 1, 1, 1, 1], TensorType::F32.id(), vec![0; 4], None);
		assert!(matches!(Gguf::from_bytes(&w.to_bytes()), Err(GgufError::BadShape { .. })));

		let mut w = GgufWriter::new();
		w.raw_tensor("twice", &[1], 0, vec![0; 4], None).raw_tensor(
			"twice",
			&[1],
			0,
			vec![0; 4],
			None,
		);
		assert!(matches!(Gguf::from_bytes(&w.to_bytes()), Err(GgufError::Malformed { .. })));

		let mut w = GgufWriter::new();
		w.push_kv("k", Value::U8(1)).push_kv("k", Value::U8(2));
		assert!(matches!(Gguf::from_bytes(&w.to_bytes()), Err(GgufError::Malformed { .. })));

		let mut w = GgufWriter::new();
		w.kv("k", Value::Raw(7, vec![2]));
		assert!(matches!(Gguf::from_bytes(&w.to_bytes()), Err(GgufError::Malformed { .. })));

		let mut w = GgufWriter::new();
		w.kv("k", Value::Raw(8, [2u64.to_le_bytes().as_slice(), &[0xff, 0xfe]].concat()));
		assert!(matches!(Gguf::from_bytes(&w.to_bytes()), Err(GgufError::Malformed { .. })));

		let mut w = GgufWriter::new();
		w.kv("k", Value::Raw(13, vec![]));
		assert!(matches!(
			Gguf::from_bytes(&w.to_bytes()),
			Err(GgufError::UnknownValueType { type_id: 13, .. })
		));

		let mut w = GgufWriter::new();
		w.kv(ALIGNMENT_KEY, Value::U32(12));
		assert!(matches!(Gguf::from_bytes(&w.to_bytes()), Err(GgufError::Malformed { .. })));
	}

	#[test]
	fn rejects_huge_declared_lengths_without_allocating_them() {
		// An array claiming 2^60 strings in a file of a few bytes.
		let mut w = GgufWriter::new();
		let mut payload = 8u32.to_le_bytes().to_vec();
		payload.extend((1u64 << 60).to_le_bytes());
		w.kv("k", Value::Raw(9, payload));
		assert!(matches!(Gguf::from_bytes(&w.to_bytes()), Err(GgufError::Truncated { .. })));

		// A string claiming u64::MAX bytes.
		let mut w = GgufWriter::new();
		w.kv("k", Value::Raw(8, u64::MAX.to_le_bytes().to_vec()));
		assert!(matches!(Gguf::from_bytes(&w.to_bytes()), Err(GgufError::Truncated { .. })));
	}
}
