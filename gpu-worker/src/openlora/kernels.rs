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
		self.apply_on(fma_available(), x, m, y, ldy, off);
	}

	/// [`PackedMatrix::apply`] with the 4-row register tile of the portable kernel (compiled
	/// for AVX2/FMA where the CPU has them) and no prefetch: the kernel before the AVX2 one,
	/// kept as the benchmark's same-run baseline.
	#[doc(hidden)]
	pub fn apply_plain(&self, x: &[f32], m: usize, y: &mut [f32], ldy: usize, off: usize) {
		let isa = match fma_available() {
			Isa::Portable => Isa::Portable,
			_ => Isa::Avx2Plain,
		};
		self.apply_on(isa, x, m, y, ldy, off);
	}

	fn apply_on(&self, isa: Isa, x: &[f32], m: usize, y: &mut [f32], ldy: usize, off: usize) {
		apply_parts(isa, &[(self, off)], x, m, y, ldy);
	}

	/// [`PackedMatrix::apply`] of several weights with one input length over the same rows,
	/// in one parallel pass over all their panels (one fork and join rather than one per
	/// weight, and the threads' shares balanced over all of them): for each `(w, off)` of
	/// `parts`, `y[.., off..off + w.out()] = x · wᵀ`.
	///
	/// # Panics
	/// When the parts' input lengths differ, their output windows overlap, or a buffer is
	/// shorter than its shape.
	pub fn apply_all(
		parts: &[(&PackedMatrix, usize)],
		x: &[f32],
		m: usize,
		y: &mut [f32],
		ldy: usize,
	) {
		apply_parts(fma_available(), parts, x, m, y, ldy);
	}
}

fn apply_parts(
	isa: Isa,
	parts: &[(&PackedMatrix, usize)],
	x: &[f32],
	m: usize,
	y: &mut [f32],
	ldy: usize,
) {
	let Some(k) = parts.first().map(|(w, _)| w.input) else { return };
	if m == 0 {
		return;
	}
	for (n, (w, off)) in parts.iter().enumerate() {
		assert!(w.input == k, "parts of one product need one input length");
		assert!(x.len() >= m * k && ldy >= off + w.out && y.len() >= (m - 1) * ldy + off + w.out);
		// The threads write each part's columns unsynchronized: no two windows may overlap.
		for (v, other) in parts.iter().take(n) {
			assert!(off + w.out <= *other || other + v.out <= *off, "overlapping output windows");
		}
	}
	// Every part's panels in one list: (part, panel).
	let panels: Vec<(usize, usize)> = parts
		.iter()
		.enumerate()
		.flat_map(|(i, (w, _))| (0..w.out.div_ceil(NR)).map(move |p| (i, p)))
		.collect();
	if panels.is_empty() {
		return;
	}
	let panel_of = |(i, p): (usize, usize)| {
		parts.get(i).and_then(|(w, _)| w.panels.get(p * k * NR..(p + 1) * k * NR)).unwrap_or(&[])
	};
	let out = SendPtr(y.as_mut_ptr());
	let threads = rayon::current_num_threads().max(1);
	let per_task = panels.len().div_ceil(threads * 4).max(1);
	let task = |t: usize| {
		let first = t * per_task;
		let last = (first + per_task).min(panels.len());
		for j in first..last {
			let (i, p) = panels[j];
			let (w, off) = parts[i];
			// The panel this task takes next, fetched into cache while this one computes.
			let next = match j + 1 < last {
				true => panel_of(panels[j + 1]),
				false => &[],
			};
			let cols = NR.min(w.out - p * NR);
			// SAFETY: panel p of part i writes columns off + p·NR .. + cols of the m rows,
			// which no other panel writes (the parts' column windows are the caller's to keep
			// apart); the shapes were checked above.
			unsafe {
				run_panel(
					isa,
					x,
					m,
					k,
					panel_of((i, p)),
					next,
					out.get().add(off + p * NR),
					ldy,
					cols,
				)
			};
		}
	};
	let tasks = panels.len().div_ceil(per_task);
	if tasks == 1 {
		task(0);
	} else {
		(0..tasks).into_par_iter().for_each(task);
	}
}

/// The vector extensions the packed kernel is built for, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isa {
	Avx512,
	Avx2,
	/// AVX2/FMA with the portable kernel's tile ([`PackedMatrix::apply_plain`]).
	Avx2Plain,
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

/// Whether this CPU has AVX2 and FMA (what the `avx2,fma` builds of the kernels here, of the
/// row-wise operations and of the capture's vocabulary scans need), from the same cached
/// detection as the packed kernel.
pub(crate) fn avx2_fma() -> bool {
	fma_available() != Isa::Portable
}

/// Inside a function: runs `$body` (an `#[inline(always)]` function taking the listed
/// arguments) through a copy `$name` compiled for AVX2/FMA where [`avx2_fma`] says the CPU has
/// them, else as it is, and returns its result. `$body` must not hand its work to closures:
/// a closure is compiled apart, without the copy's target features.
macro_rules! with_avx2 {
	($name:ident, $body:ident, ($($arg:ident: $ty:ty),*) $(-> $ret:ty)?) => {{
		#[cfg(target_arch = "x86_64")]
		#[target_feature(enable = "avx2,fma")]
		unsafe fn $name($($arg: $ty),*) $(-> $ret)? {
			$body($($arg),*)
		}

		#[cfg(target_arch = "x86_64")]
		if $crate::openlora::kernels::avx2_fma() {
			// SAFETY: the CPU has AVX2 and FMA, checked just above.
			return unsafe { $name($($arg),*) };
		}
		$body($($arg),*)
	}};
}
pub(crate) use with_avx2;

/// One panel against every row of `x`, dispatched to the AVX2/FMA build where available;
/// `next` (empty, or the panel computed after this one) is prefetched on the AVX2 path.
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
	next: &[f32],
	y: *mut f32,
	ldy: usize,
	cols: usize,
) {
	#[cfg(target_arch = "x86_64")]
	match isa {
		// SAFETY: the CPU has these extensions (checked at run time).
		Isa::Avx512 => return unsafe { panel_avx512(x, m, k, panel, y, ldy, cols) },
		// SAFETY: as above; the shapes are forwarded from the caller.
		Isa::Avx2 => return unsafe { avx2::panel(x, m, k, panel, next, y, ldy, cols) },
		// SAFETY: as above.
		Isa::Avx2Plain => return unsafe { panel_avx2_plain(x, m, k, panel, y, ldy, cols) },
		Isa::Portable => {}
	}
	let _ = (isa, next);
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
unsafe fn panel_avx2_plain(
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

/// The AVX2/FMA panel kernel: register tiles of up to [`avx2::MR`] rows × [`NR`] columns (twelve
/// 256-bit accumulators), the next panel prefetched a line per few multiply-adds so that the
/// weights stream from memory while the tiles compute.
#[cfg(target_arch = "x86_64")]
mod avx2 {
	use super::NR;
	use std::arch::x86_64::{
		__m256, _mm256_add_ps, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps,
		_mm256_setzero_ps, _mm256_storeu_ps, _mm_prefetch, _MM_HINT_T1,
	};

	/// Rows per register tile.
	pub const MR: usize = 6;

	/// Rows of the tile that starts with `left` rows still to compute: at most [`MR`], and
	/// 7 or 8 rows as two tiles of 4 and 3-4 (a tile of 1-2 rows keeps too few multiply-adds
	/// in flight).
	fn tile_rows(left: usize) -> usize {
		match left {
			7 | 8 => 4,
			l => l.min(MR),
		}
	}

	/// `y = x · panelᵀ` for the `m` rows of `x` against one `k × NR` panel, the `next` panel
	/// (`k × NR` or empty) prefetched, spread over the tiles.
	///
	/// # Safety
	/// The CPU has AVX2 and FMA; `y` points at `m` rows of stride `ldy` with `cols <= NR`
	/// writable values each; `panel` is `k × NR` and `x` at least `m × k`.
	#[target_feature(enable = "avx2,fma")]
	#[allow(clippy::too_many_arguments)]
	pub unsafe fn panel(
		x: &[f32],
		m: usize,
		k: usize,
		panel: &[f32],
		next: &[f32],
		y: *mut f32,
		ldy: usize,
		cols: usize,
	) {
		if panel.len() < k * NR || x.len() < m * k || k == 0 {
			return;
		}
		let mut tiles = 0;
		let mut i = 0;
		while i < m {
			i += tile_rows(m - i);
			tiles += 1;
		}
		// The next panel's k lines of 64 bytes, split evenly over this panel's tiles.
		let lines = if next.len() >= k * NR { k } else { 0 };
		let (x, w, pf) = (x.as_ptr(), panel.as_ptr(), next.as_ptr());
		let (mut i, mut t) = (0, 0);
		while i < m {
			let rows = tile_rows(m - i);
			let (from, to) = (lines * t / tiles, lines * (t + 1) / tiles);
			// SAFETY: rows i .. i + rows of x and y exist; lines from .. to of the next panel
			// are inside it (to <= k).
			unsafe {
				let (x, y, pf) = (x.add(i * k), y.add(i * ldy), pf.add(from * NR));
				let count = to - from;
				match rows {
					1 => row(x, k, w, y, cols, pf, count),
					2 => tile::<2>(x, k, w, y, ldy, cols, pf, count),
					3 => tile::<3>(x, k, w, y, ldy, cols, pf, count),
					4 => tile::<4>(x, k, w, y, ldy, cols, pf, count),
					5 => tile::<5>(x, k, w, y, ldy, cols, pf, count),
					_ => tile::<6>(x, k, w, y, ldy, cols, pf, count),
				}
			}
			i += rows;
			t += 1;
		}
	}

	/// `count` lines of [`NR`] values from `pf`, fetched into L2 one every `k / count` of a
	/// tile's `k` steps.
	struct Prefetch {
		pf: *const f32,
		count: usize,
		every: usize,
		due: usize,
		fetched: usize,
	}

	impl Prefetch {
		fn new(pf: *const f32, count: usize, k: usize) -> Self {
			let every = if count == 0 { usize::MAX } else { k.div_ceil(count) };
			Self { pf, count, every, due: 0, fetched: 0 }
		}

		/// At step `p` of the tile: fetches the next line when one is due.
		///
		/// # Safety
		/// `pf` points at `count` lines of [`NR`] values.
		#[inline(always)]
		unsafe fn at(&mut self, p: usize) {
			if p == self.due && self.fetched < self.count {
				// SAFETY: fetched < count lines, as the caller guarantees.
				unsafe { _mm_prefetch::<_MM_HINT_T1>(self.pf.add(self.fetched * NR).cast()) };
				self.fetched += 1;
				self.due += self.every;
			}
		}
	}

	/// Stores a tile row's two accumulators into `cols` values at `y`.
	#[inline(always)]
	unsafe fn store(y: *mut f32, cols: usize, acc: [__m256; 2]) {
		// SAFETY: the caller's y has cols writable values.
		unsafe {
			if cols == NR {
				_mm256_storeu_ps(y, acc[0]);
				_mm256_storeu_ps(y.add(8), acc[1]);
			} else {
				let mut values = [0f32; NR];
				_mm256_storeu_ps(values.as_mut_ptr(), acc[0]);
				_mm256_storeu_ps(values.as_mut_ptr().add(8), acc[1]);
				std::ptr::copy_nonoverlapping(values.as_ptr(), y, cols);
			}
		}
	}

	/// `R` rows (2 to [`MR`]) of `x` (row stride `k`) times the panel; `count` lines from `pf`
	/// prefetched over the steps ([`Prefetch`]).
	#[target_feature(enable = "avx2,fma")]
	#[inline]
	#[allow(clippy::too_many_arguments)]
	unsafe fn tile<const R: usize>(
		x: *const f32,
		k: usize,
		w: *const f32,
		y: *mut f32,
		ldy: usize,
		cols: usize,
		pf: *const f32,
		count: usize,
	) {
		let mut acc = [[_mm256_setzero_ps(); 2]; R];
		let mut prefetch = Prefetch::new(pf, count, k);
		for p in 0..k {
			// SAFETY: p < k, so the panel's row p and x's columns p exist (the caller's
			// shapes); the prefetched lines are the count given.
			unsafe {
				prefetch.at(p);
				let b0 = _mm256_loadu_ps(w.add(p * NR));
				let b1 = _mm256_loadu_ps(w.add(p * NR + 8));
				for (r, lane) in acc.iter_mut().enumerate() {
					let a = _mm256_broadcast_ss(&*x.add(r * k + p));
					lane[0] = _mm256_fmadd_ps(a, b0, lane[0]);
					lane[1] = _mm256_fmadd_ps(a, b1, lane[1]);
				}
			}
		}
		for (r, lane) in acc.into_iter().enumerate() {
			// SAFETY: row r < R of y has cols writable values.
			unsafe { store(y.add(r * ldy), cols, lane) };
		}
	}

	/// One row of `x` times the panel: four pairs of accumulators over interleaved steps, so
	/// that consecutive multiply-adds do not wait on each other; `count` lines of `pf`
	/// prefetched as in [`tile`].
	#[target_feature(enable = "avx2,fma")]
	#[inline]
	unsafe fn row(
		x: *const f32,
		k: usize,
		w: *const f32,
		y: *mut f32,
		cols: usize,
		pf: *const f32,
		count: usize,
	) {
		let mut acc = [[_mm256_setzero_ps(); 2]; 4];
		let mut prefetch = Prefetch::new(pf, count, k);
		let mut step = |p: usize, lane: &mut [__m256; 2]| {
			// SAFETY: p < k, as in tile.
			unsafe {
				prefetch.at(p);
				let a = _mm256_broadcast_ss(&*x.add(p));
				lane[0] = _mm256_fmadd_ps(a, _mm256_loadu_ps(w.add(p * NR)), lane[0]);
				lane[1] = _mm256_fmadd_ps(a, _mm256_loadu_ps(w.add(p * NR + 8)), lane[1]);
			}
		};
		let whole = k - k % 4;
		for p in (0..whole).step_by(4) {
			for (j, lane) in acc.iter_mut().enumerate() {
				step(p + j, lane);
			}
		}
		for p in whole..k {
			step(p, &mut acc[0]);
		}
		let [a, b, c, d] = acc;
		let sum =
			[0, 1].map(|i| _mm256_add_ps(_mm256_add_ps(a[i], b[i]), _mm256_add_ps(c[i], d[i])));
		// SAFETY: y has cols writable values.
		unsafe { store(y, cols, sum) };
	}
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

/// `Σ a_i b_i` in `f32` over eight lanes (vectorizable; inlined, so that it takes the AVX2
/// build of its caller).
#[inline(always)]
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

/// Multiply-adds of a LoRA update below which it runs on one thread (splitting it over
/// rayon's threads costs more than it saves; a decode step's updates are far below).
const PARALLEL_WORK: usize = 1 << 18;

/// BGMV: for every row `i` with `slots[i] = Some(s)` (and `s` adapting this projection),
/// `y[i][off..off + output] += scale_s · (x_i · A_s) · B_s`. `x` is `rows × input`, `y` has
/// rows of stride `ldy`. Rows run in parallel when there is enough work.
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
	let row = |(y_row, x_row): (&mut [f32], &[f32]), slot: &Option<usize>| {
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
	};
	let work: usize =
		slots.iter().flatten().map(|s| view.rank(*s)).sum::<usize>() * (view.input + view.output);
	if work < PARALLEL_WORK {
		for (pair, slot) in y.chunks_mut(ldy).zip(x.chunks(view.input)).zip(slots) {
			row(pair, slot);
		}
	} else {
		y.par_chunks_mut(ldy)
			.zip(x.par_chunks(view.input))
			.zip(slots.par_iter())
			.for_each(|(pair, slot)| row(pair, slot));
	}
}

/// SGMV: the rows with `slots[i] = Some(s)` in segments, each a run of consecutive rows with
/// one adapter (a prefill chunk); per segment `T = X_g · A_s` (`rows_g × rank`, `f32`) and
/// `y_g += scale_s · T · B_s`, two small GEMMs that read `x` and write `y` in place. Segments
/// run in parallel when there is enough work. Same shapes as [`bgmv`], same result up to
/// rounding.
pub fn sgmv(
	view: &LoraView,
	x: &[f32],
	slots: &[Option<usize>],
	y: &mut [f32],
	ldy: usize,
	off: usize,
) {
	let (input, output) = (view.input, view.output);
	if input == 0 || output == 0 || ldy < off + output {
		return;
	}
	// (slot, first row, rows) of each segment whose adapter adapts this projection.
	let mut segments: Vec<(usize, usize, usize)> = Vec::new();
	for (row, slot) in slots.iter().enumerate() {
		let Some(s) = *slot else { continue };
		match segments.last_mut() {
			Some((last, first, rows)) if *last == s && *first + *rows == row => *rows += 1,
			_ if view.rank(s) > 0 => segments.push((s, row, 1)),
			_ => {}
		}
	}
	let out = SendPtr(y.as_mut_ptr());
	let y_len = y.len();
	let segment = |&(slot, first, rows): &(usize, usize, usize)| {
		let rank = view.rank(slot);
		let (a, b) = (view.a_of(slot), view.b_of(slot));
		let x_g = x.get(first * input..(first + rows) * input).unwrap_or(&[]);
		let y_fits = (first + rows - 1) * ldy + off + output <= y_len;
		if a.len() != rank * input || b.len() != rank * output || x_g.is_empty() || !y_fits {
			return;
		}
		let mut t = vec![0f32; rows * rank];
		// SAFETY: x_g is rows × input, a is rank × input (read as its transpose, input ×
		// rank), t is rows × rank, b is rank × output; the segment's rows of y (checked to fit
		// above) are written at columns off .. off + output, which no other segment writes.
		unsafe {
			matrixmultiply::sgemm(
				rows,
				input,
				rank,
				1.0,
				x_g.as_ptr(),
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
				rows,
				rank,
				output,
				view.scale(slot),
				t.as_ptr(),
				rank as isize,
				1,
				b.as_ptr(),
				output as isize,
				1,
				1.0,
				out.get().add(first * ldy + off),
				ldy as isize,
				1,
			);
		}
	};
	let work: usize =
		segments.iter().map(|(s, _, rows)| rows * view.rank(*s)).sum::<usize>() * (input + output);
	if work < PARALLEL_WORK {
		segments.iter().for_each(segment);
	} else {
		segments.par_iter().for_each(segment);
	}
}
