//! The CPU kernels of a batched step: the base projection as one GEMM over all rows, and the
//! LoRA update per row with that row's adapter.
//!
//! **Layouts.** A base weight is row-major `out × in` (as [`crate::model::reference::Matrix`]),
//! a batch of rows is row-major `rows × in`, and `y = x · Wᵀ` is `rows × out`. An adapter slot
//! holds, per projection, `Aᵀ` as `max_rank × in` (PEFT's `lora_A` layout, each rank component a
//! contiguous row) and `B` as `max_rank × out`; only the slot's first `rank` rows are used, so
//! adapters of different ranks share one slab. The low-rank intermediate `x · A` stays `f32`.
//!
//! - [`PackedMatrix::apply`]: `y = x · Wᵀ` for all rows of a step, over weights packed once
//!   into panels of [`NR`] outputs; a register tile of 8 rows × 16 outputs with AVX-512, 4 × 16
//!   with AVX2/FMA (detected at run time; a portable build otherwise), panels spread over
//!   rayon's threads. Each weight is read once per step.
//! - [`bgmv`]: per row, gather the row's adapter: `y_i += scale_s (x_i · A_s) · B_s`. For decode
//!   rows, where each adapter has one or few rows.
//! - [`sgmv`]: rows grouped by adapter, two small GEMMs per group. For prefill rows, where an
//!   adapter has many.

use rayon::prelude::*;
use std::collections::BTreeMap;

/// A raw pointer the GEMM threads write disjoint column blocks through.
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);

// SAFETY: every thread writes a disjoint set of columns of the output.
unsafe impl Send for SendPtr {}
// SAFETY: as above; the pointer itself is only copied.
unsafe impl Sync for SendPtr {}

impl SendPtr {
	fn get(self) -> *mut f32 {
		self.0
	}
}

/// Output columns per panel of a [`PackedMatrix`].
pub const NR: usize = 16;
/// Input rows per register tile of the packed kernel: 4 (eight 256-bit accumulators) with
/// AVX2, 8 (eight 512-bit ones) with AVX-512.
const MR: usize = 8;

/// A weight `out × in` packed once, at load, for the batched kernel: panels of [`NR`] output
/// rows, each stored `in × NR` (column `i` of the panel's rows contiguous), the last panel
/// zero-padded. One pass over the weights then serves every row of a step, with no per-call
/// packing (which costs as much as the product itself at decode batch sizes).
#[derive(Debug, Clone, PartialEq)]
pub struct PackedMatrix {
	out: usize,
	input: usize,
	panels: Vec<f32>,
}

impl PackedMatrix {
	/// Packs row-major `w` (`out × input`); missing values read as zero.
	pub fn pack(w: &[f32], out: usize, input: usize) -> Self {
		let count = out.div_ceil(NR);
		let mut panels = vec![0f32; count * input * NR];
		for (o, row) in w.chunks_exact(input.max(1)).take(out).enumerate() {
			let base = (o / NR) * input * NR + o % NR;
			for (i, v) in row.iter().enumerate() {
				if let Some(dst) = panels.get_mut(base + i * NR) {
					*dst = *v;
				}
			}
		}
		Self { out, input, panels }
	}

	/// Output length.
	pub fn out(&self) -> usize {
		self.out
	}

	/// Input length.
	pub fn input(&self) -> usize {
		self.input
	}

	/// Weight `(o, i)`.
	pub fn get(&self, o: usize, i: usize) -> Option<f32> {
		(o < self.out && i < self.input)
			.then(|| self.panels.get((o / NR) * self.input * NR + i * NR + o % NR).copied())
			.flatten()
	}

	/// `W += alpha · P · Q` for `P` of `out × rank` (element `(o, r)` at `p[o * p_rs + r * p_cs]`)
	/// and `Q` of `rank × input` (element `(r, i)` at `q[r * q_rs + i * q_cs]`): a low-rank
	/// update merged in place, one small GEMM per panel.
	///
	/// # Panics
	/// When `p` or `q` is too short for the shapes and strides.
	#[allow(clippy::too_many_arguments)]
	pub fn add_low_rank(
		&mut self,
		alpha: f32,
		rank: usize,
		p: &[f32],
		p_rs: usize,
		p_cs: usize,
		q: &[f32],
		q_rs: usize,
		q_cs: usize,
	) {
		let (out, input) = (self.out, self.input);
		if out == 0 || input == 0 || rank == 0 {
			return;
		}
		assert!(p.len() > (out - 1) * p_rs + (rank - 1) * p_cs);
		assert!(q.len() > (rank - 1) * q_rs + (input - 1) * q_cs);
		for (n, panel) in self.panels.chunks_exact_mut(input * NR).enumerate() {
			let first = n * NR;
			let rows = NR.min(out.saturating_sub(first));
			if rows == 0 {
				break;
			}
			// SAFETY: the asserts bound every read of p and q; the panel is input × NR with
			// element (o', i) at o' + i·NR, o' < rows <= NR.
			unsafe {
				matrixmultiply::sgemm(
					rows,
					rank,
					input,
					alpha,
					p.as_ptr().add(first * p_rs),
					p_rs as isize,
					p_cs as isize,
					q.as_ptr(),
					q_rs as isize,
					q_cs as isize,
					1.0,
					panel.as_mut_ptr(),
					1,
					NR as isize,
				);
			}
		}
	}

	/// `y[.., off..off + out] = x · Wᵀ` for `m` rows of `x` (`m × input`) into `y` of row
	/// stride `ldy`. Blocks of panels run on rayon's threads.
	///
	/// # Panics
	/// When a buffer is shorter than its shape.
	pub fn apply(&self, x: &[f32], m: usize, y: &mut [f32], ldy: usize, off: usize) {
		let (n, k) = (self.out, self.input);
		if m == 0 || n == 0 {
			return;
		}
		assert!(x.len() >= m * k && ldy >= off + n && y.len() >= (m - 1) * ldy + off + n);
		let out = SendPtr(y.as_mut_ptr());
		let panels = n.div_ceil(NR);
		let threads = rayon::current_num_threads().max(1);
		let per_task = panels.div_ceil(threads * 4).max(1);
		let isa = fma_available();
		let task = |t: usize| {
			let first = t * per_task;
			for p in first..(first + per_task).min(panels) {
				let panel = self.panels.get(p * k * NR..(p + 1) * k * NR).unwrap_or(&[]);
				let cols = NR.min(n - p * NR);
				// SAFETY: panel p writes columns off + p·NR .. + cols of the m rows, which no
				// other panel writes; the shapes were checked above.
				unsafe { run_panel(isa, x, m, k, panel, out.get().add(off + p * NR), ldy, cols) };
			}
		};
		let tasks = panels.div_ceil(per_task);
		if tasks == 1 {
			task(0);
		} else {
			(0..tasks).into_par_iter().for_each(task);
		}
	}
}

/// The vector extensions the packed kernel is built for, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isa {
	Avx512,
	Avx2,
	Portable,
}

fn fma_available() -> Isa {
	#[cfg(target_arch = "x86_64")]
	{
		static ISA: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
		*ISA.get_or_init(|| {
			use std::arch::is_x86_feature_detected as has;
			if has!("avx512f") && has!("fma") {
				Isa::Avx512
			} else if has!("avx2") && has!("fma") {
				Isa::Avx2
			} else {
				Isa::Portable
			}
		})
	}
	#[cfg(not(target_arch = "x86_64"))]
	{
		Isa::Portable
	}
}

/// Whether this CPU has AVX2 and FMA (what the `avx2,fma` builds of the kernels here and of the
/// capture's vocabulary scans need), from the same cached detection as the packed kernel.
pub(crate) fn avx2_fma() -> bool {
	fma_available() != Isa::Portable
}

/// One panel against every row of `x`, dispatched to the AVX2/FMA build where available.
///
/// # Safety
/// `y` must point at `m` rows of stride `ldy` with `cols` writable values each; `panel` must be
/// `k × NR` and `x` at least `m × k`.
#[allow(clippy::too_many_arguments)]
unsafe fn run_panel(
	isa: Isa,
	x: &[f32],
	m: usize,
	k: usize,
	panel: &[f32],
	y: *mut f32,
	ldy: usize,
	cols: usize,
) {
	#[cfg(target_arch = "x86_64")]
	match isa {
		// SAFETY: the CPU has these extensions (checked at run time).
		Isa::Avx512 => return unsafe { panel_avx512(x, m, k, panel, y, ldy, cols) },
		// SAFETY: as above.
		Isa::Avx2 => return unsafe { panel_avx2(x, m, k, panel, y, ldy, cols) },
		Isa::Portable => {}
	}
	let _ = isa;
	// SAFETY: forwarded from the caller.
	unsafe { panel_kernel::<false, 4>(x, m, k, panel, y, ldy, cols) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn panel_avx512(
	x: &[f32],
	m: usize,
	k: usize,
	panel: &[f32],
	y: *mut f32,
	ldy: usize,
	cols: usize,
) {
	// SAFETY: forwarded from the caller.
	unsafe { panel_kernel::<true, 8>(x, m, k, panel, y, ldy, cols) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn panel_avx2(
	x: &[f32],
	m: usize,
	k: usize,
	panel: &[f32],
	y: *mut f32,
	ldy: usize,
	cols: usize,
) {
	// SAFETY: forwarded from the caller.
	unsafe { panel_kernel::<true, 4>(x, m, k, panel, y, ldy, cols) }
}

/// The register tile: `T` rows of `x` (at most [`MR`]) times one `k × NR` panel,
/// accumulated in `f32`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn panel_kernel<const FMA: bool, const T: usize>(
	x: &[f32],
	m: usize,
	k: usize,
	panel: &[f32],
	y: *mut f32,
	ldy: usize,
	cols: usize,
) {
	if panel.len() < k * NR || x.len() < m * k {
		return;
	}
	let madd = |a: f32, b: f32, c: f32| if FMA { a.mul_add(b, c) } else { c + a * b };
	let mut i = 0;
	while i < m {
		let rows = T.min(MR).min(m - i);
		let mut acc = [[0f32; NR]; MR];
		if rows == 1 {
			// One row: four partial sums, so that consecutive multiply-adds do not wait on
			// each other.
			let mut parts = [[0f32; NR]; 4];
			for (p, w) in panel.chunks_exact(NR).take(k).enumerate() {
				// SAFETY: i < m and p < k.
				let xv = unsafe { *x.get_unchecked(i * k + p) };
				let part = &mut parts[p % 4];
				for c in 0..NR {
					part[c] = madd(xv, w[c], part[c]);
				}
			}
			for c in 0..NR {
				acc[0][c] = (parts[0][c] + parts[1][c]) + (parts[2][c] + parts[3][c]);
			}
		} else if rows == T {
			let mut tile = [[0f32; NR]; T];
			for (p, w) in panel.chunks_exact(NR).take(k).enumerate() {
				for (r, lane) in tile.iter_mut().enumerate() {
					// SAFETY: (i + r) < m and p < k, so the index is below m·k <= x.len().
					let xv = unsafe { *x.get_unchecked((i + r) * k + p) };
					for c in 0..NR {
						lane[c] = madd(xv, w[c], lane[c]);
					}
				}
			}
			for (dst, src) in acc.iter_mut().zip(tile) {
				*dst = src;
			}
		} else {
			for (p, w) in panel.chunks_exact(NR).take(k).enumerate() {
				for (r, lane) in acc.iter_mut().enumerate().take(rows) {
					// SAFETY: as above.
					let xv = unsafe { *x.get_unchecked((i + r) * k + p) };
					for c in 0..NR {
						lane[c] = madd(xv, w[c], lane[c]);
					}
				}
			}
		}
		for (r, values) in acc.iter().enumerate().take(rows) {
			for (c, v) in values.iter().enumerate().take(cols) {
				// SAFETY: row i + r < m, column c < cols, as the caller guarantees.
				unsafe { *y.add((i + r) * ldy + c) = *v };
			}
		}
		i += rows;
	}
}

/// `Σ a_i b_i` in `f32` over eight lanes (vectorizable).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
	let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
	let tail: f32 = a8.remainder().iter().zip(b8.remainder()).map(|(x, y)| x * y).sum();
	let mut lanes = [0f32; 8];
	for (x, y) in a8.zip(b8) {
		for i in 0..8 {
			lanes[i] += x[i] * y[i];
		}
	}
	lanes.iter().sum::<f32>() + tail
}

/// `y += c · x`.
fn axpy(y: &mut [f32], c: f32, x: &[f32]) {
	for (a, b) in y.iter_mut().zip(x) {
		*a += c * b;
	}
}

/// One projection's view of the adapter slab: every slot's `Aᵀ` and `B`, ranks and scales.
#[derive(Debug, Clone, Copy)]
pub struct LoraView<'a> {
	/// `slots × max_rank × input`: slot `s`'s `Aᵀ`.
	pub a: &'a [f32],
	/// `slots × max_rank × output`: slot `s`'s `B`.
	pub b: &'a [f32],
	/// The projection's input length.
	pub input: usize,
	/// The projection's output length.
	pub output: usize,
	/// Rows per slot in `a` and `b`.
	pub max_rank: usize,
	/// Per slot, the adapter's rank for this projection (0: not adapted, skipped).
	pub ranks: &'a [usize],
	/// Per slot, `alpha / rank`.
	pub scales: &'a [f32],
}

impl LoraView<'_> {
	fn rank(&self, slot: usize) -> usize {
		self.ranks.get(slot).copied().unwrap_or(0).min(self.max_rank)
	}

	fn scale(&self, slot: usize) -> f32 {
		self.scales.get(slot).copied().unwrap_or(0.0)
	}

	/// Slot `s`'s `Aᵀ`, `rank × input`.
	fn a_of(&self, slot: usize) -> &[f32] {
		let start = slot * self.max_rank * self.input;
		self.a.get(start..start + self.rank(slot) * self.input).unwrap_or(&[])
	}

	/// Slot `s`'s `B`, `rank × output`.
	fn b_of(&self, slot: usize) -> &[f32] {
		let start = slot * self.max_rank * self.output;
		self.b.get(start..start + self.rank(slot) * self.output).unwrap_or(&[])
	}
}

/// BGMV: for every row `i` with `slots[i] = Some(s)` (and `s` adapting this projection),
/// `y[i][off..off + output] += scale_s · (x_i · A_s) · B_s`. `x` is `rows × input`, `y` has
/// rows of stride `ldy`. Rows run in parallel.
pub fn bgmv(
	view: &LoraView,
	x: &[f32],
	slots: &[Option<usize>],
	y: &mut [f32],
	ldy: usize,
	off: usize,
) {
	if view.input == 0 || ldy == 0 {
		return;
	}
	y.par_chunks_mut(ldy).zip(x.par_chunks(view.input)).zip(slots.par_iter()).for_each(
		|((y_row, x_row), slot)| {
			let Some(slot) = *slot else { return };
			let rank = view.rank(slot);
			if rank == 0 {
				return;
			}
			let scale = view.scale(slot);
			let Some(y_row) = y_row.get_mut(off..off + view.output) else { return };
			let (a, b) = (view.a_of(slot), view.b_of(slot));
			for (a_r, b_r) in a.chunks_exact(view.input).zip(b.chunks_exact(view.output)) {
				axpy(y_row, scale * dot(x_row, a_r), b_r);
			}
		},
	);
}

/// SGMV: the rows with `slots[i] = Some(s)`, grouped by `s`; per group `T = X_g · A_s`
/// (`rows_g × rank`, `f32`) and `y_g += scale_s · T · B_s`, each a small GEMM. Groups run in
/// parallel. Same shapes as [`bgmv`], same result up to rounding.
pub fn sgmv(
	view: &LoraView,
	x: &[f32],
	slots: &[Option<usize>],
	y: &mut [f32],
	ldy: usize,
	off: usize,
) {
	let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
	for (row, slot) in slots.iter().enumerate() {
		if let Some(s) = slot {
			if view.rank(*s) > 0 {
				groups.entry(*s).or_default().push(row);
			}
		}
	}
	let (input, output) = (view.input, view.output);
	let updates: Vec<(&Vec<usize>, Vec<f32>)> = groups
		.par_iter()
		.map(|(slot, rows)| {
			let rank = view.rank(*slot);
			let mut xg = Vec::with_capacity(rows.len() * input);
			for &r in rows {
				xg.extend_from_slice(x.get(r * input..(r + 1) * input).unwrap_or(&[]));
			}
			xg.resize(rows.len() * input, 0.0);
			let mut t = vec![0f32; rows.len() * rank];
			let mut z = vec![0f32; rows.len() * output];
			let (a, b) = (view.a_of(*slot), view.b_of(*slot));
			if a.len() == rank * input && b.len() == rank * output && !rows.is_empty() {
				// SAFETY: xg is rows × input, a is rank × input (read as its transpose, input
				// × rank), t is rows × rank, b is rank × output and z rows × output.
				unsafe {
					matrixmultiply::sgemm(
						rows.len(),
						input,
						rank,
						1.0,
						xg.as_ptr(),
						input as isize,
						1,
						a.as_ptr(),
						1,
						input as isize,
						0.0,
						t.as_mut_ptr(),
						rank as isize,
						1,
					);
					matrixmultiply::sgemm(
						rows.len(),
						rank,
						output,
						view.scale(*slot),
						t.as_ptr(),
						rank as isize,
						1,
						b.as_ptr(),
						output as isize,
						1,
						0.0,
						z.as_mut_ptr(),
						output as isize,
						1,
					);
				}
			}
			(rows, z)
		})
		.collect();
	for (rows, z) in updates {
		for (&r, z_row) in rows.iter().zip(z.chunks_exact(output.max(1))) {
			if let Some(y_row) = y.get_mut(r * ldy + off..r * ldy + off + output) {
				axpy(y_row, 1.0, z_row);
			}
		}
	}
}
