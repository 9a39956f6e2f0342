//! OpenLoRA serving throughput on the real SmolLM2-135M, mixed-adapter batching against naive
//! per-adapter serving (merge, run alone, restore) on the same workload, in one run.
//!
//! The workload follows S-LoRA's: Poisson arrivals (`--rate` requests/s), each request's adapter
//! drawn from a power law over the adapters (popularity of the k-th ∝ 1/k^alpha, alpha = 1),
//! prompts of 8-64 random tokens and 8-64 output tokens (S-LoRA draws both from one range,
//! 8-512 tokens; here an eighth of it, for a CPU). Adapters are synthetic (rank 8 on q, k,
//! v, o), written as PEFT files to a temporary content-addressed adapters directory; only those
//! the workload draws are written. Both paths read them from there (a cold load each, counted).
//!
//! Time is a virtual clock advanced by measured compute: the engine's steps and adapter waits,
//! or the naive path's requests one after the other (first come, first served); idle gaps jump
//! to the next arrival, so nothing sleeps. Reported per adapter count: requests/s and output
//! tokens/s over the makespan, p50/p99 time to first token (from arrival, queueing included)
//! and p50/p99 time per output token after the first; then the cold load of a rank-16 adapter
//! (disk → host, host → slab slot; the disk read also on its first sight, when the file's hash
//! is checked against the adapter id). The two runs are interleaved in turns of about a second of
//! real time, so that both meet the same stretches of a shared machine whose speed drifts from
//! minute to minute. With `--repeat N` the pair runs N times and the fastest run of each path
//! is reported.
//!
//! ```text
//! cargo run --release -p gpu-worker --example serve_bench -- [MODEL.gguf] [--adapters 1,10,100,1000]
//!     [--requests 64] [--rate 20] [--prompt 8-64] [--output 8-64] [--max-batch 32] [--slots 64]
//!     [--cold-loads 9] [--seed 1] [--repeat 1]
//! ```
//!
//! `SERVE_BENCH_TRACE=1` prints every engine step (time, running, waiting, tokens) to stderr.

use gpu_worker::{
	openlora::{
		adapters::{save_content_addressed, synthetic_adapter, Slab, ADAPTER_VERIFIED},
		AdapterId, AdapterSource, DiskSource, Engine, EngineOptions, Event, NaiveServer, Request,
	},
	train::{rng::SplitMix64, Adapter, BaseFiles, Target},
};
use std::{
	collections::HashMap,
	path::{Path, PathBuf},
	time::{Duration, Instant},
};
use tokio::sync::mpsc::{error::TryRecvError, unbounded_channel, UnboundedReceiver};

const TARGETS: [Target; 4] = [Target::Q, Target::K, Target::V, Target::O];

struct Planned {
	arrival_ms: f64,
	adapter: usize,
	prompt: Vec<u32>,
	max_tokens: u32,
}

#[derive(Default)]
struct Outcome {
	ttft_ms: Vec<f64>,
	tpot_ms: Vec<f64>,
	tokens: u64,
	makespan_ms: f64,
	requests: usize,
}

fn percentile(v: &[f64], p: f64) -> f64 {
	let mut v = v.to_vec();
	v.sort_by(|a, b| a.total_cmp(b));
	if v.is_empty() {
		return f64::NAN;
	}
	let i = ((v.len() - 1) as f64 * p).round() as usize;
	v[i.min(v.len() - 1)]
}

/// Power-law draw of an index below `n`: P(k) ∝ 1 / (k + 1)^alpha.
fn power_law(rng: &mut SplitMix64, cumulative: &[f64]) -> usize {
	let total = cumulative.last().copied().unwrap_or(1.0);
	let u = f64::from(rng.unit()) * total;
	cumulative.partition_point(|c| *c <= u).min(cumulative.len() - 1)
}

/// Lengths drawn uniformly from an inclusive range.
#[derive(Clone, Copy)]
struct Span(usize, usize);

impl Span {
	fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error>> {
		let (low, high) = text.split_once('-').ok_or("a range is LOW-HIGH")?;
		let (low, high) = (low.parse()?, high.parse()?);
		if low == 0 || high < low {
			return Err("a range needs 1 <= LOW <= HIGH".into());
		}
		Ok(Self(low, high))
	}

	fn draw(self, rng: &mut SplitMix64) -> usize {
		self.0 + rng.below(self.1 - self.0 + 1)
	}
}

fn workload(
	n: usize,
	requests: usize,
	rate: f64,
	(prompts, outputs): (Span, Span),
	vocab: usize,
	seed: u64,
) -> Vec<Planned> {
	let mut rng = SplitMix64::derive(seed, &[n as u64]);
	let mut acc = 0.0;
	let cumulative: Vec<f64> = (0..n)
		.map(|k| {
			acc += 1.0 / (k as f64 + 1.0);
			acc
		})
		.collect();
	let mut t = 0.0;
	(0..requests)
		.map(|_| {
			// Exponential gaps: -ln(U) / rate.
			let u = f64::from(rng.unit()).max(1e-9);
			t += -u.ln() / rate * 1e3;
			let len = prompts.draw(&mut rng);
			Planned {
				arrival_ms: t,
				adapter: power_law(&mut rng, &cumulative),
				prompt: (0..len).map(|_| (100 + rng.below(vocab - 100)) as u32).collect(),
				max_tokens: outputs.draw(&mut rng) as u32,
			}
		})
		.collect()
}

struct Live {
	index: usize,
	rx: UnboundedReceiver<Event>,
	first_ms: Option<f64>,
	tokens: u64,
}

/// The mixed-batch run, one engine step at a time.
struct EngineRun<'a> {
	engine: Engine,
	plan: &'a [Planned],
	ids: &'a HashMap<usize, AdapterId>,
	trace: bool,
	clock: f64,
	next: usize,
	live: Vec<Live>,
	out: Outcome,
}

impl<'a> EngineRun<'a> {
	fn new(engine: Engine, plan: &'a [Planned], ids: &'a HashMap<usize, AdapterId>) -> Self {
		Self {
			engine,
			plan,
			ids,
			trace: std::env::var_os("SERVE_BENCH_TRACE").is_some(),
			clock: 0.0,
			next: 0,
			live: Vec::new(),
			out: Outcome { requests: plan.len(), ..Outcome::default() },
		}
	}

	fn done(&self) -> bool {
		self.next >= self.plan.len() && !self.engine.has_work()
	}

	/// Admits what has arrived by the clock and runs one step (or waits for a load).
	fn advance(&mut self) -> Result<(), Box<dyn std::error::Error>> {
		let (plan, engine) = (self.plan, &mut self.engine);
		if !engine.has_work() && self.next < plan.len() {
			self.clock = f64::max(self.clock, plan[self.next].arrival_ms);
		}
		while self.next < plan.len() && plan[self.next].arrival_ms <= self.clock {
			let p = &plan[self.next];
			let (tx, rx) = unbounded_channel();
			let request = Request {
				adapter: self.ids.get(&p.adapter).copied(),
				prompt: p.prompt.clone(),
				max_tokens: p.max_tokens,
				..Request::default()
			};
			engine.add_request(request, tx)?;
			self.live.push(Live { index: self.next, rx, first_ms: None, tokens: 0 });
			self.next += 1;
		}
		let start = Instant::now();
		let ran = engine.step()?;
		if !ran && engine.has_work() {
			engine.wait_for_load(Duration::from_secs(60));
		}
		// Loads run on the engine's loader thread; one still running when the naive path
		// takes its turn would slow that path and drop out of this one's clock. So the step
		// ends with the loads it started: what of them the step did not hide is counted here.
		while engine.loads_pending() {
			engine.wait_for_load(Duration::from_secs(60));
		}
		let ms = start.elapsed().as_secs_f64() * 1e3;
		if self.trace {
			let s = engine.stats();
			eprintln!(
				"step {ran} {ms:.1} ms running {} waiting {} tokens {}",
				s.running, s.waiting, s.tokens
			);
		}
		self.clock += ms;
		let (clock, out) = (self.clock, &mut self.out);
		self.live.retain_mut(|l| loop {
			match l.rx.try_recv() {
				Ok(Event::Token { .. }) => {
					l.tokens += 1;
					l.first_ms.get_or_insert(clock);
				}
				Ok(Event::Done { .. }) => {
					let arrival = plan[l.index].arrival_ms;
					let first = l.first_ms.unwrap_or(clock);
					out.ttft_ms.push(first - arrival);
					if l.tokens > 1 {
						out.tpot_ms.push((clock - first) / (l.tokens - 1) as f64);
					}
					out.tokens += l.tokens;
					out.makespan_ms = out.makespan_ms.max(clock);
					return false;
				}
				Ok(Event::Error(e)) => {
					eprintln!("request {} failed: {e}", l.index);
					return false;
				}
				Err(TryRecvError::Empty) => return true,
				Err(TryRecvError::Disconnected) => return false,
			}
		});
		Ok(())
	}
}

/// The naive run, one request at a time (first come, first served).
struct NaiveRun<'a> {
	naive: &'a mut NaiveServer,
	plan: &'a [Planned],
	ids: &'a HashMap<usize, AdapterId>,
	source: DiskSource,
	config: &'a gpu_worker::model::LlamaConfig,
	parsed: HashMap<AdapterId, Adapter>,
	clock: f64,
	next: usize,
	out: Outcome,
}

impl<'a> NaiveRun<'a> {
	fn done(&self) -> bool {
		self.next >= self.plan.len()
	}

	/// Serves the next request.
	fn advance(&mut self) -> Result<(), Box<dyn std::error::Error>> {
		let Some(p) = self.plan.get(self.next) else { return Ok(()) };
		self.next += 1;
		self.clock = self.clock.max(p.arrival_ms);
		let start = Instant::now();
		let adapter = match self.ids.get(&p.adapter) {
			Some(id) => {
				if !self.parsed.contains_key(id) {
					self.parsed.insert(*id, self.source.load(*id, self.config)?);
				}
				self.parsed.get(id)
			}
			None => None,
		};
		let request =
			Request { prompt: p.prompt.clone(), max_tokens: p.max_tokens, ..Request::default() };
		let done = self.naive.serve(adapter, &request)?;
		let elapsed = start.elapsed().as_secs_f64() * 1e3;
		// First token: loading and merging included.
		let first = self.clock + elapsed - done.total_ms + done.first_token_ms;
		self.clock += elapsed;
		let out = &mut self.out;
		out.ttft_ms.push(first - p.arrival_ms);
		let n = done.tokens.len() as u64;
		if n > 1 {
			out.tpot_ms.push((self.clock - first) / (n - 1) as f64);
		}
		out.tokens += n;
		out.makespan_ms = self.clock;
		Ok(())
	}
}

/// Both runs on the same workload, interleaved in turns of about a second of real time:
/// whichever has used less so far goes next, so that the two spend the run's minutes side by
/// side and a slower stretch of this machine slows both alike. (Turns much shorter than that
/// cost the naive path about a tenth of its speed: each switch leaves the other side's
/// threads spinning for a while.)
fn run_both(mixed: &mut EngineRun, alone: &mut NaiveRun) -> Result<(), Box<dyn std::error::Error>> {
	const TURN_S: f64 = 1.0;
	let (mut mixed_s, mut alone_s) = (0.0, 0.0);
	while !mixed.done() || !alone.done() {
		let mixed_turn = !mixed.done() && (alone.done() || mixed_s <= alone_s);
		let start = Instant::now();
		loop {
			match mixed_turn {
				true if !mixed.done() => mixed.advance()?,
				false if !alone.done() => alone.advance()?,
				_ => break,
			}
			if start.elapsed().as_secs_f64() >= TURN_S {
				break;
			}
		}
		let spent = start.elapsed().as_secs_f64();
		match mixed_turn {
			true => mixed_s += spent,
			false => alone_s += spent,
		}
	}
	Ok(())
}

fn row(adapters: usize, path: &str, o: &Outcome, speedup: Option<f64>) -> String {
	let secs = o.makespan_ms / 1e3;
	format!(
		"| {adapters} | {path} | {:.2} | {:.1} | {:.0} | {:.0} | {:.1} | {:.1} | {} |",
		o.requests as f64 / secs,
		o.tokens as f64 / secs,
		percentile(&o.ttft_ms, 0.5),
		percentile(&o.ttft_ms, 0.99),
		percentile(&o.tpot_ms, 0.5),
		percentile(&o.tpot_ms, 0.99),
		speedup.map(|s| format!("{s:.1}x")).unwrap_or_else(|| "1.0x".into()),
	)
}

fn write_adapters(
	dir: &Path,
	plan: &[Planned],
	n: usize,
	config: &gpu_worker::model::LlamaConfig,
) -> Result<HashMap<usize, AdapterId>, Box<dyn std::error::Error>> {
	let mut ids = HashMap::new();
	for p in plan {
		if ids.contains_key(&p.adapter) {
			continue;
		}
		let seed = (n as u64) << 32 | p.adapter as u64;
		let adapter = synthetic_adapter(config, 8, &TARGETS, 0.05, seed)?;
		ids.insert(p.adapter, save_content_addressed(dir, &adapter, config, "SmolLM2")?);
	}
	Ok(ids)
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
	let counts: Vec<usize> = opt("--adapters")
		.unwrap_or_else(|| "1,10,100,1000".into())
		.split(',')
		.map(|s| s.parse())
		.collect::<Result<_, _>>()?;
	let requests: usize = opt("--requests").map(|r| r.parse()).transpose()?.unwrap_or(64);
	let rate: f64 = opt("--rate").map(|r| r.parse()).transpose()?.unwrap_or(20.0);
	let prompts = Span::parse(&opt("--prompt").unwrap_or_else(|| "8-64".into()))?;
	let outputs = Span::parse(&opt("--output").unwrap_or_else(|| "8-64".into()))?;
	let max_batch: usize = opt("--max-batch").map(|r| r.parse()).transpose()?.unwrap_or(32);
	let slots: usize = opt("--slots").map(|r| r.parse()).transpose()?.unwrap_or(64);
	let cold_loads: usize = opt("--cold-loads").map(|r| r.parse()).transpose()?.unwrap_or(9);
	let seed: u64 = opt("--seed").map(|r| r.parse()).transpose()?.unwrap_or(1);
	let repeat: usize = opt("--repeat").map(|r| r.parse()).transpose()?.unwrap_or(1);
	let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);

	let base = BaseFiles::open(&path)?;
	let config = base.config.clone();
	let root = tempfile::tempdir()?;
	let mut naive = NaiveServer::new(config.clone(), &base.weights, threads)?;
	let mut lines = Vec::new();
	for &n in &counts {
		let plan = workload(n, requests, rate, (prompts, outputs), config.vocab_size, seed);
		let dir = root.path().join(format!("adapters-{n}"));
		let ids = write_adapters(&dir, &plan, n, &config)?;
		eprintln!("{n} adapters: {} drawn by {} requests", ids.len(), plan.len());
		let options = EngineOptions {
			max_batch,
			max_prefill_tokens: 256,
			slab_slots: slots,
			max_rank: 16,
			host_cache_bytes: 512 << 20,
			adapters_dir: dir.clone(),
			store: None,
			threads,
		};
		// Both paths `repeat` times, interleaved; the fastest run of each is kept.
		let (mut mixed, mut alone): (Option<Outcome>, Option<Outcome>) = (None, None);
		for _ in 0..repeat {
			// A fresh engine each time: every adapter is loaded cold again (the naive path
			// reads each adapter from disk once a run, too).
			let engine = Engine::new(config.clone(), &base.weights, options.clone())?;
			let mut engine_run = EngineRun::new(engine, &plan, &ids);
			let mut naive_run = NaiveRun {
				naive: &mut naive,
				plan: &plan,
				ids: &ids,
				source: DiskSource::new(&dir, None),
				config: &config,
				parsed: HashMap::new(),
				clock: 0.0,
				next: 0,
				out: Outcome { requests: plan.len(), ..Outcome::default() },
			};
			run_both(&mut engine_run, &mut naive_run)?;
			let stats = engine_run.engine.stats();
			let (run, alone_run) = (engine_run.out, naive_run.out);
			eprintln!("  mixed: {:.1} s, {stats:?}", run.makespan_ms / 1e3);
			eprintln!("  naive: {:.1} s", alone_run.makespan_ms / 1e3);
			if mixed.as_ref().is_none_or(|m| run.makespan_ms < m.makespan_ms) {
				mixed = Some(run);
			}
			if alone.as_ref().is_none_or(|a| alone_run.makespan_ms < a.makespan_ms) {
				alone = Some(alone_run);
			}
		}
		let (Some(mixed), Some(alone)) = (mixed, alone) else { return Err("--repeat 0".into()) };
		let speedup =
			(mixed.tokens as f64 / mixed.makespan_ms) / (alone.tokens as f64 / alone.makespan_ms);
		lines.push(row(n, "mixed batch (OpenLoRA)", &mixed, Some(speedup)));
		lines.push(row(n, "naive (merge, run, restore)", &alone, None));
	}

	// Cold load of rank-16 adapters: disk (read, parse; the hash check on first sight) → host,
	// host → slab slot.
	let dir = root.path().join("cold");
	let source = DiskSource::new(&dir, None);
	let mut slab = Slab::new(&config, 2, 16);
	let (mut checked_ms, mut disk_ms, mut slot_ms, mut bytes) =
		(Vec::new(), Vec::new(), Vec::new(), 0);
	for i in 0..cold_loads {
		let adapter = synthetic_adapter(&config, 16, &TARGETS, 0.05, 9_000 + i as u64)?;
		let id = save_content_addressed(&dir, &adapter, &config, "SmolLM2")?;
		let adapter_dir = DiskSource::adapter_dir(&dir, id);
		bytes = std::fs::metadata(adapter_dir.join("adapter_model.safetensors"))?.len();
		// First sight: no stamp, so the load hashes the file (and stamps it).
		std::fs::remove_file(adapter_dir.join(ADAPTER_VERIFIED))?;
		let start = Instant::now();
		drop(source.load(id, &config)?);
		checked_ms.push(start.elapsed().as_secs_f64() * 1e3);
		// Stamped: what every later cold load of that file costs.
		let start = Instant::now();
		let loaded = source.load(id, &config)?;
		disk_ms.push(start.elapsed().as_secs_f64() * 1e3);
		let start = Instant::now();
		slab.install(i % 2, id, &loaded, i as u64)?;
		slot_ms.push(start.elapsed().as_secs_f64() * 1e3);
	}

	println!(
		"SmolLM2-135M-Instruct (f32 on CPU, {threads} threads), {requests} requests per row at \
		 {rate} req/s (Poisson), power-law adapter popularity (alpha 1), prompts {}-{} tokens, \
		 outputs {}-{} tokens, rank-8 adapters on q,k,v,o, max batch {max_batch}, {slots} slab slots.\n",
		prompts.0, prompts.1, outputs.0, outputs.1
	);
	println!("| adapters | path | req/s | output tok/s | TTFT p50 (ms) | TTFT p99 (ms) | per-token p50 (ms) | per-token p99 (ms) | throughput vs naive |");
	println!("|---|---|---|---|---|---|---|---|---|");
	for line in lines {
		println!("{line}");
	}
	println!(
		"\nCold load of a rank-16 adapter (q,k,v,o; {:.1} MiB of safetensors), p50 over {cold_loads}: disk → host {:.1} ms (its first load, hash checked: {:.1} ms), host → slab slot {:.1} ms, total {:.1} ms.",
		bytes as f64 / (1 << 20) as f64,
		percentile(&disk_ms, 0.5),
		percentile(&checked_ms, 0.5),
		percentile(&slot_ms, 0.5),
		percentile(&disk_ms.iter().zip(&slot_ms).map(|(a, b)| a + b).collect::<Vec<_>>(), 0.5),
	);
	Ok(())
}
