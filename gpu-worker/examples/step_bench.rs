//! One batched step of OpenLoRA's forward pass on the real SmolLM2-135M, by what the step holds:
//! decode steps of 1 to 64 rows (each row its own sequence with 48 cached positions and its own
//! rank-8 adapter on q, k, v, o) and prefill steps of 64 to 256 prompt tokens (prompts of 32
//! tokens, an adapter each). Reports the fastest and the median of `--reps` steps (the fastest
//! is the least disturbed by other work on the machine), the milliseconds per row, and the
//! GFLOP/s of the step's projections (`2 · parameters` per row, the output head only for rows
//! whose logits the step returns).
//!
//! ```text
//! cargo run --release -p gpu-worker --example step_bench -- [MODEL.gguf] [--reps 9]
//! ```

use gpu_worker::{
	openlora::{
		adapters::{synthetic_adapter, Slab},
		model::{BatchModel, KvCache, Row, Scratch},
		AdapterId,
	},
	train::{BaseFiles, Target},
};
use std::{path::PathBuf, time::Instant};

const CONTEXT: usize = 48;
const PROMPT: usize = 32;

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let args: Vec<String> = std::env::args().skip(1).collect();
	let opt =
		|name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
	let path = args
		.first()
		.filter(|a| !a.starts_with("--"))
		.map(PathBuf::from)
		.unwrap_or_else(gpu_worker::model::smollm2_path);
	let reps: usize = opt("--reps").map(|r| r.parse()).transpose()?.unwrap_or(9);
	let base = BaseFiles::open(&path)?;
	let config = base.config.clone();
	let model = BatchModel::new(config.clone(), &base.weights)?;
	let slots = 64;
	let mut slab = Slab::new(&config, slots, 8);
	let targets = [Target::Q, Target::K, Target::V, Target::O];
	for s in 0..slots {
		let adapter = synthetic_adapter(&config, 8, &targets, 0.05, s as u64)?;
		slab.install(s, AdapterId::from([s as u8; 32]), &adapter, 0)?;
	}
	let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
	let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
	let (dim, ffn, vocab, layers) = (
		config.embedding_length,
		config.feed_forward_length,
		config.vocab_size,
		config.block_count,
	);
	let kv = config.kv_dim();
	let per_row = 2.0 * (layers * (2 * dim * dim + 2 * kv * dim + 3 * ffn * dim)) as f64;
	let head = 2.0 * (vocab * dim) as f64;
	println!("{threads} threads, fastest and median of {reps} steps\n");
	println!("| step | rows | fastest (ms) | median (ms) | ms per row | GFLOP/s (fastest) |");
	println!("|---|---:|---:|---:|---:|---:|");
	let mut scratch = Scratch::default();
	let cases: Vec<(&str, usize)> = [1, 4, 8, 16, 32, 64]
		.into_iter()
		.map(|n| ("decode", n))
		.chain([2, 4, 8].into_iter().map(|n| ("prefill", n)))
		.collect();
	for (kind, n) in cases {
		let decode = kind == "decode";
		// n sequences, each with its cached context (decode) or empty (prefill).
		let mut caches: Vec<KvCache> = (0..n).map(|_| KvCache::new(layers)).collect();
		if decode {
			let rows = prompt_rows(n, CONTEXT, 100, 7, slots, false);
			let mut refs: Vec<&mut KvCache> = caches.iter_mut().collect();
			pool.install(|| model.forward_with(&rows, &mut refs, Some(&slab), &mut scratch))?;
		}
		let rows: Vec<Row> = match decode {
			true => (0..n)
				.map(|seq| Row {
					seq,
					token: 200 + seq as u32,
					pos: CONTEXT,
					slot: Some(seq % slots),
					prefill: false,
					logits: true,
				})
				.collect(),
			false => prompt_rows(n, PROMPT, 300, 5, slots, true),
		};
		let mut times = Vec::with_capacity(reps);
		for _ in 0..reps {
			// Each step from the same caches: the rows' keys and values are dropped after it.
			let mut step_caches = caches.clone();
			for cache in &mut step_caches {
				cache.reserve(cache.len() + PROMPT, config.kv_dim());
			}
			let mut refs: Vec<&mut KvCache> = step_caches.iter_mut().collect();
			let start = Instant::now();
			pool.install(|| model.forward_with(&rows, &mut refs, Some(&slab), &mut scratch))?;
			times.push(start.elapsed().as_secs_f64() * 1e3);
		}
		times.sort_by(f64::total_cmp);
		let (fastest, median) = (times[0], times[times.len() / 2]);
		let logits = rows.iter().filter(|r| r.logits).count();
		let flops = per_row * rows.len() as f64 + head * logits as f64;
		println!(
			"| {kind} | {} | {fastest:.1} | {median:.1} | {:.2} | {:.0} |",
			rows.len(),
			fastest / rows.len() as f64,
			flops / fastest / 1e6
		);
	}
	Ok(())
}

/// Prefill rows of `n` sequences of `len` tokens from position 0 (token `base + stride · seq +
/// pos`, sequence `seq` with adapter slot `seq % slots`), with the last row's logits when
/// `logits`.
fn prompt_rows(
	n: usize,
	len: usize,
	base: usize,
	stride: usize,
	slots: usize,
	logits: bool,
) -> Vec<Row> {
	(0..n)
		.flat_map(|seq| {
			(0..len).map(move |pos| Row {
				seq,
				token: (base + stride * seq + pos) as u32,
				pos,
				slot: Some(seq % slots),
				prefill: true,
				logits: logits && pos + 1 == len,
			})
		})
		.collect()
}
