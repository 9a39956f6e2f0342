//! Training-engine throughput on the real SmolLM2-135M, side by side in one run:
//!
//! - the plain-Rust reference forward pass (one token at a time with a KV cache),
//! - the burn forward pass over the whole window (CPU backend),
//! - one LoRA training example: burn forward + backward (rank 8 on q, k, v, o),
//! - a whole `train()` run (steps of 4 examples, held-out evaluation included).
//!
//! ```text
//! cargo run --release -p gpu-worker --example train_bench -- [MODEL.gguf] [--seq 64,128] [--repeat 3]
//! ```
//!
//! Prints a Markdown table (median of the repeats) for docs/PERFORMANCE.md.

use gpu_worker::{
	model::{gguf::GgufFile, reference::ReferenceModel},
	train::{
		self, data::Document, trainer::lora_tensors, Adapter, BaseFiles, CpuTrain, Dataset,
		LoraConfig, Target, TrainConfig,
	},
};
use std::{path::PathBuf, time::Instant};

fn median(mut v: Vec<f64>) -> f64 {
	v.sort_by(|a, b| a.total_cmp(b));
	v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let args: Vec<String> = std::env::args().skip(1).collect();
	let opt =
		|name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
	let path = args
		.first()
		.filter(|a| !a.starts_with("--"))
		.map(PathBuf::from)
		.unwrap_or_else(gpu_worker::model::smollm2_path);
	let seqs: Vec<usize> = opt("--seq")
		.unwrap_or_else(|| "64,128".into())
		.split(',')
		.map(|s| s.parse())
		.collect::<Result<_, _>>()?;
	let repeat: usize = opt("--repeat").map(|r| r.parse()).transpose()?.unwrap_or(3);
	let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);

	let base = BaseFiles::open(&path)?;
	let model = base.to_device::<CpuTrain>(&Default::default())?;
	let mut reference = ReferenceModel::load(&GgufFile::open(&path)?)?;
	let lora = LoraConfig {
		rank: 8,
		alpha: 16,
		dropout: 0.0,
		targets: vec![Target::Q, Target::K, Target::V, Target::O],
	};
	let adapter = Adapter::init(lora.clone(), &base.config, 1)?;
	let text =
		"The keeper of the northern lighthouse wrote in her log every evening: the wind, the \
		ships that passed, the colour of the sea, and the names of the birds that rested on the rail. "
			.repeat(20);
	let all_tokens = base.tokenizer.encode(&text);

	println!(
		"SmolLM2-135M-Instruct (Q4_1 dequantized to f32), {threads} threads, median of {repeat}\n"
	);
	println!("| tokens | reference forward (tok/s) | burn forward (tok/s) | LoRA fwd+bwd, 1 example (tok/s) |");
	println!("|---:|---:|---:|---:|");
	for &seq in &seqs {
		let tokens = &all_tokens[..seq.min(all_tokens.len())];
		let (mut r, mut f, mut t) = (Vec::new(), Vec::new(), Vec::new());
		for _ in 0..repeat {
			let start = Instant::now();
			reference.reset();
			for (pos, tok) in tokens.iter().enumerate() {
				reference.logits(*tok, pos)?;
			}
			r.push(tokens.len() as f64 / start.elapsed().as_secs_f64());

			let start = Instant::now();
			train::host(model.forward(tokens, None, None)?)?;
			f.push(tokens.len() as f64 / start.elapsed().as_secs_f64());

			let start = Instant::now();
			let tensors = lora_tensors::<CpuTrain>(&adapter, &Default::default(), true);
			let loss = model.loss(tokens, Some(&tensors), None)?;
			let grads = loss.backward();
			for pair in tensors.blocks.iter().flatten().flatten() {
				train::host(pair.a.grad(&grads).ok_or("no gradient")?)?;
				train::host(pair.b.grad(&grads).ok_or("no gradient")?)?;
			}
			t.push((tokens.len() - 1) as f64 / start.elapsed().as_secs_f64());
		}
		println!("| {} | {:.0} | {:.0} | {:.0} |", tokens.len(), median(r), median(f), median(t));
	}

	// A whole run: 24 documents, 10 steps of 4 examples, held-out eval before and after.
	let documents: Vec<Document> = (0..24u64)
		.map(|i| {
			let text = format!(
				"Log {i}: at {} o'clock the keeper saw {} ships and a {} sea.",
				i % 12 + 1,
				i * 3 % 7,
				["grey", "green", "calm"][i as usize % 3]
			);
			Document { contribution: i, hash: sp_crypto_hashing::blake2_256(text.as_bytes()), text }
		})
		.collect();
	let data = Dataset::build(documents, &base.tokenizer, 64, 100);
	let config = TrainConfig {
		lora,
		learning_rate: 1e-3,
		warmup_steps: 2,
		steps: 10,
		batch_size: 1,
		grad_accum: 4,
		seq_len: 64,
		heldout_permille: 100,
		seed: 1,
		adamw: Default::default(),
		max_grad_norm: 1.0,
	};
	let (_, report) = train::train(&model, &data, &config, &mut ())?;
	let tokens: usize = report.steps.iter().map(|s| s.tokens).sum();
	let train_ms = report.steps.last().map(|s| s.elapsed_ms).unwrap_or(0) as f64;
	println!(
		"\nwhole run: {} steps x 4 examples, {tokens} training tokens, {:.1} s in all ({:.0} training tok/s incl. the eval before), held-out loss {:.3} -> {:.3}",
		report.steps.len(),
		report.seconds,
		tokens as f64 / (train_ms / 1000.0),
		report.before.loss,
		report.after.loss
	);
	Ok(())
}
