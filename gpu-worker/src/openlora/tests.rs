//! OpenLoRA on a tiny random Model: the kernels against plain loops, mixed batches against the
//! merged-weights reference (logits and greedy tokens), the adapter tiers (slab LRU, pinning,
//! host bound, disk and store with hash checks), loads that do not block the batch, and the
//! threaded handle.

use super::{
	adapters::{
		file_stamp, save_content_addressed, AdapterSource, DiskSource, HostCache, Slab,
		ADAPTER_VERIFIED,
	},
	engine::{choose, Engine},
	kernels::{bgmv, sgmv, LoraView, PackedMatrix},
	model::{BatchModel, KvCache, Row},
	naive::NaiveServer,
	AdapterId, EngineHandle, EngineOptions, Event, FinishReason, Request, ServeError, Tier,
};
use crate::{
	model::{
		reference::{ReferenceModel, Weights},
		testing::tiny_llama,
		LlamaConfig,
	},
	train::{
		lora::{Adapter, LoraConfig, Target},
		rng::SplitMix64,
	},
};
use std::{
	collections::HashMap,
	io::{Read, Write},
	sync::{mpsc, Arc, Mutex},
	time::Duration,
};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

/// A random tiny Llama with a 97-token vocabulary.
fn tiny(seed: u64) -> (LlamaConfig, Weights) {
	let mut rng = SplitMix64::new(seed);
	tiny_llama(97, move || rng.uniform(-0.3, 0.3))
}

/// An adapter with non-zero `b` (a fresh one is an exact no-op).
fn busy(config: &LlamaConfig, rank: u16, targets: &[Target], seed: u64) -> Adapter {
	let lora = LoraConfig { rank, alpha: 2 * rank, dropout: 0.0, targets: targets.to_vec() };
	let mut adapter = Adapter::init(lora, config, seed).unwrap();
	let mut rng = SplitMix64::new(seed ^ 0xb);
	for w in adapter.blocks.iter_mut().flatten().flatten() {
		w.b.iter_mut().for_each(|v| *v = rng.uniform(-0.3, 0.3));
	}
	adapter
}

fn id_of(adapter: &Adapter, config: &LlamaConfig) -> AdapterId {
	AdapterId::from(sp_crypto_hashing::blake2_256(&adapter.to_safetensors(config)))
}

fn merged(weights: &Weights, adapter: Option<&Adapter>) -> Weights {
	let mut w = weights.clone();
	if let Some(a) = adapter {
		a.merge_into(&mut w);
	}
	w
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
	assert_eq!(a.len(), b.len());
	a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Adapters held in memory; loads of ids in `gated` wait for a message on the gate first.
#[derive(Default)]
struct MemorySource {
	adapters: HashMap<AdapterId, Adapter>,
	gated: Vec<AdapterId>,
	gate: Option<Mutex<mpsc::Receiver<()>>>,
}

impl AdapterSource for MemorySource {
	fn load(&self, id: AdapterId, _: &LlamaConfig) -> Result<Adapter, ServeError> {
		if self.gated.contains(&id) {
			if let Some(gate) = &self.gate {
				gate.lock().unwrap().recv().unwrap();
			}
		}
		self.adapters.get(&id).cloned().ok_or(ServeError::UnknownAdapter(id))
	}
}

fn options(slots: usize, max_batch: usize, max_prefill: usize) -> EngineOptions {
	EngineOptions {
		max_batch,
		max_prefill_tokens: max_prefill,
		slab_slots: slots,
		max_rank: 8,
		host_cache_bytes: 1 << 20,
		adapters_dir: std::env::temp_dir().join("openlora-unused"),
		store: None,
		threads: 2,
	}
}

fn request(adapter: Option<AdapterId>, prompt: &[u32], max_tokens: u32) -> Request {
	Request { adapter, prompt: prompt.to_vec(), max_tokens, ..Request::default() }
}

/// The tokens and the final event of a finished request's stream.
fn collect(rx: &mut UnboundedReceiver<Event>) -> (Vec<u32>, Event) {
	let mut tokens = Vec::new();
	loop {
		match rx.try_recv().expect("the stream ended without Done or Error") {
			Event::Token { id } => tokens.push(id),
			last => return (tokens, last),
		}
	}
}

#[test]
fn the_packed_kernel_and_low_rank_merge_match_plain_loops() {
	// Every row count up to two AVX2 tiles and a rest (1 row: split accumulators; 7 and 8:
	// two short tiles; 13: 6 + 6 + 1), 13 inputs (not a multiple of the row kernel's 4 steps);
	// 149 outputs: nine full panels and a padded one, so that one thread takes several panels
	// and prefetches the next.
	let (k, n, ldy, off) = (13, 149, 155, 3);
	let mut rng = SplitMix64::new(1);
	let w: Vec<f32> = (0..n * k).map(|_| rng.uniform(-1.0, 1.0)).collect();
	let packed = PackedMatrix::pack(&w, n, k);
	assert_eq!(packed.get(148, 12), Some(w[148 * k + 12]));
	assert_eq!(packed.get(149, 0), None);
	let pools = [1, 3].map(|t| rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap());
	for (m, pool, plain) in (1..=14).flat_map(|m| {
		pools.iter().flat_map(move |pool| [false, true].map(|plain| (m, pool, plain)))
	}) {
		let x: Vec<f32> = (0..m * k).map(|_| rng.uniform(-1.0, 1.0)).collect();
		let before: Vec<f32> = (0..m * ldy).map(|_| rng.uniform(-1.0, 1.0)).collect();
		let mut y = before.clone();
		match plain {
			true => pool.install(|| packed.apply_plain(&x, m, &mut y, ldy, off)),
			false => pool.install(|| packed.apply(&x, m, &mut y, ldy, off)),
		}
		for i in 0..m {
			for j in 0..ldy {
				let expected = match (off..off + n).contains(&j) {
					true => (0..k).map(|p| x[i * k + p] * w[(j - off) * k + p]).sum::<f32>(),
					// Columns outside the window are left alone.
					false => before[i * ldy + j],
				};
				assert!(
					(y[i * ldy + j] - expected).abs() < 1e-4,
					"{m} rows, plain {plain}: ({i}, {j})"
				);
			}
		}
	}
	// W += 0.5 · P · Q with P = 149 × 2 (column-major) and Q = 2 × 13 (row-major).
	let p: Vec<f32> = (0..n * 2).map(|_| rng.uniform(-1.0, 1.0)).collect();
	let q: Vec<f32> = (0..2 * k).map(|_| rng.uniform(-1.0, 1.0)).collect();
	let mut merged = packed.clone();
	merged.add_low_rank(0.5, 2, &p, 1, n, &q, k, 1);
	for o in 0..n {
		for i in 0..k {
			let delta: f32 = (0..2).map(|r| p[r * n + o] * q[r * k + i]).sum();
			let expected = w[o * k + i] + 0.5 * delta;
			assert!((merged.get(o, i).unwrap() - expected).abs() < 1e-5, "({o}, {i})");
		}
	}
}

/// [`bgmv`] and [`sgmv`] of slots with ranks 2, 8 and 0 over `row_slots` against a plain
/// loop; returns `(y before, y after bgmv)`.
fn check_lora_kernels(
	input: usize,
	output: usize,
	row_slots: &[Option<usize>],
	seed: u64,
) -> (Vec<f32>, Vec<f32>) {
	let (max_rank, slots) = (8, 3);
	let mut rng = SplitMix64::new(seed);
	// Every value set, padding rows included: a kernel that reads past a slot's rank is wrong.
	let a: Vec<f32> = (0..slots * max_rank * input).map(|_| rng.uniform(-1.0, 1.0)).collect();
	let b: Vec<f32> = (0..slots * max_rank * output).map(|_| rng.uniform(-1.0, 1.0)).collect();
	let ranks = [2, 8, 0];
	let scales = [0.5, 2.0, 1.0];
	let view = LoraView { a: &a, b: &b, input, output, max_rank, ranks: &ranks, scales: &scales };
	let rows = row_slots.len();
	let x: Vec<f32> = (0..rows * input).map(|_| rng.uniform(-1.0, 1.0)).collect();
	let (ldy, off) = (output + 3, 2);
	let y0: Vec<f32> = (0..rows * ldy).map(|_| rng.uniform(-1.0, 1.0)).collect();
	let mut expected = y0.clone();
	for (i, slot) in row_slots.iter().enumerate() {
		let Some(s) = *slot else { continue };
		let xa: Vec<f32> = (0..ranks[s])
			.map(|r| (0..input).map(|p| x[i * input + p] * a[(s * max_rank + r) * input + p]).sum())
			.collect();
		for o in 0..output {
			let sum: f32 =
				xa.iter().enumerate().map(|(r, xa)| xa * b[(s * max_rank + r) * output + o]).sum();
			expected[i * ldy + off + o] += scales[s] * sum;
		}
	}
	let mut by_row = y0.clone();
	bgmv(&view, &x, row_slots, &mut by_row, ldy, off);
	let mut by_segment = y0.clone();
	sgmv(&view, &x, row_slots, &mut by_segment, ldy, off);
	let tolerance = 1e-5 * (input as f32).sqrt();
	let (d_row, d_segment) = (max_diff(&by_row, &expected), max_diff(&by_segment, &expected));
	assert!(d_row < tolerance, "bgmv {d_row} ({input} × {output})");
	assert!(d_segment < tolerance, "sgmv {d_segment} ({input} × {output})");
	(y0, by_row)
}

#[test]
fn bgmv_and_sgmv_match_a_plain_loop_with_unequal_ranks() {
	// Runs of one adapter (SGMV's segments), an adapter in two runs, rows without one.
	let row_slots = [Some(0), Some(1), None, Some(1), Some(1), Some(2), Some(0), Some(0), Some(1)];
	let (y0, by_row) = check_lora_kernels(7, 5, &row_slots, 2);
	let ldy = 5 + 3;
	// The row without an adapter and the rank-0 slot's row are untouched; the others changed.
	for i in [2, 5] {
		assert_eq!(by_row[i * ldy..(i + 1) * ldy], y0[i * ldy..(i + 1) * ldy]);
	}
	assert!(max_diff(&by_row[..ldy], &y0[..ldy]) > 1e-3);
	// Enough work that both kernels split it over threads (40 rows, 1,024 → 1,024).
	let row_slots: Vec<Option<usize>> =
		(0..40).map(|i| [Some(1), Some(1), Some(0), None, Some(1)][i % 5]).collect();
	let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
	pool.install(|| check_lora_kernels(1024, 1024, &row_slots, 3));
}

#[test]
fn mixed_batch_logits_match_the_merged_reference() {
	let (config, weights) = tiny(3);
	let adapters = [
		busy(&config, 2, &[Target::Q, Target::V], 11),
		busy(&config, 4, &[Target::K, Target::O, Target::Gate], 12),
		busy(&config, 8, &Target::ALL, 13),
	];
	let mut slab = Slab::new(&config, 4, 8);
	for (s, a) in adapters.iter().enumerate() {
		slab.install(s, id_of(a, &config), a, 0).unwrap();
	}
	let model = BatchModel::new(config.clone(), &weights).unwrap();
	// Four sequences: the three adapters and the base Model, prompts of different lengths.
	let prompts: [&[u32]; 4] = [&[5, 9, 13], &[1, 2, 3, 4, 5], &[40, 41], &[7, 8, 9, 10]];
	let slots = [Some(0), Some(1), Some(2), None];
	let mut caches: Vec<KvCache> = (0..4).map(|_| KvCache::new(2)).collect();
	let mut references: Vec<ReferenceModel> = (0..4)
		.map(|i| {
			ReferenceModel::new(config.clone(), merged(&weights, slots[i].map(|s| &adapters[s])))
		})
		.collect();
	let mut worst = 0f32;
	// Step 1 prefills every prompt (SGMV); then three decode steps (BGMV), the base row in
	// the middle of the batch.
	for step in 0..4 {
		let mut rows = Vec::new();
		for (seq, prompt) in prompts.iter().enumerate() {
			let tokens: Vec<u32> = match step {
				0 => prompt.to_vec(),
				_ => vec![(step * 17 + seq * 3) as u32 % 97],
			};
			let start = caches[seq].len();
			for (i, token) in tokens.into_iter().enumerate() {
				rows.push(Row {
					seq,
					token,
					pos: start + i,
					slot: slots[seq],
					prefill: step == 0,
					logits: true,
				});
			}
		}
		let mut refs: Vec<&mut KvCache> = caches.iter_mut().collect();
		let logits = model.forward(&rows, &mut refs, Some(&slab)).unwrap();
		assert_eq!(logits.len(), rows.len());
		for (row, ours) in rows.iter().zip(&logits) {
			let theirs = references[row.seq].logits(row.token, row.pos).unwrap();
			worst = worst.max(max_diff(ours, &theirs));
		}
	}
	assert!(worst < 1e-4, "max |batched - merged reference| = {worst}");
	// The adapters matter: the base Model's logits differ from an adapted sequence's.
	let mut base = ReferenceModel::new(config.clone(), weights.clone());
	let mut adapted = ReferenceModel::new(config, merged(&weights, Some(&adapters[1])));
	assert!(max_diff(&base.logits(3, 0).unwrap(), &adapted.logits(3, 0).unwrap()) > 1e-2);
}

#[test]
fn mixed_batch_generates_the_merged_reference_tokens() {
	let (config, weights) = tiny(4);
	let adapters = [
		busy(&config, 2, &[Target::Q, Target::V], 21),
		busy(&config, 4, &[Target::K, Target::O, Target::Gate], 22),
		busy(&config, 8, &[Target::Up, Target::Down, Target::Q], 23),
	];
	let ids: Vec<AdapterId> = adapters.iter().map(|a| id_of(a, &config)).collect();
	let source = MemorySource {
		adapters: ids.iter().copied().zip(adapters.iter().cloned()).collect(),
		..Default::default()
	};
	// Two slots for three adapters (evictions), four places in the batch for seven requests
	// (they wait), five prompt tokens a step (prompts prefill in chunks).
	let mut engine =
		Engine::with_source(config.clone(), &weights, options(2, 4, 5), Arc::new(source), None)
			.unwrap();
	let requests = [
		request(Some(ids[0]), &[5, 9, 13], 7),
		request(Some(ids[1]), &[1, 2, 3, 4, 5, 6, 7, 8], 5),
		request(None, &[40, 41], 6),
		request(Some(ids[2]), &[7, 8, 9, 10], 8),
		request(Some(ids[0]), &[60], 4),
		request(Some(ids[2]), &[3, 3, 3, 3, 3, 3], 6),
		request(Some(ids[1]), &[90, 2], 9),
	];
	let mut streams = Vec::new();
	let mut submitted = 0;
	// Requests join at different steps, while others are running.
	for (step, joining) in [(0, 3), (2, 2), (4, 2)] {
		while engine.stats().steps < step {
			if !engine.step().unwrap() {
				assert!(engine.wait_for_load(Duration::from_secs(10)), "a load never finished");
			}
		}
		for r in &requests[submitted..submitted + joining] {
			let (tx, rx) = unbounded_channel();
			engine.add_request(r.clone(), tx).unwrap();
			streams.push(rx);
		}
		submitted += joining;
	}
	engine.run_until_idle(Duration::from_secs(10)).unwrap();
	let stats = engine.stats();
	assert!(stats.evictions >= 1, "{stats:?}");
	assert_eq!(stats.finished, 7);
	let mut naive = NaiveServer::new(config.clone(), &weights, 2).unwrap();
	for (r, rx) in requests.iter().zip(&mut streams) {
		let adapter = r.adapter.map(|id| &adapters[ids.iter().position(|i| *i == id).unwrap()]);
		let mut reference = ReferenceModel::new(config.clone(), merged(&weights, adapter));
		let expected = reference.generate_greedy(&r.prompt, r.max_tokens as usize, None).unwrap();
		let (tokens, done) = collect(rx);
		assert_eq!(tokens, expected, "request {r:?}");
		let Event::Done { reason, prompt_tokens, completion_tokens, .. } = done else {
			panic!("{done:?}")
		};
		assert_eq!(reason, FinishReason::Length);
		assert_eq!((prompt_tokens as usize, completion_tokens), (r.prompt.len(), r.max_tokens));
		assert_eq!(naive.serve(adapter, r).unwrap().tokens, expected);
	}
	// The naive path restored the base weights: a base request still matches the reference.
	let base = naive.serve(None, &requests[2]).unwrap();
	let mut reference = ReferenceModel::new(config, weights);
	assert_eq!(base.tokens, reference.generate_greedy(&requests[2].prompt, 6, None).unwrap());
}

#[test]
fn stop_tokens_end_generation_before_them() {
	let (config, weights) = tiny(5);
	let mut reference = ReferenceModel::new(config.clone(), weights.clone());
	let free = reference.generate_greedy(&[4, 5, 6], 10, None).unwrap();
	let stop = free[3];
	let first = free.iter().position(|t| *t == stop).unwrap();
	let mut engine = Engine::with_source(
		config,
		&weights,
		options(1, 2, 8),
		Arc::new(MemorySource::default()),
		None,
	)
	.unwrap();
	let (tx, mut rx) = unbounded_channel();
	let r = Request { stop_tokens: vec![stop], ..request(None, &[4, 5, 6], 10) };
	engine.add_request(r, tx).unwrap();
	engine.run_until_idle(Duration::from_secs(5)).unwrap();
	let (tokens, done) = collect(&mut rx);
	assert_eq!(tokens, free[..first]);
	assert!(matches!(done, Event::Done { reason: FinishReason::Stop, .. }), "{done:?}");
}

#[test]
fn slab_evicts_the_least_recently_used_slot_never_a_pinned_or_busy_one() {
	let (config, _) = tiny(6);
	let adapters: Vec<Adapter> = (0..4).map(|i| busy(&config, 4, &[Target::Q], 30 + i)).collect();
	let ids: Vec<AdapterId> = adapters.iter().map(|a| id_of(a, &config)).collect();
	let mut slab = Slab::new(&config, 3, 4);
	let none = std::collections::HashSet::new();
	for s in 0..3 {
		assert_eq!(slab.victim(&none), Some(s), "free slots first");
		slab.install(s, ids[s], &adapters[s], s as u64 + 1).unwrap();
	}
	assert_eq!(slab.victim(&none), Some(0));
	slab.touch(0, 5);
	assert_eq!(slab.victim(&none), Some(1));
	slab.set_pinned(1, true);
	assert_eq!(slab.victim(&none), Some(2));
	assert_eq!(slab.victim(&[2].into_iter().collect()), Some(0));
	assert_eq!(slab.victim(&[0, 2].into_iter().collect()), None);
	slab.clear(2);
	assert_eq!(slab.find(ids[2]), None);
	assert_eq!(slab.victim(&[0, 2].into_iter().collect()), Some(2));
	// A rank above the slab's is refused.
	let wide = busy(&config, 8, &[Target::Q], 40);
	assert!(matches!(slab.install(2, ids[3], &wide, 9), Err(ServeError::RankTooLarge { .. })));
}

#[test]
fn a_pinned_adapter_keeps_its_slot_while_others_cycle() {
	let (config, weights) = tiny(7);
	let adapters: Vec<Adapter> = (0..3).map(|i| busy(&config, 2, &[Target::V], 50 + i)).collect();
	let ids: Vec<AdapterId> = adapters.iter().map(|a| id_of(a, &config)).collect();
	let source = MemorySource {
		adapters: ids.iter().copied().zip(adapters.iter().cloned()).collect(),
		..Default::default()
	};
	let mut engine =
		Engine::with_source(config, &weights, options(2, 4, 16), Arc::new(source), None).unwrap();
	let outcome = Arc::new(Mutex::new(None));
	let sink = outcome.clone();
	engine.request_load(ids[0], true, Box::new(move |r| *sink.lock().unwrap() = Some(r)));
	assert!(engine.wait_for_load(Duration::from_secs(10)));
	engine.step().unwrap();
	let info = outcome.lock().unwrap().take().unwrap().unwrap();
	assert_eq!((info.tier, info.pinned, info.rank), (Tier::Device, true, 2));
	// Adapters 1 and 2 take turns in the one unpinned slot.
	for round in 0..2 {
		for id in [ids[1], ids[2]] {
			let (tx, mut rx) = unbounded_channel();
			engine.add_request(request(Some(id), &[1, 2], 2), tx).unwrap();
			engine.run_until_idle(Duration::from_secs(10)).unwrap();
			assert!(matches!(collect(&mut rx).1, Event::Done { .. }), "round {round}");
			assert!(engine.slab().find(ids[0]).is_some(), "the pinned adapter was evicted");
		}
	}
	assert!(engine.stats().evictions >= 3, "{:?}", engine.stats());
	// Every slot pinned: an adapter that is not resident is refused instead of waiting forever.
	let sink = outcome.clone();
	engine.request_load(ids[1], true, Box::new(move |r| *sink.lock().unwrap() = Some(r)));
	let (tx, mut rx) = unbounded_channel();
	engine.add_request(request(Some(ids[2]), &[1], 1), tx).unwrap();
	engine.run_until_idle(Duration::from_secs(10)).unwrap();
	assert!(matches!(collect(&mut rx).1, Event::Error(ServeError::SlabFull(_))));
	// Unloading frees the slot; a busy adapter cannot be unloaded.
	engine.unload_adapter(ids[1]).unwrap();
	assert!(engine.slab().find(ids[1]).is_none());
}

#[test]
fn the_host_cache_keeps_its_byte_bound_dropping_the_least_recently_used() {
	let (config, _) = tiny(8);
	let adapters: Vec<Arc<Adapter>> =
		(0..3).map(|i| Arc::new(busy(&config, 4, &[Target::Q, Target::K], 60 + i))).collect();
	let ids: Vec<AdapterId> = adapters.iter().map(|a| id_of(a, &config)).collect();
	let each = super::adapters::adapter_bytes(&adapters[0]);
	let mut host = HostCache::new(each * 5 / 2);
	assert!(host.insert(ids[0], adapters[0].clone()).is_empty());
	assert!(host.insert(ids[1], adapters[1].clone()).is_empty());
	assert!(host.get(ids[0]).is_some());
	assert_eq!(host.insert(ids[2], adapters[2].clone()), vec![ids[1]]);
	assert!(host.contains(ids[0]) && host.contains(ids[2]) && !host.contains(ids[1]));
	assert_eq!(host.used(), 2 * each);
}

/// A one-thread HTTP server answering `GET path` with `routes[path]` (404 otherwise).
fn serve_http(routes: HashMap<String, Vec<u8>>) -> String {
	let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
	let addr = listener.local_addr().unwrap();
	std::thread::spawn(move || {
		for stream in listener.incoming() {
			let Ok(mut stream) = stream else { continue };
			let mut head = Vec::new();
			let mut byte = [0u8; 1];
			while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
				head.push(byte[0]);
			}
			let head = String::from_utf8_lossy(&head);
			let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
			let (status, body) = match routes.get(&path) {
				Some(body) => ("200 OK", body.clone()),
				None => ("404 Not Found", b"{\"error\":\"not found\"}".to_vec()),
			};
			let _ = write!(
				stream,
				"HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
				body.len()
			);
			let _ = stream.write_all(&body);
		}
	});
	format!("http://{addr}")
}

#[test]
fn a_missing_adapter_is_fetched_from_the_store_and_a_bad_hash_is_refused() {
	let (config, _) = tiny(9);
	let good = busy(&config, 4, &[Target::Q, Target::Down], 70);
	let other = busy(&config, 4, &[Target::Q], 71);
	let (good_id, other_id) = (id_of(&good, &config), id_of(&other, &config));
	let weights_bytes = good.to_safetensors(&config);
	let config_bytes = good.peft_config_json("tiny").into_bytes();
	let config_hash = AdapterId::from(sp_crypto_hashing::blake2_256(&config_bytes));
	let path = |h: AdapterId| format!("/content/0x{}", hex::encode(h.as_bytes()));
	let mut routes = HashMap::new();
	routes.insert(path(good_id), weights_bytes.clone());
	routes.insert(path(config_hash), config_bytes.clone());
	// The store answers for `other` with `good`'s bytes: they do not hash to `other`'s id.
	routes.insert(path(other_id), weights_bytes);
	let store = serve_http(routes);
	let dir = tempfile::tempdir().unwrap();
	let source = DiskSource::new(dir.path(), Some(store));

	// Without its config hash the fetch cannot complete.
	assert!(matches!(source.load(good_id, &config), Err(ServeError::StoreFetch { .. })));
	source.register_config(good_id, config_hash);
	source.register_config(other_id, config_hash);
	assert_eq!(source.load(good_id, &config).unwrap(), good);
	// It is on disk now, content-addressed, and listed there.
	assert!(DiskSource::adapter_dir(dir.path(), good_id)
		.join("adapter_model.safetensors")
		.is_file());
	let listed = DiskSource::list(dir.path());
	assert_eq!(listed.len(), 1);
	assert_eq!((listed[0].id, listed[0].rank, listed[0].tier), (good_id, 4, Tier::Disk));
	assert_eq!(listed[0].targets, vec![Target::Q, Target::Down]);

	let refused = source.load(other_id, &config).unwrap_err();
	assert!(
		matches!(&refused, ServeError::StoreFetch { reason, .. } if reason.contains("hash")),
		"{refused}"
	);
	assert!(!DiskSource::adapter_dir(dir.path(), other_id).exists());
	// A file on disk that does not hash to its directory's id is refused too.
	let fake = DiskSource::adapter_dir(dir.path(), other_id);
	std::fs::create_dir_all(&fake).unwrap();
	for name in ["adapter_model.safetensors", "adapter_config.json"] {
		std::fs::copy(DiskSource::adapter_dir(dir.path(), good_id).join(name), fake.join(name))
			.unwrap();
	}
	assert!(matches!(source.load(other_id, &config), Err(ServeError::IncompatibleAdapter { .. })));
	// The fetched adapter's stamp, copied along, vouches for nothing: it names another file.
	let good_dir = DiskSource::adapter_dir(dir.path(), good_id);
	assert!(good_dir.join(ADAPTER_VERIFIED).is_file());
	std::fs::copy(good_dir.join(ADAPTER_VERIFIED), fake.join(ADAPTER_VERIFIED)).unwrap();
	assert!(matches!(source.load(other_id, &config), Err(ServeError::IncompatibleAdapter { .. })));
	// No store: a missing adapter is unknown.
	let offline = DiskSource::new(dir.path(), None);
	let missing = AdapterId::repeat_byte(7);
	assert_eq!(offline.load(missing, &config).unwrap_err(), ServeError::UnknownAdapter(missing));
}

#[test]
fn a_vouched_adapter_skips_the_hash_until_its_file_changes() {
	let (config, _) = tiny(12);
	let good = busy(&config, 4, &[Target::Q, Target::V], 90);
	let other = busy(&config, 4, &[Target::Q, Target::V], 91);
	let dir = tempfile::tempdir().unwrap();
	let source = DiskSource::new(dir.path(), None);
	// Written by this worker: the hash it computed vouches for the file it wrote.
	let id = save_content_addressed(dir.path(), &good, &config, "tiny").unwrap();
	let adapter_dir = DiskSource::adapter_dir(dir.path(), id);
	let (weights, stamp_path) =
		(adapter_dir.join("adapter_model.safetensors"), adapter_dir.join(ADAPTER_VERIFIED));
	let stamp = |path: &std::path::Path| file_stamp(&std::fs::metadata(path).unwrap()).unwrap();
	assert_eq!(std::fs::read_to_string(&stamp_path).unwrap(), stamp(&weights));
	assert_eq!(source.load(id, &config).unwrap(), good);

	// Replaced by another adapter's bytes (a new file renamed over it): the stamp no longer
	// matches, the bytes are hashed and refused.
	let replace = |bytes: &[u8]| {
		let tmp = adapter_dir.join("incoming");
		std::fs::write(&tmp, bytes).unwrap();
		std::fs::rename(&tmp, &weights).unwrap();
	};
	replace(&other.to_safetensors(&config));
	assert!(matches!(source.load(id, &config), Err(ServeError::IncompatibleAdapter { .. })));
	// The right bytes again: hashed, accepted, and stamped anew.
	replace(&good.to_safetensors(&config));
	assert_ne!(std::fs::read_to_string(&stamp_path).unwrap(), stamp(&weights));
	assert_eq!(source.load(id, &config).unwrap(), good);
	assert_eq!(std::fs::read_to_string(&stamp_path).unwrap(), stamp(&weights));

	// A stamp that matches is taken at its word (this is the hash it saves): forged here for
	// the wrong bytes, the load parses them without hashing.
	replace(&other.to_safetensors(&config));
	std::fs::write(&stamp_path, stamp(&weights)).unwrap();
	assert_eq!(source.load(id, &config).unwrap(), other);
}

#[test]
fn a_slow_adapter_load_does_not_block_running_requests() {
	let (config, weights) = tiny(10);
	let fast = busy(&config, 4, &[Target::Q, Target::Gate], 80);
	let slow = busy(&config, 8, &[Target::V, Target::Down], 81);
	let (fast_id, slow_id) = (id_of(&fast, &config), id_of(&slow, &config));
	let (open, gate) = mpsc::channel();
	let source = MemorySource {
		adapters: [(fast_id, fast.clone()), (slow_id, slow.clone())].into_iter().collect(),
		gated: vec![slow_id],
		gate: Some(Mutex::new(gate)),
	};
	let mut engine =
		Engine::with_source(config.clone(), &weights, options(2, 4, 8), Arc::new(source), None)
			.unwrap();
	// The slow request comes first; its load blocks on the gate.
	let (tx, mut slow_rx) = unbounded_channel();
	engine.add_request(request(Some(slow_id), &[3, 4, 5], 4), tx).unwrap();
	let (tx, mut fast_rx) = unbounded_channel();
	engine.add_request(request(Some(fast_id), &[6, 7], 5), tx).unwrap();
	// Until the fast adapter has loaded nothing is runnable.
	while !engine.step().unwrap() {
		assert!(engine.wait_for_load(Duration::from_secs(10)), "the fast adapter never loaded");
	}
	// Then the fast request runs to the end, each step doing work, while the slow one waits.
	for _ in 0..10 {
		if !engine.step().unwrap() {
			break;
		}
	}
	let (tokens, done) = collect(&mut fast_rx);
	assert!(matches!(done, Event::Done { reason: FinishReason::Length, .. }), "{done:?}");
	let mut reference = ReferenceModel::new(config.clone(), merged(&weights, Some(&fast)));
	assert_eq!(tokens, reference.generate_greedy(&[6, 7], 5, None).unwrap());
	assert!(slow_rx.try_recv().is_err(), "the slow request ran before its adapter loaded");
	assert_eq!((engine.stats().waiting, engine.stats().running), (1, 0));
	assert!(engine.loads_pending());
	// Open the gate: the slow request completes too.
	open.send(()).unwrap();
	engine.run_until_idle(Duration::from_secs(10)).unwrap();
	let (tokens, _) = collect(&mut slow_rx);
	let mut reference = ReferenceModel::new(config, merged(&weights, Some(&slow)));
	assert_eq!(tokens, reference.generate_greedy(&[3, 4, 5], 4, None).unwrap());
}

#[test]
fn bad_requests_and_adapters_are_refused_with_clear_errors() {
	let (config, weights) = tiny(11);
	let wide = busy(&config, 16, &[Target::Q], 90);
	let wide_id = id_of(&wide, &config);
	let source =
		MemorySource { adapters: [(wide_id, wide)].into_iter().collect(), ..Default::default() };
	let mut engine =
		Engine::with_source(config, &weights, options(2, 2, 8), Arc::new(source), None).unwrap();
	let mut refused = |r: Request| engine.add_request(r, unbounded_channel().0).unwrap_err();
	assert_eq!(refused(request(None, &[], 3)), ServeError::EmptyPrompt);
	assert_eq!(refused(request(None, &[1], 0)), ServeError::NoTokensRequested);
	assert!(matches!(refused(request(None, &[1; 65], 1)), ServeError::PromptTooLong { .. }));
	assert!(matches!(refused(request(None, &[97], 1)), ServeError::TokenOutOfRange { .. }));
	let unknown = AdapterId::repeat_byte(1);
	let mut streams = Vec::new();
	for id in [unknown, wide_id] {
		let (tx, rx) = unbounded_channel();
		engine.add_request(request(Some(id), &[1, 2], 2), tx).unwrap();
		streams.push(rx);
	}
	engine.run_until_idle(Duration::from_secs(10)).unwrap();
	assert_eq!(
		collect(&mut streams[0]),
		(vec![], Event::Error(ServeError::UnknownAdapter(unknown)))
	);
	let (_, last) = collect(&mut streams[1]);
	assert!(
		matches!(last, Event::Error(ServeError::RankTooLarge { rank: 16, max_rank: 8, .. })),
		"{last:?}"
	);
}

#[test]
fn sampling_is_seeded_and_top_p_keeps_to_the_nucleus() {
	let logits = [0.0, 10.0, 9.9, -5.0];
	let sample = |top_p: f32, seed: u64| -> Vec<u32> {
		let r = Request { temperature: 1.0, top_p, seed, ..Request::default() };
		let mut rng = SplitMix64::new(seed);
		(0..200).map(|_| choose(&logits, &r, &mut rng)).collect()
	};
	// Token 1 alone holds more than half the mass: top_p 0.5 keeps only it.
	assert!(sample(0.5, 1).iter().all(|t| *t == 1));
	let all = sample(1.0, 1);
	assert!(all.contains(&1) && all.contains(&2));
	assert_eq!(all, sample(1.0, 1));
	assert_ne!(all, sample(1.0, 2));
	let greedy = Request::default();
	assert_eq!(choose(&logits, &greedy, &mut SplitMix64::new(0)), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handle_loads_adapters_and_streams_tokens() {
	let (config, weights) = tiny(12);
	let adapter = busy(&config, 4, &[Target::Q, Target::Up], 95);
	let dir = tempfile::tempdir().unwrap();
	let id = id_of(&adapter, &config);
	adapter.save_peft(&DiskSource::adapter_dir(dir.path(), id), &config, "tiny").unwrap();
	let options = EngineOptions { adapters_dir: dir.path().to_path_buf(), ..options(2, 4, 8) };
	let handle = EngineHandle::start(config.clone(), weights.clone(), options).unwrap();
	assert_eq!(handle.adapters().first().map(|a| a.tier), Some(Tier::Disk));
	let info = handle.load_adapter(id, true).await.unwrap();
	assert_eq!((info.id, info.rank, info.tier, info.pinned), (id, 4, Tier::Device, true));

	let mut rx = handle.submit(request(Some(id), &[9, 8, 7], 6)).unwrap();
	let mut base_rx = handle.submit(request(None, &[9, 8, 7], 6)).unwrap();
	let mut streams = Vec::new();
	for rx in [&mut rx, &mut base_rx] {
		let mut tokens = Vec::new();
		loop {
			let event = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.unwrap();
			match event.unwrap() {
				Event::Token { id } => tokens.push(id),
				Event::Done { completion_tokens, .. } => {
					assert_eq!(completion_tokens, 6);
					break;
				}
				other => panic!("{other:?}"),
			}
		}
		streams.push(tokens);
	}
	let mut reference = ReferenceModel::new(config.clone(), merged(&weights, Some(&adapter)));
	assert_eq!(streams[0], reference.generate_greedy(&[9, 8, 7], 6, None).unwrap());
	let mut reference = ReferenceModel::new(config, weights);
	assert_eq!(streams[1], reference.generate_greedy(&[9, 8, 7], 6, None).unwrap());
	assert!(matches!(handle.submit(request(None, &[], 1)), Err(ServeError::EmptyPrompt)));
	handle.unload_adapter(id).await.unwrap();
	// Polled with a bound: the snapshot is published after the engine's next step.
	let mut tier = None;
	for _ in 0..500 {
		tier = handle.adapters().into_iter().find(|a| a.id == id).map(|a| a.tier);
		if tier == Some(Tier::Disk) {
			break;
		}
		tokio::time::sleep(Duration::from_millis(10)).await;
	}
	assert_eq!(tier, Some(Tier::Disk));
	assert!(handle.stats().tokens >= 12);
}
