//! The batched projection kernel ([`PackedMatrix::apply`], OpenLoRA's base GEMM) on
//! SmolLM2-135M's projection shapes at the row counts of a serving step, side by side in one run
//! with the kernel it replaced ([`PackedMatrix::apply_plain`]: the portable 4-row tile, no
//! prefetch) and with matrixmultiply's `sgemm` (the same product from the row-major weights,
//! packing per call).
//!
//! Two cases per shape: **warm**, one weight matrix called again and again (it stays in cache),
//! and **streamed**, calls cycling through enough copies of the weights (at least 96 MiB, three
//! times this machine's last-level cache) that each call reads its weights from memory, as a
//! serving step does (the model's 540 MB of f32 weights pass through once per step). Reports the
//! median of `--reps` calls as GFLOP/s (`2·m·k·n` flops). All run on all cores.
//!
//! Then the attention of a decode step's rows ([`attend`]) against the loops it replaced
//! ([`attend_plain`]), on one thread.
//!
//! ```text
//! cargo run --release -p gpu-worker --example kernel_bench -- [--rows 1,4,16,32,64,128] [--reps 31]
//! ```

use gpu_worker::{
	openlora::{
		kernels::PackedMatrix,
		ops::{attend, attend_plain, Heads},
	},
	train::rng::SplitMix64,
};
use std::time::Instant;

/// `(name, out, in)` of SmolLM2-135M's projections.
const SHAPES: [(&str, usize, usize); 5] = [
	("q, o 576×576", 576, 576),
	("k, v 192×576", 192, 576),
	("gate, up 1536×576", 1536, 576),
	("down 576×1536", 576, 1536),
	("output head 49152×576", 49152, 576),
];

/// Bytes of weight copies the streamed case cycles through.
const STREAMED_BYTES: usize = 96 << 20;

fn median(mut v: Vec<f64>) -> f64 {
	v.sort_by(|a, b| a.total_cmp(b));
	v[v.len() / 2]
}

fn main() {
	let args: Vec<String> = std::env::args().collect();
	let opt =
		|name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
	let rows: Vec<usize> = opt("--rows")
		.unwrap_or_else(|| "1,4,16,32,64,128".into())
		.split(',')
		.map(|r| r.parse().expect("--rows takes counts"))
		.collect();
	let reps: usize = opt("--reps").map(|r| r.parse().expect("--reps takes a count")).unwrap_or(31);
	println!("{} threads, median of {reps} calls, GFLOP/s\n", rayon::current_num_threads());
	println!("| shape | rows | weights | packed, AVX2 tile | packed, plain tile (before) | matrixmultiply sgemm |");
	println!("|---|---:|---|---:|---:|---:|");
	let mut rng = SplitMix64::new(7);
	for (name, n, k) in SHAPES {
		let w: Vec<f32> = (0..n * k).map(|_| rng.unit() - 0.5).collect();
		let copies = STREAMED_BYTES.div_ceil(n * k * 4);
		let packed: Vec<PackedMatrix> = (0..copies).map(|_| PackedMatrix::pack(&w, n, k)).collect();
		let raw: Vec<Vec<f32>> = (0..copies).map(|_| w.clone()).collect();
		for &m in &rows {
			let x: Vec<f32> = (0..m * k).map(|_| rng.unit() - 0.5).collect();
			let (mut y, mut plain, mut z) =
				(vec![0f32; m * n], vec![0f32; m * n], vec![0f32; m * n]);
			for (case, cycle) in [("warm", 1), ("streamed", copies)] {
				let mut times = [(); 3].map(|_| Vec::with_capacity(reps));
				for rep in 0..reps * cycle.min(4) {
					let c = rep % cycle;
					let t = Instant::now();
					packed[c].apply(&x, m, &mut y, n, 0);
					times[0].push(t.elapsed().as_secs_f64());
					let c = (rep + 1) % cycle;
					let t = Instant::now();
					packed[c].apply_plain(&x, m, &mut plain, n, 0);
					times[1].push(t.elapsed().as_secs_f64());
					let c = (rep + 2) % cycle;
					let t = Instant::now();
					// SAFETY: x is m × k, raw[c] is n × k (read as its transpose, k × n), z is
					// m × n.
					unsafe {
						matrixmultiply::sgemm(
							m,
							k,
							n,
							1.0,
							x.as_ptr(),
							k as isize,
							1,
							raw[c].as_ptr(),
							1,
							k as isize,
							0.0,
							z.as_mut_ptr(),
							n as isize,
							1,
						);
					}
					times[2].push(t.elapsed().as_secs_f64());
				}
				for other in [&plain, &z] {
					let worst =
						y.iter().zip(other).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
					assert!(worst < 1e-3, "{name} at {m} rows: the kernels differ by {worst}");
				}
				let flops = 2.0 * (m * k * n) as f64;
				let [a, b, c] = times.map(|t| flops / median(t) / 1e9);
				println!("| {name} | {m} | {case} | {a:.1} | {b:.1} | {c:.1} |");
			}
		}
	}

	// Attention of decode rows: the keys and values of 32 rows × 30 layers, each its own
	// cache (as a 32-row decode step of SmolLM2 reads them), on one thread; against the
	// position-at-a-time loops it replaced (the same bits, checked here too).
	let shape = Heads { heads: 9, kv_heads: 3, head_dim: 64 };
	let (q_len, kv_dim, caches) = (576, 192, 32 * 30);
	println!("\nAttention of one decode step's rows (32 rows × 30 layers, 9 query heads over 3 key/value heads of 64 values), one thread, median of {reps} passes, ms\n");
	println!("| cached positions | attend | plain loops (before) |");
	println!("|---:|---:|---:|");
	for positions in [16, 48, 128] {
		let mut cache = |_| (0..positions * kv_dim).map(|_| rng.unit() - 0.5).collect::<Vec<f32>>();
		let (keys, values): (Vec<_>, Vec<_>) = (0..caches).map(|c| (cache(c), cache(c))).unzip();
		let q: Vec<f32> = (0..q_len).map(|_| rng.unit() * 4.0 - 2.0).collect();
		let (mut scores, mut out, mut plain) = (Vec::new(), vec![0f32; q_len], vec![0f32; q_len]);
		let mut times = [(); 2].map(|_| Vec::with_capacity(reps));
		for _ in 0..reps {
			let t = Instant::now();
			for (k, v) in keys.iter().zip(&values) {
				attend(&q, k, v, shape, &mut scores, &mut out);
			}
			times[0].push(t.elapsed().as_secs_f64());
			let t = Instant::now();
			for (k, v) in keys.iter().zip(&values) {
				attend_plain(&q, k, v, shape, &mut scores, &mut plain);
			}
			times[1].push(t.elapsed().as_secs_f64());
		}
		assert!(out.iter().zip(&plain).all(|(a, b)| a.to_bits() == b.to_bits()));
		let [a, b] = times.map(|t| median(t) * 1e3);
		println!("| {positions} | {a:.2} | {b:.2} |");
	}
}
