//! The Hugging Face `.safetensors` container.
//!
//! Layout: an 8-byte little-endian header length `n`, then `n` bytes of JSON mapping each tensor
//! name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the data that
//! follows the header), plus an optional `"__metadata__"` object of string values, then the raw
//! tensor data, little-endian and row-major.
//!
//! Reading checks every tensor up front: its dtype is known, its offsets lie within the data and
//! overlap no other tensor's, and its shape's element count times the dtype's size is its byte
//! length. [`SafeTensors::tensor_f32`] converts F32, F16 and BF16 tensors to `f32`.

use super::dequant::{bf16_to_f32, f16_to_f32};
use std::{collections::BTreeMap, path::Path};

/// The largest header accepted (as the reference implementation does: 100 MB).
pub const MAX_HEADER_LEN: u64 = 100_000_000;
/// The header key holding free-form string metadata rather than a tensor.
pub const METADATA_KEY: &str = "__metadata__";

/// Why a `.safetensors` file could not be read, or a tensor of it converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SafeTensorsError {
	/// The file could not be read.
	#[error("reading the file: {0}")]
	Io(String),
	/// The file ends before the header length, or before the header it announces.
	#[error("the file has {len} bytes, too few for {needed}")]
	Truncated {
		/// The file's length.
		len: u64,
		/// What did not fit.
		needed: &'static str,
	},
	/// The header length is over [`MAX_HEADER_LEN`].
	#[error("header of {0} bytes is over the limit of {MAX_HEADER_LEN}")]
	HeaderTooLarge(u64),
	/// The header is not UTF-8 JSON of the expected shape.
	#[error("invalid header: {0}")]
	InvalidHeader(String),
	/// A tensor names a dtype this reader does not know.
	#[error("tensor {name:?} has unknown dtype {dtype:?}")]
	UnknownDtype {
		/// The tensor.
		name: String,
		/// The dtype string.
		dtype: String,
	},
	/// A tensor's offsets are reversed or reach past the end of the data.
	#[error("tensor {name:?} at bytes {begin}..{end} is outside the {data_len} bytes of data")]
	OutOfBounds {
		/// The tensor.
		name: String,
		/// Its first byte.
		begin: u64,
		/// One past its last byte.
		end: u64,
		/// How much data the file holds.
		data_len: u64,
	},
	/// Two tensors share bytes.
	#[error("tensors {first:?} and {second:?} overlap")]
	Overlapping {
		/// The tensor that starts first.
		first: String,
		/// The tensor that starts inside it.
		second: String,
	},
	/// A tensor's shape does not match its byte length.
	#[error("tensor {name:?} of shape {shape:?} needs {expected} bytes but has {actual}")]
	ShapeMismatch {
		/// The tensor.
		name: String,
		/// Its shape.
		shape: Vec<u64>,
		/// The bytes the shape and dtype need (`u64::MAX` when that overflows).
		expected: u64,
		/// The bytes its offsets span.
		actual: u64,
	},
	/// No tensor has this name.
	#[error("no tensor named {0:?}")]
	NotFound(String),
	/// The tensor holds another number of values than the matrix asked for.
	#[error(
		"tensor {name:?} holds {values} values, not the {expected} of a {rows} × {cols} matrix"
	)]
	WrongLength {
		/// The tensor.
		name: String,
		/// The values it holds.
		values: u64,
		/// `rows · cols`.
		expected: u64,
		/// Rows asked for.
		rows: u64,
		/// Columns asked for.
		cols: u64,
	},
	/// The tensor's dtype cannot be converted to `f32` by [`SafeTensors::tensor_f32`].
	#[error("tensor {name:?} has dtype {dtype:?}, not F32, F16 or BF16")]
	UnsupportedDtype {
		/// The tensor.
		name: String,
		/// Its dtype.
		dtype: Dtype,
	},
}

/// A safetensors element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
	/// Boolean, one byte.
	Bool,
	/// 8-bit float, E4M3.
	F8E4M3,
	/// 8-bit float, E5M2.
	F8E5M2,
	/// Signed 8-bit integer.
	I8,
	/// Unsigned 8-bit integer.
	U8,
	/// Signed 16-bit integer.
	I16,
	/// Unsigned 16-bit integer.
	U16,
	/// IEEE half precision.
	F16,
	/// bfloat16.
	BF16,
	/// Signed 32-bit integer.
	I32,
	/// Unsigned 32-bit integer.
	U32,
	/// IEEE single precision.
	F32,
	/// Signed 64-bit integer.
	I64,
	/// Unsigned 64-bit integer.
	U64,
	/// IEEE double precision.
	F64,
}

impl Dtype {
	/// The dtype spelled `name` in a header.
	pub fn from_name(name: &str) -> Option<Self> {
		Some(match name {
			"BOOL" => Self::Bool,
			"F8_E4M3" => Self::F8E4M3,
			"F8_E5M2" => Self::F8E5M2,
			"I8" => Self::I8,
			"U8" => Self::U8,
			"I16" => Self::I16,
			"U16" => Self::U16,
			"F16" => Self::F16,
			"BF16" => Self::BF16,
			"I32" => Self::I32,
			"U32" => Self::U32,
			"F32" => Self::F32,
			"I64" => Self::I64,
			"U64" => Self::U64,
			"F64" => Self::F64,
			_ => return None,
		})
	}

	/// Bytes per element.
	pub fn size(self) -> u64 {
		match self {
			Self::Bool | Self::F8E4M3 | Self::F8E5M2 | Self::I8 | Self::U8 => 1,
			Self::I16 | Self::U16 | Self::F16 | Self::BF16 => 2,
			Self::I32 | Self::U32 | Self::F32 => 4,
			Self::I64 | Self::U64 | Self::F64 => 8,
		}
	}
}

/// One tensor's entry in the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorEntry {
	/// Its element type.
	pub dtype: Dtype,
	/// Its dimensions, outermost first.
	pub shape: Vec<u64>,
	/// Its first byte within the data.
	pub begin: usize,
	/// One past its last byte within the data.
	pub end: usize,
}

/// A `.safetensors` file held in memory, its header checked.
#[derive(Debug, Clone)]
pub struct SafeTensors {
	bytes: Vec<u8>,
	data_start: usize,
	tensors: BTreeMap<String, TensorEntry>,
	metadata: BTreeMap<String, String>,
}

impl SafeTensors {
	/// Reads and checks the file at `path`.
	pub fn open(path: impl AsRef<Path>) -> Result<Self, SafeTensorsError> {
		let bytes = std::fs::read(path).map_err(|e| SafeTensorsError::Io(e.to_string()))?;
		Self::from_bytes(bytes)
	}

	/// Checks the file in `bytes`.
	pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, SafeTensorsError> {
		let len = len_u64(bytes.len());
		let truncated = |needed| SafeTensorsError::Truncated { len, needed };
		let prefix: [u8; 8] = bytes
			.get(..8)
			.and_then(|b| b.try_into().ok())
			.ok_or_else(|| truncated("the header length"))?;
		let header_len = u64::from_le_bytes(prefix);
		if header_len > MAX_HEADER_LEN {
			return Err(SafeTensorsError::HeaderTooLarge(header_len));
		}
		// header_len <= 100 MB fits in usize on every supported target.
		let data_start = usize::try_from(header_len)
			.map_err(|_| SafeTensorsError::HeaderTooLarge(header_len))?
			.saturating_add(8);
		let header = bytes.get(8..data_start).ok_or_else(|| truncated("the header"))?;
		let invalid = |what: String| SafeTensorsError::InvalidHeader(what);
		let header = std::str::from_utf8(header).map_err(|e| invalid(e.to_string()))?;
		let json: serde_json::Value =
			serde_json::from_str(header).map_err(|e| invalid(e.to_string()))?;
		let serde_json::Value::Object(entries) = json else {
			return Err(invalid("not a JSON object".into()));
		};
		let data_len = bytes.len().saturating_sub(data_start);

		let mut tensors = BTreeMap::new();
		let mut metadata = BTreeMap::new();
		for (name, value) in entries {
			if name == METADATA_KEY {
				let serde_json::Value::Object(map) = value else {
					return Err(invalid(format!("{METADATA_KEY} is not an object")));
				};
				for (key, value) in map {
					let serde_json::Value::String(s) = value else {
						return Err(invalid(format!("{METADATA_KEY}.{key} is not a string")));
					};
					metadata.insert(key, s);
				}
				continue;
			}
			let entry = parse_entry(&name, &value, data_len)?;
			tensors.insert(name, entry);
		}

		let mut spans: Vec<(&String, &TensorEntry)> = tensors.iter().collect();
		spans.sort_by_key(|(_, e)| (e.begin, e.end));
		for pair in spans.windows(2) {
			if let [(first, a), (second, b)] = pair {
				// Empty tensors occupy no bytes and overlap nothing.
				if a.begin < a.end && b.begin < b.end && b.begin < a.end {
					return Err(SafeTensorsError::Overlapping {
						first: (*first).clone(),
						second: (*second).clone(),
					});
				}
			}
		}

		Ok(Self { bytes, data_start, tensors, metadata })
	}

	/// The tensors by name.
	pub fn tensors(&self) -> &BTreeMap<String, TensorEntry> {
		&self.tensors
	}

	/// The `__metadata__` strings (empty when the header has none).
	pub fn metadata(&self) -> &BTreeMap<String, String> {
		&self.metadata
	}

	/// The entry of tensor `name`.
	pub fn tensor(&self, name: &str) -> Option<&TensorEntry> {
		self.tensors.get(name)
	}

	/// The raw bytes of tensor `name`.
	pub fn tensor_bytes(&self, name: &str) -> Result<&[u8], SafeTensorsError> {
		let entry = self.tensor(name).ok_or_else(|| SafeTensorsError::NotFound(name.into()))?;
		let begin = self.data_start.saturating_add(entry.begin);
		let end = self.data_start.saturating_add(entry.end);
		// Checked against the data when the file was read.
		self.bytes.get(begin..end).ok_or_else(|| SafeTensorsError::OutOfBounds {
			name: name.into(),
			begin: len_u64(entry.begin),
			end: len_u64(entry.end),
			data_len: len_u64(self.bytes.len().saturating_sub(self.data_start)),
		})
	}

	/// Tensor `name` as `f32`s, row-major; F32, F16 and BF16 only.
	pub fn tensor_f32(&self, name: &str) -> Result<Vec<f32>, SafeTensorsError> {
		let (bytes, dtype, width) = self.f32_bytes(name)?;
		let mut out = vec![0f32; bytes.len() / width];
		widen(dtype, bytes, out.iter_mut());
		Ok(out)
	}

	/// Tensor `name`'s bytes, its dtype and the bytes of one value, for the dtypes read as
	/// `f32` (F32, F16, BF16).
	fn f32_bytes(&self, name: &str) -> Result<(&[u8], Dtype, usize), SafeTensorsError> {
		let bytes = self.tensor_bytes(name)?;
		match self.tensor(name).map(|e| e.dtype) {
			Some(dtype @ Dtype::F32) => Ok((bytes, dtype, 4)),
			Some(dtype @ (Dtype::F16 | Dtype::BF16)) => Ok((bytes, dtype, 2)),
			Some(dtype) => Err(SafeTensorsError::UnsupportedDtype { name: name.into(), dtype }),
			None => Err(SafeTensorsError::NotFound(name.into())),
		}
	}

	/// Tensor `name`, a row-major `rows × cols` matrix, transposed to `cols × rows` in `f32`
	/// with its rows in the order `source_row` gives: `out[c · rows + r] =
	/// tensor[source_row(r)][c]` (`source_row` maps `0..rows` into `0..rows`). One pass from
	/// the file's bytes into the result, with no intermediate copy (what a cold adapter load
	/// does per tensor). F32, F16 and BF16 only.
	pub fn tensor_f32_transposed(
		&self,
		name: &str,
		rows: usize,
		cols: usize,
		source_row: impl Fn(usize) -> usize,
	) -> Result<Vec<f32>, SafeTensorsError> {
		let (bytes, dtype, width) = self.f32_bytes(name)?;
		let expected = rows.checked_mul(cols);
		let values = bytes.len() / width;
		if expected != Some(values) {
			return Err(SafeTensorsError::WrongLength {
				name: name.into(),
				values: len_u64(values),
				expected: expected.map_or(u64::MAX, len_u64),
				rows: len_u64(rows),
				cols: len_u64(cols),
			});
		}
		let mut out = vec![0f32; values];
		let line = cols * width;
		for r in 0..rows {
			let src = source_row(r);
			// src < rows, so the line is inside the tensor (its length was checked above).
			let Some(from) = bytes.get(src * line..(src + 1) * line) else {
				return Err(SafeTensorsError::OutOfBounds {
					name: format!("{name} row {src}"),
					begin: len_u64(src * line),
					end: len_u64((src + 1) * line),
					data_len: len_u64(bytes.len()),
				});
			};
			widen(dtype, from, out.iter_mut().skip(r).step_by(rows.max(1)));
		}
		Ok(out)
	}
}

/// The values in `from` (of `dtype`: F32, F16 or BF16, little-endian) as `f32`s into `out`, in
/// order.
fn widen<'a>(dtype: Dtype, from: &[u8], out: impl Iterator<Item = &'a mut f32>) {
	match dtype {
		Dtype::F32 => {
			for (o, v) in out.zip(from.chunks_exact(4)) {
				*o = f32::from_le_bytes(array(v));
			}
		}
		Dtype::F16 => {
			for (o, v) in out.zip(from.chunks_exact(2)) {
				*o = f16_to_f32(u16::from_le_bytes(array(v)));
			}
		}
		_ => {
			for (o, v) in out.zip(from.chunks_exact(2)) {
				*o = bf16_to_f32(u16::from_le_bytes(array(v)));
			}
		}
	}
}

/// Serializes `f32` tensors `(name, shape, values)` as a `.safetensors` file with `metadata`
/// under `__metadata__`. The header lists tensors by name (JSON object keys sorted) with data in
/// the order given, and is padded with spaces to a multiple of 8 bytes, as the format
/// recommends. The same input always gives the same bytes.
pub fn write_f32(
	tensors: &[(String, Vec<usize>, Vec<f32>)],
	metadata: &BTreeMap<String, String>,
) -> Vec<u8> {
	let mut header = serde_json::Map::new();
	if !metadata.is_empty() {
		let meta: serde_json::Map<String, serde_json::Value> =
			metadata.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
		header.insert("__metadata__".into(), meta.into());
	}
	let mut offset = 0usize;
	for (name, shape, values) in tensors {
		let end = offset.saturating_add(values.len().saturating_mul(4));
		header.insert(
			name.clone(),
			serde_json::json!({ "dtype": "F32", "shape": shape, "data_offsets": [offset, end] }),
		);
		offset = end;
	}
	let mut json = serde_json::Value::Object(header).to_string().into_bytes();
	while json.len() % 8 != 0 {
		json.push(b' ');
	}
	let mut out = Vec::with_capacity(8usize.saturating_add(json.len()).saturating_add(offset));
	out.extend_from_slice(&len_u64(json.len()).to_le_bytes());
	out.extend_from_slice(&json);
	for (_, _, values) in tensors {
		for v in values {
			out.extend_from_slice(&v.to_le_bytes());
		}
	}
	out
}

/// The `N` bytes of a chunk of exactly `N` bytes.
fn array<const N: usize>(chunk: &[u8]) -> [u8; N] {
	chunk.try_into().unwrap_or([0; N])
}

fn len_u64(n: usize) -> u64 {
	u64::try_from(n).unwrap_or(u64::MAX)
}

/// Reads and checks one tensor's header entry.
fn parse_entry(
	name: &str,
	value: &serde_json::Value,
	data_len: usize,
) -> Result<TensorEntry, SafeTensorsError> {
	let invalid = |what: &str| SafeTensorsError::InvalidHeader(format!("tensor {name:?}: {what}"));
	let dtype_name = value
		.get("dtype")
		.and_then(serde_json::Value::as_str)
		.ok_or_else(|| invalid("no dtype string"))?;
	let dtype = Dtype::from_name(dtype_name).ok_or_else(|| SafeTensorsError::UnknownDtype {
		name: name.into(),
		dtype: dtype_name.into(),
	})?;
	let shape = value
		.get("shape")
		.and_then(serde_json::Value::as_array)
		.ok_or_else(|| invalid("no shape array"))?
		.iter()
		.map(serde_json::Value::as_u64)
		.collect::<Option<Vec<u64>>>()
		.ok_or_else(|| invalid("shape holds something other than non-negative integers"))?;
	let offsets = value
		.get("data_offsets")
		.and_then(serde_json::Value::as_array)
		.ok_or_else(|| invalid("no data_offsets array"))?;
	let (begin, end) = match offsets.as_slice() {
		[b, e] => match (b.as_u64(), e.as_u64()) {
			(Some(b), Some(e)) => (b, e),
			_ => return Err(invalid("data_offsets are not non-negative integers")),
		},
		_ => return Err(invalid("data_offsets is not [begin, end]")),
	};
	let data_len_u64 = len_u64(data_len);
	if begin > end || end > data_len_u64 {
		return Err(SafeTensorsError::OutOfBounds {
			name: name.into(),
			begin,
			end,
			data_len: data_len_u64,
		});
	}
	let expected =
		shape.iter().try_fold(dtype.size(), |acc, &d| acc.checked_mul(d)).unwrap_or(u64::MAX);
	if expected != end - begin {
		return Err(SafeTensorsError::ShapeMismatch {
			name: name.into(),
			shape,
			expected,
			actual: end - begin,
		});
	}
	// Both are <= data_len, a usize.
	let to_usize = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
	Ok(TensorEntry { dtype, shape, begin: to_usize(begin), end: to_usize(end) })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
	use super::*;

	/// A file from a header JSON string and data.
	fn file(header: &str, data: &[u8]) -> Vec<u8> {
		let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
		bytes.extend_from_slice(header.as_bytes());
		bytes.extend_from_slice(data);
		bytes
	}

	fn read(header: &str, data: &[u8]) -> Result<SafeTensors, SafeTensorsError> {
		SafeTensors::from_bytes(file(header, data))
	}

	/// F32 [2, 2], F16 [3], BF16 [2] and an I32 [1], with metadata.
	fn sample() -> Vec<u8> {
		let mut data = Vec::new();
		for v in [1.0f32, -2.5, 0.125, 3e8] {
			data.extend_from_slice(&v.to_le_bytes());
		}
		// F16: 1.0, -2.0, 0.5
		for bits in [0x3c00u16, 0xc000, 0x3800] {
			data.extend_from_slice(&bits.to_le_bytes());
		}
		// BF16: 1.0, -3.0 (the top halves of their f32 bits)
		for v in [1.0f32, -3.0] {
			data.extend_from_slice(&((v.to_bits() >> 16) as u16).to_le_bytes());
		}
		data.extend_from_slice(&7i32.to_le_bytes());
		let header = r#"{
			"__metadata__": {"format": "pt"},
			"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
			"h": {"dtype": "F16", "shape": [3], "data_offsets": [16, 22]},
			"b": {"dtype": "BF16", "shape": [2], "data_offsets": [22, 26]},
			"i": {"dtype": "I32", "shape": [1], "data_offsets": [26, 30]},
			"e": {"dtype": "F32", "shape": [0, 4], "data_offsets": [30, 30]}
		}"#;
		file(header, &data)
	}

	#[test]
	fn reads_f32_f16_and_bf16_tensors_from_a_file() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("model.safetensors");
		std::fs::write(&path, sample()).unwrap();
		let st = SafeTensors::open(&path).unwrap();
		assert_eq!(st.metadata().get("format").map(String::as_str), Some("pt"));
		assert_eq!(st.tensors().len(), 5);
		assert_eq!(st.tensor("w").unwrap().shape, [2, 2]);
		assert_eq!(st.tensor_f32("w").unwrap(), [1.0, -2.5, 0.125, 3e8]);
		assert_eq!(st.tensor_f32("h").unwrap(), [1.0, -2.0, 0.5]);
		assert_eq!(st.tensor_f32("b").unwrap(), [1.0, -3.0]);
		assert_eq!(st.tensor_f32("e").unwrap(), Vec::<f32>::new());
		assert_eq!(st.tensor_bytes("i").unwrap(), 7i32.to_le_bytes());
		assert_eq!(
			st.tensor_f32("i").unwrap_err(),
			SafeTensorsError::UnsupportedDtype { name: "i".into(), dtype: Dtype::I32 }
		);
		assert_eq!(st.tensor_f32("nope").unwrap_err(), SafeTensorsError::NotFound("nope".into()));
		assert!(matches!(
			SafeTensors::open(dir.path().join("missing")),
			Err(SafeTensorsError::Io(_))
		));
	}

	#[test]
	fn reads_a_matrix_transposed_with_its_rows_reordered() {
		// 3 × 4, values 10·row + col.
		let values: Vec<f32> = (0..12).map(|i| (10 * (i / 4) + i % 4) as f32).collect();
		let bytes = write_f32(&[("m".into(), vec![3, 4], values)], &BTreeMap::new());
		let st = SafeTensors::from_bytes(bytes).unwrap();
		// Rows in order: out[c · 3 + r] = m[r][c].
		let plain = st.tensor_f32_transposed("m", 3, 4, |r| r).unwrap();
		assert_eq!(plain, [0., 10., 20., 1., 11., 21., 2., 12., 22., 3., 13., 23.]);
		// Rows reversed: out[c · 3 + r] = m[2 - r][c].
		let reversed = st.tensor_f32_transposed("m", 3, 4, |r| 2 - r).unwrap();
		assert_eq!(reversed, [20., 10., 0., 21., 11., 1., 22., 12., 2., 23., 13., 3.]);
		// Half precision is widened on the way (the sample's "h" holds 1, -2, 0.5).
		let st = SafeTensors::from_bytes(sample()).unwrap();
		assert_eq!(st.tensor_f32_transposed("h", 1, 3, |r| r).unwrap(), [1.0, -2.0, 0.5]);
		assert_eq!(st.tensor_f32_transposed("h", 3, 1, |r| r).unwrap(), [1.0, -2.0, 0.5]);
		// A shape that does not hold the tensor's values, a dtype with no f32 reading, a
		// missing name, and a row order that leaves the matrix.
		assert!(matches!(
			st.tensor_f32_transposed("h", 2, 2, |r| r),
			Err(SafeTensorsError::WrongLength { values: 3, expected: 4, .. })
		));
		assert!(matches!(
			st.tensor_f32_transposed("i", 1, 1, |r| r),
			Err(SafeTensorsError::UnsupportedDtype { .. })
		));
		assert!(matches!(
			st.tensor_f32_transposed("nope", 1, 1, |r| r),
			Err(SafeTensorsError::NotFound(_))
		));
		assert!(matches!(
			st.tensor_f32_transposed("h", 3, 1, |r| r + 1),
			Err(SafeTensorsError::OutOfBounds { .. })
		));
	}

	#[test]
	fn rejects_truncated_files() {
		let bytes = sample();
		for cut in [0, 7] {
			assert!(matches!(
				SafeTensors::from_bytes(bytes[..cut].to_vec()),
				Err(SafeTensorsError::Truncated { needed: "the header length", .. })
			));
		}
		assert!(matches!(
			SafeTensors::from_bytes(bytes[..20].to_vec()),
			Err(SafeTensorsError::Truncated { needed: "the header", .. })
		));
		// Cutting the data leaves the last tensors out of bounds.
		assert!(matches!(
			SafeTensors::from_bytes(bytes[..bytes.len() - 1].to_vec()),
			Err(SafeTensorsError::OutOfBounds { .. })
		));
	}

	#[test]
	fn rejects_oversized_and_invalid_headers() {
		let mut bytes = (MAX_HEADER_LEN + 1).to_le_bytes().to_vec();
		bytes.extend_from_slice(b"{}");
		assert_eq!(
			SafeTensors::from_bytes(bytes).unwrap_err(),
			SafeTensorsError::HeaderTooLarge(MAX_HEADER_LEN + 1)
		);
		for header in [
			"not json",
			"[1, 2]",
			r#"{"__metadata__": [1]}"#,
			r#"{"__metadata__": {"a": 1}}"#,
			r#"{"t": {"shape": [1], "data_offsets": [0, 4]}}"#,
			r#"{"t": {"dtype": "F32", "data_offsets": [0, 4]}}"#,
			r#"{"t": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#,
			r#"{"t": {"dtype": "F32", "shape": [1]}}"#,
			r#"{"t": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}"#,
			r#"{"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, "4"]}}"#,
		] {
			assert!(
				matches!(read(header, &[0; 4]), Err(SafeTensorsError::InvalidHeader(_))),
				"{header}"
			);
		}
		let mut bytes = 2u64.to_le_bytes().to_vec();
		bytes.extend_from_slice(&[0xff, 0xfe]);
		assert!(matches!(SafeTensors::from_bytes(bytes), Err(SafeTensorsError::InvalidHeader(_))));
		// An empty header object is a valid, empty file.
		assert!(read("{}", &[]).unwrap().tensors().is_empty());
	}

	#[test]
	fn rejects_unknown_dtypes() {
		let header = r#"{"t": {"dtype": "F12", "shape": [1], "data_offsets": [0, 2]}}"#;
		assert_eq!(
			read(header, &[0; 2]).unwrap_err(),
			SafeTensorsError::UnknownDtype { name: "t".into(), dtype: "F12".into() }
		);
	}

	#[test]
	fn rejects_offsets_out_of_bounds_or_overlapping() {
		let header = r#"{"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#;
		assert_eq!(
			read(header, &[0; 4]).unwrap_err(),
			SafeTensorsError::OutOfBounds { name: "t".into(), begin: 0, end: 8, data_len: 4 }
		);
		let header = r#"{"t": {"dtype": "F32", "shape": [0], "data_offsets": [4, 0]}}"#;
		assert!(matches!(read(header, &[0; 4]), Err(SafeTensorsError::OutOfBounds { .. })));
		let header = r#"{
			"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
			"b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}
		}"#;
		assert_eq!(
			read(header, &[0; 8]).unwrap_err(),
			SafeTensorsError::Overlapping { first: "a".into(), second: "b".into() }
		);
	}

	#[test]
	fn rejects_shapes_that_do_not_match_the_bytes() {
		let header = r#"{"t": {"dtype": "F16", "shape": [3], "data_offsets": [0, 4]}}"#;
		assert_eq!(
			read(header, &[0; 4]).unwrap_err(),
			SafeTensorsError::ShapeMismatch {
				name: "t".into(),
				shape: vec![3],
				expected: 6,
				actual: 4
			}
		);
		// An element count that overflows is a mismatch, not a panic.
		let header = r#"{"t": {"dtype": "F64", "shape": [18446744073709551615, 2], "data_offsets": [0, 4]}}"#;
		assert!(matches!(read(header, &[0; 4]), Err(SafeTensorsError::ShapeMismatch { .. })));
	}
}
