//! The LoRA kernels on a CUDA GPU (feature `cuda`): BGMV and SGMV written in CUDA C, compiled
//! at run time with NVRTC through cudarc, over the same slab layout as the CPU kernels
//! ([`super::kernels::LoraView`]: per slot `Aᵀ` as `max_rank × in`, `B` as `max_rank × out`,
//! ranks and scales per slot). The low-rank intermediate stays `f32`.
//!
//! - `bgmv`: one thread block per row; its warps compute `t = scale · x · A` (one rank
//!   component per warp, shuffle reduction) into shared memory, then every thread adds
//!   `t · B` for its output columns.
//! - `sgmv_shrink` / `sgmv_expand`: rows sorted into segments of one adapter each; a block per
//!   (segment, rank component) stages that row of `Aᵀ` in shared memory once for all the
//!   segment's rows, and a block per (segment, 256 outputs) stages the slice of `B` likewise.
//!
//! [`CudaLora`] uploads a batch, launches and reads the result back: the harness the tests
//! check against the CPU kernels.

use super::kernels::LoraView;
use cudarc::{
	driver::{CudaContext, CudaFunction, CudaStream, LaunchConfig, PushKernelArg},
	nvrtc::compile_ptx,
};
use std::{collections::BTreeMap, sync::Arc};

/// The kernels' CUDA C source.
pub const SOURCE: &str = r#"
extern "C" __global__ void bgmv(
    const float* x, const float* a, const float* b, const int* slots, const int* ranks,
    const float* scales, float* y, int input, int output, int max_rank, int ldy, int off)
{
    extern __shared__ float t[];
    const int row = blockIdx.x;
    const int s = slots[row];
    if (s < 0) return;
    const int rank = min(ranks[s], max_rank);
    if (rank == 0) return;
    const float* xr = x + (size_t)row * input;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    for (int r = warp; r < rank; r += warps) {
        const float* ar = a + ((size_t)s * max_rank + r) * input;
        float acc = 0.0f;
        for (int i = lane; i < input; i += 32) acc += xr[i] * ar[i];
        for (int o = 16; o > 0; o >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, o);
        if (lane == 0) t[r] = acc * scales[s];
    }
    __syncthreads();
    for (int o = threadIdx.x; o < output; o += blockDim.x) {
        float acc = 0.0f;
        for (int r = 0; r < rank; ++r) acc += t[r] * b[((size_t)s * max_rank + r) * output + o];
        y[(size_t)row * ldy + off + o] += acc;
    }
}

// Segment g holds rows order[seg_start[g] .. seg_start[g + 1]], all with slot seg_slot[g].
extern "C" __global__ void sgmv_shrink(
    const float* x, const float* a, const int* order, const int* seg_start, const int* seg_slot,
    const int* ranks, const float* scales, float* t, int input, int max_rank)
{
    extern __shared__ float ar[];
    const int g = blockIdx.x, r = blockIdx.y;
    const int s = seg_slot[g];
    if (r >= min(ranks[s], max_rank)) return;
    const float* src = a + ((size_t)s * max_rank + r) * input;
    for (int i = threadIdx.x; i < input; i += blockDim.x) ar[i] = src[i];
    __syncthreads();
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    for (int k = seg_start[g] + warp; k < seg_start[g + 1]; k += warps) {
        const float* xr = x + (size_t)order[k] * input;
        float acc = 0.0f;
        for (int i = lane; i < input; i += 32) acc += xr[i] * ar[i];
        for (int o = 16; o > 0; o >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, o);
        if (lane == 0) t[(size_t)order[k] * max_rank + r] = acc * scales[s];
    }
}

extern "C" __global__ void sgmv_expand(
    const float* t, const float* b, const int* order, const int* seg_start, const int* seg_slot,
    const int* ranks, float* y, int output, int max_rank, int ldy, int off)
{
    extern __shared__ float bt[];
    const int g = blockIdx.x;
    const int s = seg_slot[g];
    const int rank = min(ranks[s], max_rank);
    const int o = blockIdx.y * blockDim.x + threadIdx.x;
    for (int r = 0; r < rank; ++r)
        bt[r * blockDim.x + threadIdx.x] =
            o < output ? b[((size_t)s * max_rank + r) * output + o] : 0.0f;
    __syncthreads();
    if (o >= output) return;
    for (int k = seg_start[g]; k < seg_start[g + 1]; ++k) {
        const int row = order[k];
        float acc = 0.0f;
        for (int r = 0; r < rank; ++r) acc += t[(size_t)row * max_rank + r] * bt[r * blockDim.x + threadIdx.x];
        y[(size_t)row * ldy + off + o] += acc;
    }
}
"#;

/// Threads per block of every kernel.
const THREADS: u32 = 256;

/// What went wrong on the GPU side.
#[derive(Debug, thiserror::Error)]
pub enum CudaError {
	/// No usable device or driver.
	#[error("no CUDA device: {0}")]
	NoDevice(String),
	/// NVRTC refused the source.
	#[error("compiling the LoRA kernels: {0}")]
	Compile(String),
	/// A driver call failed.
	#[error("CUDA driver: {0}")]
	Driver(String),
	/// Shapes that do not fit.
	#[error("{0}")]
	Shape(String),
}

fn driver(e: impl std::fmt::Debug) -> CudaError {
	CudaError::Driver(format!("{e:?}"))
}

/// The compiled kernels on one device.
pub struct CudaLora {
	stream: Arc<CudaStream>,
	bgmv: CudaFunction,
	shrink: CudaFunction,
	expand: CudaFunction,
}

impl CudaLora {
	/// Compiles [`SOURCE`] with NVRTC and loads it on device `ordinal`.
	pub fn new(ordinal: usize) -> Result<Self, CudaError> {
		// cudarc panics when the driver library cannot be loaded at all.
		let ctx = std::panic::catch_unwind(|| CudaContext::new(ordinal))
			.map_err(|_| CudaError::NoDevice("the CUDA driver library is not installed".into()))?
			.map_err(|e| CudaError::NoDevice(format!("{e:?}")))?;
		let ptx = std::panic::catch_unwind(|| compile_ptx(SOURCE))
			.map_err(|_| CudaError::Compile("the NVRTC library is not installed".into()))?
			.map_err(|e| CudaError::Compile(format!("{e:?}")))?;
		let module = ctx.load_module(ptx).map_err(driver)?;
		Ok(Self {
			stream: ctx.default_stream(),
			bgmv: module.load_function("bgmv").map_err(driver)?,
			shrink: module.load_function("sgmv_shrink").map_err(driver)?,
			expand: module.load_function("sgmv_expand").map_err(driver)?,
		})
	}

	/// [`super::kernels::bgmv`] on the GPU: `y` (rows of stride `ldy`) is updated in place.
	pub fn bgmv(
		&self,
		view: &LoraView,
		x: &[f32],
		slots: &[Option<usize>],
		y: &mut [f32],
		ldy: usize,
		off: usize,
	) -> Result<(), CudaError> {
		let rows = slots.len();
		if rows == 0 {
			return Ok(());
		}
		check(view, x, rows, y, ldy, off)?;
		let s = &self.stream;
		let slot_ids: Vec<i32> = slots.iter().map(|s| s.map_or(-1, |v| v as i32)).collect();
		let ranks: Vec<i32> = view.ranks.iter().map(|r| *r as i32).collect();
		let (dx, da, db) = (
			s.clone_htod(x).map_err(driver)?,
			s.clone_htod(view.a).map_err(driver)?,
			s.clone_htod(view.b).map_err(driver)?,
		);
		let (dslots, dranks, dscales) = (
			s.clone_htod(&slot_ids).map_err(driver)?,
			s.clone_htod(&ranks).map_err(driver)?,
			s.clone_htod(view.scales).map_err(driver)?,
		);
		let mut dy = s.clone_htod(&*y).map_err(driver)?;
		let (input, output, max_rank, ldy_i, off_i) =
			(view.input as i32, view.output as i32, view.max_rank as i32, ldy as i32, off as i32);
		let cfg = LaunchConfig {
			grid_dim: (rows as u32, 1, 1),
			block_dim: (THREADS, 1, 1),
			shared_mem_bytes: (view.max_rank * 4) as u32,
		};
		let mut launch = s.launch_builder(&self.bgmv);
		launch
			.arg(&dx)
			.arg(&da)
			.arg(&db)
			.arg(&dslots)
			.arg(&dranks)
			.arg(&dscales)
			.arg(&mut dy)
			.arg(&input)
			.arg(&output)
			.arg(&max_rank)
			.arg(&ldy_i)
			.arg(&off_i);
		// SAFETY: the arguments match the kernel's signature; check() bounded every index.
		unsafe { launch.launch(cfg) }.map_err(driver)?;
		s.memcpy_dtoh(&dy, y).map_err(driver)?;
		Ok(())
	}

	/// [`super::kernels::sgmv`] on the GPU: rows grouped by slot into segments.
	pub fn sgmv(
		&self,
		view: &LoraView,
		x: &[f32],
		slots: &[Option<usize>],
		y: &mut [f32],
		ldy: usize,
		off: usize,
	) -> Result<(), CudaError> {
		let rows = slots.len();
		check(view, x, rows, y, ldy, off)?;
		let mut groups: BTreeMap<usize, Vec<i32>> = BTreeMap::new();
		for (row, slot) in slots.iter().enumerate() {
			if let Some(s) = slot {
				groups.entry(*s).or_default().push(row as i32);
			}
		}
		if groups.is_empty() {
			return Ok(());
		}
		let (mut order, mut starts, mut seg_slots) =
			(Vec::<i32>::new(), vec![0i32], Vec::<i32>::new());
		for (slot, members) in &groups {
			order.extend(members);
			starts.push(order.len() as i32);
			seg_slots.push(*slot as i32);
		}
		let s = &self.stream;
		let ranks: Vec<i32> = view.ranks.iter().map(|r| *r as i32).collect();
		let dx = s.clone_htod(x).map_err(driver)?;
		let (da, db) =
			(s.clone_htod(view.a).map_err(driver)?, s.clone_htod(view.b).map_err(driver)?);
		let (dorder, dstarts, dsegs) = (
			s.clone_htod(&order).map_err(driver)?,
			s.clone_htod(&starts).map_err(driver)?,
			s.clone_htod(&seg_slots).map_err(driver)?,
		);
		let (dranks, dscales) =
			(s.clone_htod(&ranks).map_err(driver)?, s.clone_htod(view.scales).map_err(driver)?);
		let mut dt = s.alloc_zeros::<f32>(rows * view.max_rank).map_err(driver)?;
		let mut dy = s.clone_htod(&*y).map_err(driver)?;
		let (input, output, max_rank, ldy_i, off_i) =
			(view.input as i32, view.output as i32, view.max_rank as i32, ldy as i32, off as i32);
		let segments = groups.len() as u32;
		let shrink = LaunchConfig {
			grid_dim: (segments, view.max_rank as u32, 1),
			block_dim: (THREADS, 1, 1),
			shared_mem_bytes: (view.input * 4) as u32,
		};
		let mut launch = s.launch_builder(&self.shrink);
		launch
			.arg(&dx)
			.arg(&da)
			.arg(&dorder)
			.arg(&dstarts)
			.arg(&dsegs)
			.arg(&dranks)
			.arg(&dscales)
			.arg(&mut dt)
			.arg(&input)
			.arg(&max_rank);
		// SAFETY: the arguments match the kernel's signature; check() bounded every index.
		unsafe { launch.launch(shrink) }.map_err(driver)?;
		let expand = LaunchConfig {
			grid_dim: (segments, (view.output as u32).div_ceil(THREADS), 1),
			block_dim: (THREADS, 1, 1),
			shared_mem_bytes: view.max_rank as u32 * THREADS * 4,
		};
		let mut launch = s.launch_builder(&self.expand);
		launch
			.arg(&dt)
			.arg(&db)
			.arg(&dorder)
			.arg(&dstarts)
			.arg(&dsegs)
			.arg(&dranks)
			.arg(&mut dy)
			.arg(&output)
			.arg(&max_rank)
			.arg(&ldy_i)
			.arg(&off_i);
		// SAFETY: as above.
		unsafe { launch.launch(expand) }.map_err(driver)?;
		s.memcpy_dtoh(&dy, y).map_err(driver)?;
		Ok(())
	}
}

/// The shapes the kernels index by.
fn check(
	view: &LoraView,
	x: &[f32],
	rows: usize,
	y: &[f32],
	ldy: usize,
	off: usize,
) -> Result<(), CudaError> {
	let slots = view.ranks.len();
	let ok = x.len() >= rows * view.input
		&& y.len() >= rows * ldy
		&& ldy >= off + view.output
		&& view.a.len() >= slots * view.max_rank * view.input
		&& view.b.len() >= slots * view.max_rank * view.output
		&& view.scales.len() >= slots;
	match ok {
		true => Ok(()),
		false => Err(CudaError::Shape("buffers shorter than the shapes they are given".into())),
	}
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
	use super::*;
	use crate::{openlora::kernels, train::rng::SplitMix64};

	#[test]
	fn cuda_bgmv_and_sgmv_match_the_cpu_kernels() {
		let gpu = match CudaLora::new(0) {
			Ok(gpu) => gpu,
			Err(e) => {
				println!("skipped: {e}");
				return;
			}
		};
		let (input, output, max_rank, slots) = (70, 300, 16, 3);
		let mut rng = SplitMix64::new(5);
		let a: Vec<f32> = (0..slots * max_rank * input).map(|_| rng.uniform(-1.0, 1.0)).collect();
		let b: Vec<f32> = (0..slots * max_rank * output).map(|_| rng.uniform(-1.0, 1.0)).collect();
		let (ranks, scales) = ([4, 16, 0], [2.0, 0.5, 1.0]);
		let view =
			LoraView { a: &a, b: &b, input, output, max_rank, ranks: &ranks, scales: &scales };
		let row_slots = [Some(1), Some(0), None, Some(1), Some(2), Some(0), Some(1)];
		let rows = row_slots.len();
		let x: Vec<f32> = (0..rows * input).map(|_| rng.uniform(-1.0, 1.0)).collect();
		let (ldy, off) = (output + 5, 3);
		let y0: Vec<f32> = (0..rows * ldy).map(|_| rng.uniform(-1.0, 1.0)).collect();
		let mut cpu = y0.clone();
		kernels::bgmv(&view, &x, &row_slots, &mut cpu, ldy, off);
		let (mut by_row, mut by_group) = (y0.clone(), y0.clone());
		gpu.bgmv(&view, &x, &row_slots, &mut by_row, ldy, off).unwrap();
		gpu.sgmv(&view, &x, &row_slots, &mut by_group, ldy, off).unwrap();
		for (name, got) in [("bgmv", &by_row), ("sgmv", &by_group)] {
			let worst = got.iter().zip(&cpu).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
			assert!(worst < 1e-3, "{name}: max difference {worst}");
		}
		assert_ne!(cpu, y0);
	}
}
