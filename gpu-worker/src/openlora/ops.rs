//! The row-wise operations of a batched step around its GEMMs: RMSNorm, SwiGLU and attention
//! over a sequence's cached keys and values. Each computes what its counterpart in
//! [`crate::model::reference`] computes, in `f32` lanes the compiler vectorizes (a copy built
//! for AVX2/FMA is chosen at run time where the CPU has them) and without allocating per row;
//! the reference keeps `f64` sums and a libm `exp` per value, which made these operations a
//! fifth of a serving step.

use super::kernels::{dot, with_avx2};

/// `e^x` for `x <= 0` in plain `f32` arithmetic that the compiler vectorizes (relative error
/// under 1e-6; `x` below -87 gives `e^-87`, about 1.6e-38).
#[inline(always)]
pub(crate) fn exp_nonpositive(x: f32) -> f32 {
	// e^x = 2^n · e^r, n = round(x / ln 2), r = x − n ln 2 in [−ln2/2, ln2/2]. Adding
	// 1.5 · 2^23 rounds to an integer in the low mantissa bits (no `round` call, which would
	// keep the loop scalar).
	const SHIFT: f32 = 12_582_912.0;
	let x = x.max(-87.0);
	let shifted = x * std::f32::consts::LOG2_E + SHIFT;
	let n = shifted - SHIFT;
	let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
	// Taylor to r^6: under 2e-7 relative on that interval.
	let p = 1.0
		+ r * (1.0
			+ r * (0.5
				+ r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
	// 2^n built in the exponent bits: n in [−126, 0] sits in the low bits of `shifted`.
	let n_bits = shifted.to_bits().wrapping_sub(SHIFT.to_bits()) as i32;
	p * f32::from_bits(((n_bits + 127) as u32) << 23)
}

/// RMSNorm of each `dim`-value row of `x` times `weight`, into `out` (as long as `x`).
pub fn rms_norm_rows(x: &[f32], weight: &[f32], eps: f32, dim: usize, out: &mut [f32]) {
	#[inline(always)]
	fn body(x: &[f32], weight: &[f32], eps: f32, dim: usize, out: &mut [f32]) {
		for (dst, src) in out.chunks_exact_mut(dim.max(1)).zip(x.chunks_exact(dim.max(1))) {
			let mean_square = f64::from(dot(src, src)) / dim as f64;
			let scale = (1.0 / (mean_square + f64::from(eps)).sqrt()) as f32;
			for ((d, v), w) in dst.iter_mut().zip(src).zip(weight) {
				*d = *v * scale * w;
			}
		}
	}
	with_avx2!(rms_norm_avx2, body, (x: &[f32], weight: &[f32], eps: f32, dim: usize, out: &mut [f32]));
}

/// SwiGLU: `out_i = silu(gate_i) · up_i`.
pub fn swiglu(gate: &[f32], up: &[f32], out: &mut [f32]) {
	#[inline(always)]
	fn body(gate: &[f32], up: &[f32], out: &mut [f32]) {
		for ((o, g), u) in out.iter_mut().zip(gate).zip(up) {
			// sigmoid(g) from e = e^-|g| <= 1: 1 / (1 + e) for g >= 0, e / (1 + e) below.
			let e = exp_nonpositive(-g.abs());
			let r = 1.0 / (1.0 + e);
			let sigmoid = if *g >= 0.0 { r } else { e * r };
			*o = g * sigmoid * u;
		}
	}
	with_avx2!(swiglu_avx2, body, (gate: &[f32], up: &[f32], out: &mut [f32]));
}

/// Values of a head whose weighted sum [`attend`] keeps in registers at once (eight AVX2
/// registers).
const VALUE_BLOCK: usize = 64;

/// Key/value head `base / head_dim` of cached position `p` (`kv_dim` values per position).
#[inline(always)]
fn head_of(rows: &[f32], p: usize, kv_dim: usize, base: usize, head_dim: usize) -> &[f32] {
	let from = p * kv_dim + base;
	rows.get(from..from + head_dim).unwrap_or(&[])
}

/// [`dot`] of `q` with four vectors at once, each sum taken exactly as [`dot`] takes it (eight
/// lanes, then their total, then the tail past the last whole eight): the same four results,
/// computed side by side.
#[inline(always)]
fn dot4(q: &[f32], k0: &[f32], k1: &[f32], k2: &[f32], k3: &[f32]) -> [f32; 4] {
	let n = q.len().min(k0.len()).min(k1.len()).min(k2.len()).min(k3.len());
	let whole = n - n % 8;
	let (q, k) = (&q[..n], [&k0[..n], &k1[..n], &k2[..n], &k3[..n]]);
	let lanes = lanes4(q, k, whole);
	let mut out = [0f32; 4];
	for (t, o) in out.iter_mut().enumerate() {
		let tail: f32 = q[whole..].iter().zip(&k[t][whole..]).map(|(x, y)| x * y).sum();
		*o = lanes[t].iter().sum::<f32>() + tail;
	}
	out
}

/// The eight lanes of each of [`dot4`]'s sums over the first `whole` values (a multiple of
/// eight, at most every slice's length): `lanes[t][i] = Σ_c q[8c + i] · k[t][8c + i]`, the
/// products added in turn. With intrinsics where the CPU has AVX2 (the compiler, left to
/// itself, vectorizes across the four sums and shuffles more than it computes).
#[inline(always)]
fn lanes4(q: &[f32], k: [&[f32]; 4], whole: usize) -> [[f32; 8]; 4] {
	#[cfg(target_arch = "x86_64")]
	if super::kernels::avx2_fma() {
		// SAFETY: the CPU has AVX2; whole is at most every slice's length (the caller's).
		return unsafe { lanes4_avx2(q, k, whole) };
	}
	let mut lanes = [[0f32; 8]; 4];
	for c in (0..whole).step_by(8) {
		for (lane, key) in lanes.iter_mut().zip(k) {
			for i in 0..8 {
				lane[i] += q[c + i] * key[c + i];
			}
		}
	}
	lanes
}

/// [`lanes4`] in AVX2 registers: a multiply, then an add, per lane (no fused multiply-add, so
/// that each lane rounds as [`dot`]'s does).
///
/// # Safety
/// The CPU has AVX2; `whole` is a multiple of eight and at most the length of `q` and of each
/// of `k`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn lanes4_avx2(q: &[f32], k: [&[f32]; 4], whole: usize) -> [[f32; 8]; 4] {
	use std::arch::x86_64::*;
	let mut acc = [_mm256_setzero_ps(); 4];
	let mut c = 0;
	while c + 8 <= whole {
		// SAFETY: c + 8 <= whole, inside every slice (the caller's contract).
		unsafe {
			let x = _mm256_loadu_ps(q.as_ptr().add(c));
			for (a, key) in acc.iter_mut().zip(k) {
				*a = _mm256_add_ps(*a, _mm256_mul_ps(x, _mm256_loadu_ps(key.as_ptr().add(c))));
			}
		}
		c += 8;
	}
	let mut lanes = [[0f32; 8]; 4];
	for (lane, a) in lanes.iter_mut().zip(acc) {
		// SAFETY: lane holds eight values.
		unsafe { _mm256_storeu_ps(lane.as_mut_ptr(), a) };
	}
	lanes
}

/// Softmax of each `positions`-value row of `scores`, in place.
#[inline(always)]
fn softmax_rows(scores: &mut [f32], positions: usize) {
	for row in scores.chunks_exact_mut(positions.max(1)) {
		let mut max = f32::NEG_INFINITY;
		for s in row.iter() {
			max = if *s > max { *s } else { max };
		}
		let mut total = 0f32;
		for s in row.iter_mut() {
			*s = exp_nonpositive(*s - max);
			total += *s;
		}
		let inverse = if total > 0.0 { 1.0 / total } else { 0.0 };
		for s in row.iter_mut() {
			*s *= inverse;
		}
	}
}

/// The shape of grouped-query attention.
#[derive(Debug, Clone, Copy)]
pub struct Heads {
	/// Query heads.
	pub heads: usize,
	/// Key/value heads (each serves `heads / kv_heads` query heads).
	pub kv_heads: usize,
	/// Values per head.
	pub head_dim: usize,
}

/// One row's attention: for each query head of `q`, softmax-weighted values of the `kv_dim`
/// key/value rows (`keys`, `values`: one row per position attended, that is every cached
/// position up to the row's own) into `out` (as long as `q`). `scores` is scratch.
pub fn attend(
	q: &[f32],
	keys: &[f32],
	values: &[f32],
	shape: Heads,
	scores: &mut Vec<f32>,
	out: &mut [f32],
) {
	#[inline(always)]
	fn body(
		q: &[f32],
		keys: &[f32],
		values: &[f32],
		shape: Heads,
		scores: &mut Vec<f32>,
		out: &mut [f32],
	) {
		let Heads { heads, kv_heads, head_dim } = shape;
		let kv_dim = kv_heads * head_dim;
		if head_dim == 0 || kv_dim == 0 {
			return;
		}
		let group = (heads / kv_heads.max(1)).max(1);
		let scale = 1.0 / (head_dim as f32).sqrt();
		let positions = keys.len() / kv_dim;
		out.fill(0.0);
		// One key/value head at a time for all the query heads it serves, so that each cached
		// row is read once per group rather than once per query head. Plain loops and inlined
		// helpers, no closures: a closure would be compiled apart from this function, without
		// its AVX2 build. Every sum is taken in the order of the reference's loops (positions
		// in turn, eight lanes of a dot product then their total), so the result is the same
		// to the bit; what changes is that independent sums run side by side.
		for g in 0..heads.div_ceil(group) {
			let base = g * head_dim;
			let first = g * group;
			let count = group.min(heads - first);
			// scores[j · positions + p]: query head first + j against position p.
			scores.clear();
			scores.resize(count * positions, 0.0);
			let whole = positions - positions % 4;
			for j in 0..count {
				let at = (first + j) * head_dim;
				let q_head = q.get(at..at + head_dim).unwrap_or(&[]);
				let row = scores.get_mut(j * positions..(j + 1) * positions).unwrap_or(&mut []);
				// Four positions at a time: four dot products whose sums do not wait on
				// each other.
				for (p, four) in (0..whole).step_by(4).zip(row.chunks_exact_mut(4)) {
					let sums = dot4(
						q_head,
						head_of(keys, p, kv_dim, base, head_dim),
						head_of(keys, p + 1, kv_dim, base, head_dim),
						head_of(keys, p + 2, kv_dim, base, head_dim),
						head_of(keys, p + 3, kv_dim, base, head_dim),
					);
					for (s, sum) in four.iter_mut().zip(sums) {
						*s = sum * scale;
					}
				}
				for p in whole..positions {
					if let Some(s) = row.get_mut(p) {
						*s = dot(q_head, head_of(keys, p, kv_dim, base, head_dim)) * scale;
					}
				}
			}
			softmax_rows(scores, positions);
			// Weighted values per query head, in blocks of VALUE_BLOCK values whose sums stay
			// in registers over all the positions (the output is written once, not once per
			// position); the rest of a head that is not a whole block value by value.
			for j in 0..count {
				let at = (first + j) * head_dim;
				let weights = scores.get(j * positions..(j + 1) * positions).unwrap_or(&[]);
				let o_head = out.get_mut(at..at + head_dim).unwrap_or(&mut []);
				let blocks = head_dim / VALUE_BLOCK;
				for (c, o_block) in o_head.chunks_exact_mut(VALUE_BLOCK).enumerate() {
					let mut acc = [0f32; VALUE_BLOCK];
					for (p, w) in weights.iter().enumerate() {
						let from = p * kv_dim + base + c * VALUE_BLOCK;
						let Some(v) = values.get(from..from + VALUE_BLOCK) else { continue };
						for (a, x) in acc.iter_mut().zip(v) {
							*a += w * x;
						}
					}
					// out was zeroed: 0 + acc is acc, as the reference's first add gives.
					o_block.copy_from_slice(&acc);
				}
				let done = blocks * VALUE_BLOCK;
				let o_rest = o_head.get_mut(done..).unwrap_or(&mut []);
				for (p, w) in weights.iter().enumerate() {
					let from = p * kv_dim + base + done;
					let v = values.get(from..from + (head_dim - done)).unwrap_or(&[]);
					for (o, x) in o_rest.iter_mut().zip(v) {
						*o += w * x;
					}
				}
			}
		}
	}
	with_avx2!(attend_avx2, body, (q: &[f32], keys: &[f32], values: &[f32], shape: Heads, scores: &mut Vec<f32>, out: &mut [f32]));
}

/// [`attend`] as it was before its sums ran side by side: a position at a time, each score
/// one [`dot`], each weighted value added into the output as it comes. It gives the same bits
/// as [`attend`]; kept as the tests' check of that and as `kernel_bench`'s baseline.
#[doc(hidden)]
pub fn attend_plain(
	q: &[f32],
	keys: &[f32],
	values: &[f32],
	shape: Heads,
	scores: &mut Vec<f32>,
	out: &mut [f32],
) {
	#[inline(always)]
	fn body(
		q: &[f32],
		keys: &[f32],
		values: &[f32],
		shape: Heads,
		scores: &mut Vec<f32>,
		out: &mut [f32],
	) {
		let Heads { heads, kv_heads, head_dim } = shape;
		let kv_dim = kv_heads * head_dim;
		if head_dim == 0 || kv_dim == 0 {
			return;
		}
		let group = (heads / kv_heads.max(1)).max(1);
		let scale = 1.0 / (head_dim as f32).sqrt();
		let positions = keys.len() / kv_dim;
		out.fill(0.0);
		// One key/value head at a time for all the query heads it serves, so that each cached
		// row is read once per group rather than once per query head. Plain loops, no
		// closures: a closure would be compiled apart from this function, without its AVX2
		// build.
		for g in 0..heads.div_ceil(group) {
			let slot = g * head_dim..(g + 1) * head_dim;
			let first = g * group;
			let count = group.min(heads - first);
			// scores[j · positions + p]: query head first + j against position p.
			scores.clear();
			scores.resize(count * positions, 0.0);
			for (p, k) in keys.chunks_exact(kv_dim).enumerate() {
				let key = k.get(slot.clone()).unwrap_or(&[]);
				for j in 0..count {
					let at = (first + j) * head_dim;
					let q_head = q.get(at..at + head_dim).unwrap_or(&[]);
					if let Some(s) = scores.get_mut(j * positions + p) {
						*s = dot(q_head, key) * scale;
					}
				}
			}
			softmax_rows(scores, positions);
			for (p, v) in values.chunks_exact(kv_dim).take(positions).enumerate() {
				let value = v.get(slot.clone()).unwrap_or(&[]);
				for j in 0..count {
					let weight = scores.get(j * positions + p).copied().unwrap_or(0.0);
					let at = (first + j) * head_dim;
					let o_head = out.get_mut(at..at + head_dim).unwrap_or(&mut []);
					for (o, x) in o_head.iter_mut().zip(value) {
						*o += weight * x;
					}
				}
			}
		}
	}
	with_avx2!(attend_plain_avx2, body, (q: &[f32], keys: &[f32], values: &[f32], shape: Heads, scores: &mut Vec<f32>, out: &mut [f32]));
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{model::reference, train::rng::SplitMix64};

	fn values(rng: &mut SplitMix64, n: usize, spread: f32) -> Vec<f32> {
		(0..n).map(|_| rng.uniform(-spread, spread)).collect()
	}

	fn worst(a: &[f32], b: &[f32]) -> f32 {
		assert_eq!(a.len(), b.len());
		a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs().max(1.0)).fold(0.0, f32::max)
	}

	#[test]
	fn exp_matches_the_library_exp() {
		let mut worst = 0f32;
		for i in 0..=200_000 {
			let x = -(i as f32) * 0.0005; // 0 down to -100
			let (got, want) = (exp_nonpositive(x), x.exp());
			if x >= -87.0 {
				worst = worst.max((got - want).abs() / want);
			} else {
				assert!(got < 1e-37, "e^{x} = {got}");
			}
		}
		assert!(worst < 1e-6, "worst relative error {worst}");
		assert_eq!(exp_nonpositive(0.0), 1.0);
		assert!(exp_nonpositive(f32::NEG_INFINITY) < 1e-37);
	}

	#[test]
	fn norm_and_swiglu_match_the_reference() {
		let mut rng = SplitMix64::new(3);
		let (dim, rows) = (37, 5);
		let x = values(&mut rng, dim * rows, 4.0);
		let w = values(&mut rng, dim, 2.0);
		let mut out = vec![0f32; dim * rows];
		rms_norm_rows(&x, &w, 1e-5, dim, &mut out);
		let expected: Vec<f32> =
			x.chunks_exact(dim).flat_map(|r| reference::rms_norm(r, &w, 1e-5)).collect();
		assert!(worst(&out, &expected) < 1e-6, "norm off by {}", worst(&out, &expected));
		// Gates from -30 to 30, both signs of the sigmoid's branch, and 0.
		let mut gate = values(&mut rng, 203, 30.0);
		gate[7] = 0.0;
		let up = values(&mut rng, 203, 3.0);
		let mut out = vec![0f32; 203];
		swiglu(&gate, &up, &mut out);
		let expected: Vec<f32> =
			gate.iter().zip(&up).map(|(g, u)| reference::silu(*g) * u).collect();
		assert!(worst(&out, &expected) < 1e-6, "swiglu off by {}", worst(&out, &expected));
	}

	#[test]
	fn attention_gives_the_bits_of_the_plain_loops() {
		let mut rng = SplitMix64::new(5);
		let mut scores = Vec::new();
		// SmolLM2's heads (64 values: one register block), 72 values (a block and a rest of
		// 8) and 20 (no whole block, a tail past the dot products' eights); position counts
		// on and off the four-at-a-time scores.
		for (heads, kv_heads, head_dim) in [(9, 3, 64), (4, 2, 72), (3, 1, 20)] {
			let shape = Heads { heads, kv_heads, head_dim };
			let (q_len, kv_dim) = (heads * head_dim, kv_heads * head_dim);
			for positions in [1, 3, 4, 5, 8, 19, 48] {
				let q = values(&mut rng, q_len, 1.0);
				let keys = values(&mut rng, positions * kv_dim, 1.0);
				let vals = values(&mut rng, positions * kv_dim, 1.0);
				let mut out = vec![f32::NAN; q_len];
				attend(&q, &keys, &vals, shape, &mut scores, &mut out);
				let mut expected = vec![f32::NAN; q_len];
				attend_plain(&q, &keys, &vals, shape, &mut scores, &mut expected);
				let same = out.iter().zip(&expected).all(|(a, b)| a.to_bits() == b.to_bits());
				assert!(same, "{heads}/{kv_heads} × {head_dim}, {positions} positions");
			}
		}
	}

	#[test]
	fn attention_matches_the_reference_with_grouped_heads() {
		let mut rng = SplitMix64::new(4);
		let mut scores = Vec::new();
		// Groups of 3 (SmolLM2's 9 over 3), 1 (no grouping) and 4 (one key/value head);
		// 1, 2 and 19 positions.
		for (heads, kv_heads, head_dim) in [(9, 3, 8), (4, 4, 8), (4, 1, 16)] {
			let shape = Heads { heads, kv_heads, head_dim };
			let (q_len, kv_dim) = (heads * head_dim, kv_heads * head_dim);
			for positions in [1, 2, 19] {
				let q = values(&mut rng, q_len, 3.0);
				let keys = values(&mut rng, positions * kv_dim, 3.0);
				let vals = values(&mut rng, positions * kv_dim, 1.0);
				let mut out = vec![f32::NAN; q_len];
				attend(&q, &keys, &vals, shape, &mut scores, &mut out);
				let expected = reference::attention(&q, &keys, &vals, heads, kv_heads, head_dim);
				let off = worst(&out, &expected);
				assert!(
					off < 1e-5,
					"{heads}/{kv_heads} heads, {positions} positions: off by {off}"
				);
			}
		}
	}
}
