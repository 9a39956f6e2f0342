//! Turning GGUF tensor data into `f32`.
//!
//! The plain types are little-endian scalars. The quantized types this module reads store 32
//! elements per block, each block starting with an IEEE half-precision (f16) scale `d`:
//!
//! | type   | bytes | layout                       | element `i` of the block            |
//! |--------|-------|------------------------------|-------------------------------------|
//! | `Q4_0` | 18    | `d`, 16 bytes of nibbles     | `(q_i - 8) * d`                     |
//! | `Q4_1` | 20    | `d`, f16 min `m`, 16 bytes   | `q_i * d + m`                       |
//! | `Q8_0` | 34    | `d`, 32 `i8`                 | `q_i * d`                           |
//!
//! In the 4-bit types byte `j` holds element `j` in its low nibble and element `j + 16` in its
//! high nibble.

use super::gguf::TensorType;

/// Why bytes could not be dequantized.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DequantError {
	/// A type whose dequantization is not written (yet).
	#[error("dequantizing {0} is not supported")]
	Unsupported(TensorType),
	/// The bytes are not a whole number of blocks.
	#[error("{len} bytes are not a whole number of {block_bytes}-byte {tensor_type} blocks")]
	PartialBlock {
		/// The type.
		tensor_type: TensorType,
		/// Bytes per block.
		block_bytes: u64,
		/// The bytes given.
		len: usize,
	},
	/// The output does not have room for exactly the elements the bytes hold.
	#[error("{tensor_type} data holds {elements} elements, the output has room for {room}")]
	LengthMismatch {
		/// The type.
		tensor_type: TensorType,
		/// Elements in the bytes.
		elements: usize,
		/// Elements in the output.
		room: usize,
	},
}

/// Elements per block of `Q4_0`, `Q4_1` and `Q8_0`.
pub const QK: usize = 32;
const Q4_0_BYTES: usize = 18;
const Q4_1_BYTES: usize = 20;
const Q8_0_BYTES: usize = 34;

/// Converts IEEE 754 half-precision bits to `f32` (exactly: every f16 is an f32).
pub fn f16_to_f32(bits: u16) -> f32 {
	let sign = u32::from(bits >> 15) << 31;
	let exponent = u32::from((bits >> 10) & 0x1f);
	let mantissa = u32::from(bits & 0x3ff);
	let magnitude = match exponent {
		// Zero and subnormals: mantissa * 2^-24, exact in f32.
		0 => (mantissa as f32 * f32::from_bits(0x3380_0000)).to_bits(),
		// Infinities and NaNs keep their payload.
		0x1f => 0x7f80_0000 | (mantissa << 13),
		// Rebias the exponent from 15 to 127 and widen the mantissa from 10 to 23 bits.
		_ => ((exponent + (127 - 15)) << 23) | (mantissa << 13),
	};
	f32::from_bits(sign | magnitude)
}

/// Converts bfloat16 bits (the top half of an f32) to `f32`.
pub fn bf16_to_f32(bits: u16) -> f32 {
	f32::from_bits(u32::from(bits) << 16)
}

/// How many elements `bytes` of `tensor_type` hold.
pub fn element_count(tensor_type: TensorType, bytes: &[u8]) -> Result<usize, DequantError> {
	// Block sizes are at most a few hundred, so these conversions cannot fail.
	let block_bytes = usize::try_from(tensor_type.block_bytes()).unwrap_or(usize::MAX);
	let block_len = usize::try_from(tensor_type.block_len()).unwrap_or(usize::MAX);
	let partial = || DequantError::PartialBlock {
		tensor_type,
		block_bytes: tensor_type.block_bytes(),
		len: bytes.len(),
	};
	if bytes.len() % block_bytes != 0 {
		return Err(partial());
	}
	(bytes.len() / block_bytes).checked_mul(block_len).ok_or_else(partial)
}

/// Dequantizes `bytes` of `tensor_type` into a new vector.
pub fn dequantize(tensor_type: TensorType, bytes: &[u8]) -> Result<Vec<f32>, DequantError> {
	let mut out = vec![0.0; element_count(tensor_type, bytes)?];
	dequantize_into(tensor_type, bytes, &mut out)?;
	Ok(out)
}

/// Dequantizes `bytes` of `tensor_type` into `out`, which must have room for exactly the
/// elements the bytes hold.
pub fn dequantize_into(
	tensor_type: TensorType,
	bytes: &[u8],
	out: &mut [f32],
) -> Result<(), DequantError> {
	let elements = element_count(tensor_type, bytes)?;
	if elements != out.len() {
		return Err(DequantError::LengthMismatch { tensor_type, elements, room: out.len() });
	}
	match tensor_type {
		TensorType::F32 => {
			for (x, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
				*x = f32::from_le_bytes(le_array(b));
			}
		}
		TensorType::F16 => {
			for (x, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
				*x = f16_to_f32(u16::from_le_bytes(le_array(b)));
			}
		}
		TensorType::BF16 => {
			for (x, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
				*x = bf16_to_f32(u16::from_le_bytes(le_array(b)));
			}
		}
		TensorType::Q4_0 => {
			for (block, x) in bytes.chunks_exact(Q4_0_BYTES).zip(out.chunks_exact_mut(QK)) {
				let (d, qs) = split_f16(block);
				// Nibbles are 0..=15 and stand for -8..=7.
				dequantize_nibbles(qs, x, |q| f32::from(i16::from(q) - 8) * d);
			}
		}
		TensorType::Q4_1 => {
			for (block, x) in bytes.chunks_exact(Q4_1_BYTES).zip(out.chunks_exact_mut(QK)) {
				let (d, rest) = split_f16(block);
				let (m, qs) = split_f16(rest);
				dequantize_nibbles(qs, x, |q| f32::from(q) * d + m);
			}
		}
		TensorType::Q8_0 => {
			for (block, x) in bytes.chunks_exact(Q8_0_BYTES).zip(out.chunks_exact_mut(QK)) {
				let (d, qs) = split_f16(block);
				for (x, &q) in x.iter_mut().zip(qs) {
					*x = f32::from(i8::from_le_bytes([q])) * d;
				}
			}
		}
		other => return Err(DequantError::Unsupported(other)),
	}
	Ok(())
}

/// The first `N` bytes of `b` (zero-padded if shorter, which the callers' exact chunks rule out).
fn le_array<const N: usize>(b: &[u8]) -> [u8; N] {
	let mut a = [0; N];
	for (dst, src) in a.iter_mut().zip(b) {
		*dst = *src;
	}
	a
}

/// Splits a leading f16 off `block`.
fn split_f16(block: &[u8]) -> (f32, &[u8]) {
	match block.split_first_chunk::<2>() {
		Some((d, rest)) => (f16_to_f32(u16::from_le_bytes(*d)), rest),
		None => (0.0, &[]),
	}
}

/// Writes the 32 elements of a 4-bit block: byte `j`'s low nibble is element `j`, its high nibble
/// element `j + 16`.
fn dequantize_nibbles(qs: &[u8], out: &mut [f32], value: impl Fn(u8) -> f32) {
	let (low, high) = out.split_at_mut(out.len() / 2);
	for ((&q, lo), hi) in qs.iter().zip(low).zip(high) {
		*lo = value(q & 0x0f);
		*hi = value(q >> 4);
	}
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
	use super::*;

	const ONE: u16 = 0x3c00;
	const HALF: u16 = 0x3800;
	const TWO: u16 = 0x4000;
	const MINUS_ONE_AND_HALF: u16 = 0xbe00;

	#[test]
	fn converts_half_precision_exactly() {
		assert_eq!(f16_to_f32(0x0000), 0.0);
		assert!(f16_to_f32(0x8000).is_sign_negative());
		assert_eq!(f16_to_f32(ONE), 1.0);
		assert_eq!(f16_to_f32(HALF), 0.5);
		assert_eq!(f16_to_f32(TWO), 2.0);
		assert_eq!(f16_to_f32(MINUS_ONE_AND_HALF), -1.5);
		// 0x3555: exponent 13 (2^-2), mantissa 0x155/1024 = 341/1024.
		assert_eq!(f16_to_f32(0x3555), 0.25 * (1.0 + 341.0 / 1024.0));
		// Largest finite half: (2 - 2^-10) * 2^15.
		assert_eq!(f16_to_f32(0x7bff), 65504.0);
		// Smallest normal and smallest/largest subnormals.
		assert_eq!(f16_to_f32(0x0400), 2f32.powi(-14));
		assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
		assert_eq!(f16_to_f32(0x83ff), -1023.0 * 2f32.powi(-24));
		assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
		assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
		assert!(f16_to_f32(0x7e00).is_nan());
	}

	#[test]
	fn converts_every_finite_half_like_the_float_formula() {
		for bits in 0u16..=u16::MAX {
			let exponent = i32::from((bits >> 10) & 0x1f);
			if exponent == 0x1f {
				continue;
			}
			let mantissa = f64::from(bits & 0x3ff);
			let magnitude = if exponent == 0 {
				mantissa * 2f64.powi(-24)
			} else {
				(1.0 + mantissa / 1024.0) * 2f64.powi(exponent - 15)
			};
			let expected = if bits & 0x8000 != 0 { -magnitude } else { magnitude };
			assert_eq!(f64::from(f16_to_f32(bits)), expected, "bits {bits:#06x}");
		}
	}

	#[test]
	fn converts_bfloat16() {
		assert_eq!(bf16_to_f32(0x3f80), 1.0);
		assert_eq!(bf16_to_f32(0xc040), -3.0);
	}

	#[test]
	fn dequantizes_plain_types() {
		let f32_bytes: Vec<u8> = [1.5f32, -2.0, 0.0].iter().flat_map(|x| x.to_le_bytes()).collect();
		assert_eq!(dequantize(TensorType::F32, &f32_bytes).unwrap(), vec![1.5, -2.0, 0.0]);
		let f16_bytes: Vec<u8> =
			[ONE, MINUS_ONE_AND_HALF, HALF].iter().flat_map(|x| x.to_le_bytes()).collect();
		assert_eq!(dequantize(TensorType::F16, &f16_bytes).unwrap(), vec![1.0, -1.5, 0.5]);
	}

	#[test]
	fn dequantizes_q4_0_low_nibbles_first() {
		// d = 0.5; byte j = (15 - j) << 4 | j: element j has q = j, element j + 16 has q = 15 - j.
		let mut block = HALF.to_le_bytes().to_vec();
		block.extend((0u8..16).map(|j| ((15 - j) << 4) | j));
		let out = dequantize(TensorType::Q4_0, &block).unwrap();
		assert_eq!(out.len(), 32);
		// q = 0 -> (0 - 8) * 0.5 = -4; q = 8 -> 0; q = 15 -> 3.5.
		assert_eq!(out[0], -4.0);
		assert_eq!(out[1], -3.5);
		assert_eq!(out[8], 0.0);
		assert_eq!(out[15], 3.5);
		assert_eq!(out[16], 3.5);
		assert_eq!(out[31], -4.0);
		for j in 0..16 {
			assert_eq!(out[j], (j as f32 - 8.0) * 0.5);
			assert_eq!(out[j + 16], (7.0 - j as f32) * 0.5);
		}
	}

	#[test]
	fn dequantizes_q4_1_with_min() {
		// d = 2, m = -1.5; byte j = 0x3 << 4 | 0xA: low elements q = 10, high elements q = 3.
		let mut block = TWO.to_le_bytes().to_vec();
		block.extend(MINUS_ONE_AND_HALF.to_le_bytes());
		block.extend([0x3a; 16]);
		let out = dequantize(TensorType::Q4_1, &block).unwrap();
		// 10 * 2 - 1.5 = 18.5; 3 * 2 - 1.5 = 4.5.
		assert_eq!(&out[..16], &[18.5; 16]);
		assert_eq!(&out[16..], &[4.5; 16]);
	}

	#[test]
	fn dequantizes_q8_0_signed() {
		// d = -1.5; q_i = i - 16 as i8, so element i is (i - 16) * -1.5.
		let mut block = MINUS_ONE_AND_HALF.to_le_bytes().to_vec();
		block.extend((0i8..32).map(|i| (i - 16).to_le_bytes()[0]));
		// Two blocks: the second with d = 1 and all q = -128 (the extreme of i8).
		block.extend(ONE.to_le_bytes());
		block.extend([0x80; 32]);
		let out = dequantize(TensorType::Q8_0, &block).unwrap();
		assert_eq!(out.len(), 64);
		assert_eq!(out[0], 24.0);
		assert_eq!(out[16], 0.0);
		assert_eq!(out[31], -22.5);
		assert_eq!(&out[32..], &[-128.0; 32]);
	}

	#[test]
	fn rejects_partial_blocks_and_wrong_output_sizes() {
		assert_eq!(
			dequantize(TensorType::Q4_0, &[0; 19]),
			Err(DequantError::PartialBlock {
				tensor_type: TensorType::Q4_0,
				block_bytes: 18,
				len: 19
			})
		);
		assert!(matches!(
			dequantize(TensorType::F32, &[0; 6]),
			Err(DequantError::PartialBlock { .. })
		));
		let mut out = [0.0; 31];
		assert_eq!(
			dequantize_into(TensorType::Q8_0, &[0; 34], &mut out),
			Err(DequantError::LengthMismatch {
				tensor_type: TensorType::Q8_0,
				elements: 32,
				room: 31
			})
		);
	}

	#[test]
	fn reports_unsupported_types() {
		assert_eq!(
			dequantize(TensorType::Q6_K, &[0; 210]),
			Err(DequantError::Unsupported(TensorType::Q6_K))
		);
	}
}
