//! The continuous-batching scheduler, synchronous: [`Engine::add_request`] queues, and each
//! [`Engine::step`] runs one forward pass over the running batch.
//!
//! A step: take finished adapter loads from the loader threads into the host tier; admit queued
//! requests (first come, first served, skipping those whose adapter is still loading) while the
//! batch has room, installing their adapters into slab slots; build the rows (one decode row per
//! decoding sequence, then prefill chunks of admitted prompts up to `max_prefill_tokens`); run
//! them; pick each sequence's next token and stream it; drop finished sequences. A request whose
//! adapter is not resident never holds up the others: its load runs on a loader thread, started
//! as soon as the request is queued.

use super::{
	adapters::{adapter_bytes, AdapterSource, DiskSource, HostCache, Loaded, Loader, Slab},
	capture::{answer_step, Capture, CaptureSpec},
	model::{BatchModel, KvCache, Row, Scratch},
	AdapterId, AdapterInfo, EngineOptions, EngineStats, Event, FinishReason, Request, ServeError,
	Tier,
};
use crate::{
	model::{
		reference::{argmax, Weights},
		LlamaConfig,
	},
	train::rng::SplitMix64,
};
use std::{
	collections::{HashSet, VecDeque},
	sync::Arc,
	time::{Duration, Instant},
};
use tokio::sync::{mpsc::UnboundedSender, oneshot};

/// Called once with the outcome of [`Engine::request_load`].
pub type LoadReply = Box<dyn FnOnce(Result<AdapterInfo, ServeError>) + Send>;

/// Checks a request against the Model before it is queued.
pub fn validate(config: &LlamaConfig, request: &Request) -> Result<(), ServeError> {
	if request.prompt.is_empty() {
		return Err(ServeError::EmptyPrompt);
	}
	if request.max_tokens == 0 {
		return Err(ServeError::NoTokensRequested);
	}
	if request.prompt.len() > config.context_length {
		return Err(ServeError::PromptTooLong {
			tokens: request.prompt.len(),
			context_length: config.context_length,
		});
	}
	if let Some(&token) = request.prompt.iter().find(|t| **t as usize >= config.vocab_size) {
		return Err(ServeError::TokenOutOfRange { token, vocab_size: config.vocab_size });
	}
	Ok(())
}

/// A request in the engine.
struct Seq {
	request: Request,
	events: UnboundedSender<Event>,
	cache: KvCache,
	/// Tokens fed into the cache.
	fed: usize,
	/// The prompt, then the generated tokens.
	tokens: Vec<u32>,
	generated: u32,
	rng: SplitMix64,
	submitted: Instant,
	first_token_ms: Option<f64>,
	slot: Option<usize>,
	/// Set for requests flagged for attribution.
	capture: Option<Box<Capturing>>,
}

/// A flagged request's capture as it fills, and where it goes when the request finishes.
struct Capturing {
	spec: CaptureSpec,
	capture: Capture,
	reply: oneshot::Sender<Capture>,
}

impl Seq {
	fn prefilling(&self) -> bool {
		self.fed < self.request.prompt.len()
	}

	fn finish(&mut self, reason: FinishReason) {
		// The capture goes first, so that it is there when the caller sees `Done`.
		if let Some(c) = self.capture.take() {
			let _ = c.reply.send(c.capture);
		}
		let total_ms = self.submitted.elapsed().as_secs_f64() * 1e3;
		let _ = self.events.send(Event::Done {
			reason,
			prompt_tokens: self.request.prompt.len() as u32,
			completion_tokens: self.generated,
			first_token_ms: self.first_token_ms.unwrap_or(total_ms),
			total_ms,
		});
	}
}

struct LoadWaiter {
	id: AdapterId,
	pin: bool,
	reply: LoadReply,
}

/// The serving engine: the base Model, the adapter tiers and the batch.
pub struct Engine {
	model: BatchModel,
	options: EngineOptions,
	slab: Slab,
	host: HostCache,
	loader: Loader,
	loading: HashSet<AdapterId>,
	pool: rayon::ThreadPool,
	running: Vec<Seq>,
	waiting: VecDeque<Seq>,
	load_waiters: Vec<LoadWaiter>,
	load_ms: Vec<f64>,
	stats: EngineStats,
	tick: u64,
	scratch: Scratch,
}

impl Engine {
	/// An engine reading adapters from `options.adapters_dir` (and `options.store` on a miss).
	pub fn new(
		config: LlamaConfig,
		weights: &Weights,
		options: EngineOptions,
	) -> Result<Self, ServeError> {
		let source = Arc::new(DiskSource::new(&options.adapters_dir, options.store.clone()));
		Self::with_source(config, weights, options, source, None)
	}

	/// An engine loading adapters from `source`; `notify` is called on a loader thread after
	/// each finished load (to wake a thread that sleeps while nothing is runnable).
	pub fn with_source(
		config: LlamaConfig,
		weights: &Weights,
		options: EngineOptions,
		source: Arc<dyn AdapterSource>,
		notify: Option<Arc<dyn Fn() + Send + Sync>>,
	) -> Result<Self, ServeError> {
		let bad = |what: &str| Err(ServeError::InvalidOptions(what.into()));
		if options.max_batch == 0 {
			return bad("max_batch must be at least 1");
		}
		if options.max_prefill_tokens == 0 {
			return bad("max_prefill_tokens must be at least 1");
		}
		if options.slab_slots == 0 || options.max_rank == 0 {
			return bad("slab_slots and max_rank must be at least 1");
		}
		let model = BatchModel::new(config.clone(), weights)?;
		let pool = rayon::ThreadPoolBuilder::new()
			.num_threads(options.threads.max(1))
			.thread_name(|i| format!("openlora-{i}"))
			.build()
			.map_err(|e| ServeError::InvalidOptions(format!("thread pool: {e}")))?;
		let loader = Loader::start(source, config.clone(), options.max_rank, notify)?;
		Ok(Self {
			slab: Slab::new(&config, options.slab_slots, options.max_rank),
			host: HostCache::new(options.host_cache_bytes),
			model,
			options,
			loader,
			loading: HashSet::new(),
			pool,
			running: Vec::new(),
			waiting: VecDeque::new(),
			load_waiters: Vec::new(),
			load_ms: Vec::new(),
			stats: EngineStats::default(),
			tick: 0,
			scratch: Scratch::default(),
		})
	}

	/// The Model's hyperparameters.
	pub fn config(&self) -> &LlamaConfig {
		self.model.config()
	}

	/// The options it runs with.
	pub fn options(&self) -> &EngineOptions {
		&self.options
	}

	/// The device tier.
	pub fn slab(&self) -> &Slab {
		&self.slab
	}

	/// The host tier.
	pub fn host(&self) -> &HostCache {
		&self.host
	}

	/// Milliseconds of every finished load (disk or store to host), oldest first.
	pub fn load_times_ms(&self) -> &[f64] {
		&self.load_ms
	}

	/// Queues `request`; its events go to `events`. Starts loading its adapter when it is not
	/// resident. Returns at once.
	pub fn add_request(
		&mut self,
		request: Request,
		events: UnboundedSender<Event>,
	) -> Result<(), ServeError> {
		self.add_request_with_capture(request, events, None)
	}

	/// [`Engine::add_request`], flagged for attribution when `capture` is given: what
	/// [`CaptureSpec`] asks for is recorded as the request runs and sent on the `oneshot` when it
	/// finishes, just before [`Event::Done`] (a failed or cancelled request drops the sender).
	pub fn add_request_with_capture(
		&mut self,
		request: Request,
		events: UnboundedSender<Event>,
		capture: Option<(CaptureSpec, oneshot::Sender<Capture>)>,
	) -> Result<(), ServeError> {
		validate(self.model.config(), &request)?;
		let capture = match capture {
			None => None,
			Some((spec, reply)) => {
				let config = self.model.config();
				if spec.layer >= config.block_count || spec.top_k == 0 {
					return Err(ServeError::InvalidOptions(format!(
						"capture at block {} with top_k {} (the model has {} blocks)",
						spec.layer, spec.top_k, config.block_count
					)));
				}
				let capture = Capture::new(spec, config.embedding_length, request.prompt.len());
				Some(Box::new(Capturing { spec, capture, reply }))
			}
		};
		if let Some(id) = request.adapter {
			self.prefetch(id);
		}
		let layers = self.model.config().block_count;
		self.waiting.push_back(Seq {
			rng: SplitMix64::new(request.seed),
			tokens: request.prompt.clone(),
			request,
			events,
			cache: KvCache::new(layers),
			fed: 0,
			generated: 0,
			submitted: Instant::now(),
			first_token_ms: None,
			slot: None,
			capture,
		});
		Ok(())
	}

	/// Whether requests are running or queued.
	pub fn has_work(&self) -> bool {
		!self.running.is_empty() || !self.waiting.is_empty()
	}

	/// Whether adapter loads are in flight.
	pub fn loads_pending(&self) -> bool {
		!self.loading.is_empty()
	}

	/// Counters.
	pub fn stats(&self) -> EngineStats {
		EngineStats {
			running: self.running.len(),
			waiting: self.waiting.len(),
			..self.stats.clone()
		}
	}

	/// The adapters in the device and host tiers.
	pub fn adapters(&self) -> Vec<AdapterInfo> {
		let mut out: Vec<AdapterInfo> = self
			.slab
			.meta()
			.iter()
			.filter_map(|m| {
				Some(AdapterInfo {
					id: m.adapter?,
					rank: m.rank,
					targets: m.targets.clone(),
					tier: Tier::Device,
					pinned: m.pinned,
					bytes: m.bytes,
				})
			})
			.collect();
		for (id, adapter) in self.host.iter() {
			if self.slab.find(*id).is_none() {
				out.push(AdapterInfo {
					id: *id,
					rank: usize::from(adapter.config.rank),
					targets: adapter.config.targets.clone(),
					tier: Tier::Host,
					pinned: false,
					bytes: adapter_bytes(adapter),
				});
			}
		}
		out
	}

	/// Makes `id` resident in a slab slot and pins it (or unpins it when `pin` is false);
	/// `reply` gets the outcome once it is known (at once, or in a later step).
	pub fn request_load(&mut self, id: AdapterId, pin: bool, reply: LoadReply) {
		self.load_waiters.push(LoadWaiter { id, pin, reply });
		self.serve_load_waiters();
	}

	/// Drops `id` from the slab and the host tier (its files stay on disk). Refused while
	/// running requests use it.
	pub fn unload_adapter(&mut self, id: AdapterId) -> Result<(), ServeError> {
		if self.running.iter().any(|s| s.request.adapter == Some(id)) {
			return Err(ServeError::AdapterInUse(id));
		}
		if let Some(slot) = self.slab.find(id) {
			self.slab.clear(slot);
		}
		self.host.remove(id);
		Ok(())
	}

	/// Starts loading `id` unless it is resident, cached or already loading.
	fn prefetch(&mut self, id: AdapterId) {
		if self.slab.find(id).is_some() || self.host.contains(id) || self.loading.contains(&id) {
			return;
		}
		match self.loader.request(id) {
			Ok(()) => {
				self.loading.insert(id);
			}
			Err(e) => self.fail_adapter(id, e),
		}
	}

	/// The slot holding `id`, installing it from the host tier when needed: `Ok(None)` while it
	/// is loading or no slot can be freed yet.
	fn ensure_resident(&mut self, id: AdapterId) -> Result<Option<usize>, ServeError> {
		if let Some(slot) = self.slab.find(id) {
			return Ok(Some(slot));
		}
		let Some(adapter) = self.host.get(id) else {
			self.prefetch(id);
			return Ok(None);
		};
		let in_use: HashSet<usize> = self.running.iter().filter_map(|s| s.slot).collect();
		let Some(slot) = self.slab.victim(&in_use) else {
			if self.slab.meta().iter().all(|m| m.pinned) {
				return Err(ServeError::SlabFull(id));
			}
			return Ok(None);
		};
		if self.slab.meta().get(slot).is_some_and(|m| m.adapter.is_some()) {
			self.stats.evictions += 1;
		}
		self.slab.install(slot, id, &adapter, self.tick)?;
		Ok(Some(slot))
	}

	/// Fails the queued requests and load waiters of adapter `id`.
	fn fail_adapter(&mut self, id: AdapterId, error: ServeError) {
		let mut kept = VecDeque::with_capacity(self.waiting.len());
		for seq in self.waiting.drain(..) {
			if seq.request.adapter == Some(id) {
				let _ = seq.events.send(Event::Error(error.clone()));
				self.stats.finished += 1;
			} else {
				kept.push_back(seq);
			}
		}
		self.waiting = kept;
		let (failed, kept): (Vec<_>, Vec<_>) =
			std::mem::take(&mut self.load_waiters).into_iter().partition(|w| w.id == id);
		self.load_waiters = kept;
		for w in failed {
			(w.reply)(Err(error.clone()));
		}
	}

	fn take_load(&mut self, loaded: Loaded) {
		self.loading.remove(&loaded.id);
		match loaded.result {
			Ok(adapter) => {
				self.stats.loads += 1;
				self.load_ms.push(loaded.ms);
				self.host.insert(loaded.id, adapter);
			}
			Err(e) => self.fail_adapter(loaded.id, e),
		}
	}

	/// Takes every finished load without waiting.
	fn drain_loads(&mut self) {
		while let Some(loaded) = self.loader.try_finished() {
			self.take_load(loaded);
		}
	}

	/// Waits up to `timeout` for an adapter load to finish and takes it (and any other finished
	/// one). Returns whether one did. For a driver with nothing runnable: no busy waiting.
	pub fn wait_for_load(&mut self, timeout: Duration) -> bool {
		match self.loader.wait_finished(timeout) {
			Some(loaded) => {
				self.take_load(loaded);
				self.drain_loads();
				true
			}
			None => false,
		}
	}

	fn serve_load_waiters(&mut self) {
		for waiter in std::mem::take(&mut self.load_waiters) {
			match self.ensure_resident(waiter.id) {
				Ok(Some(slot)) => {
					self.slab.set_pinned(slot, waiter.pin);
					let info = self.adapters().into_iter().find(|a| a.id == waiter.id);
					(waiter.reply)(info.ok_or(ServeError::UnknownAdapter(waiter.id)));
				}
				Ok(None) => self.load_waiters.push(waiter),
				Err(e) => (waiter.reply)(Err(e)),
			}
		}
	}

	/// Moves queued requests into the batch while it has room and their adapters can be made
	/// resident.
	fn admit(&mut self) {
		let mut kept = VecDeque::with_capacity(self.waiting.len());
		while let Some(mut seq) = self.waiting.pop_front() {
			if seq.events.is_closed() {
				self.stats.finished += 1;
				continue;
			}
			if self.running.len() >= self.options.max_batch {
				kept.push_back(seq);
				continue;
			}
			let slot = match seq.request.adapter {
				None => Ok(Some(None)),
				Some(id) => self.ensure_resident(id).map(|s| s.map(Some)),
			};
			match slot {
				Ok(Some(slot)) => {
					seq.slot = slot;
					// Room for every position the request can reach, so that decode steps
					// append keys and values without moving them.
					seq.cache.reserve_for(self.model.config(), &seq.request);
					self.running.push(seq);
				}
				Ok(None) => kept.push_back(seq),
				Err(e) => {
					let _ = seq.events.send(Event::Error(e));
					self.stats.finished += 1;
				}
			}
		}
		self.waiting = kept;
	}

	/// Runs one step. Returns whether a forward pass ran (false: nothing runnable now, e.g.
	/// every queued request waits for its adapter).
	pub fn step(&mut self) -> Result<bool, ServeError> {
		self.tick += 1;
		self.drain_loads();
		self.serve_load_waiters();
		// Sequences whose client went away leave the batch.
		let before = self.running.len();
		self.running.retain(|s| !s.events.is_closed());
		self.stats.finished += (before - self.running.len()) as u64;
		self.admit();

		// Decode rows first, then prefill chunks within the token budget.
		let mut rows = Vec::new();
		let mut members = Vec::new();
		let mut budget = self.options.max_prefill_tokens;
		for (i, seq) in self.running.iter().enumerate() {
			if seq.prefilling() {
				continue;
			}
			let token = seq.tokens.get(seq.fed).copied().unwrap_or(0);
			rows.push(Row {
				seq: members.len(),
				token,
				pos: seq.fed,
				slot: seq.slot,
				prefill: false,
				logits: true,
			});
			members.push(i);
		}
		for (i, seq) in self.running.iter().enumerate() {
			if !seq.prefilling() || budget == 0 {
				continue;
			}
			let prompt = seq.request.prompt.len();
			let take = (prompt - seq.fed).min(budget);
			budget -= take;
			for pos in seq.fed..seq.fed + take {
				rows.push(Row {
					seq: members.len(),
					token: seq.tokens.get(pos).copied().unwrap_or(0),
					pos,
					slot: seq.slot,
					prefill: true,
					logits: pos + 1 == prompt,
				});
			}
			members.push(i);
		}
		if rows.is_empty() {
			return Ok(false);
		}
		for seq in &self.running {
			if let Some(slot) = seq.slot {
				self.slab.touch(slot, self.tick);
			}
		}
		let member_set: HashSet<usize> = members.iter().copied().collect();
		// The layers flagged members capture (nothing is allocated when none is flagged).
		let mut taps: Vec<(usize, Vec<f32>)> = Vec::new();
		for seq in members.iter().filter_map(|&i| self.running.get(i)) {
			if let Some(c) = &seq.capture {
				if !taps.iter().any(|(l, _)| *l == c.spec.layer) {
					taps.push((c.spec.layer, Vec::new()));
				}
			}
		}
		let (model, slab, pool, scratch) = (&self.model, &self.slab, &self.pool, &mut self.scratch);
		let result = {
			let mut caches: Vec<&mut KvCache> = self
				.running
				.iter_mut()
				.enumerate()
				.filter(|(i, _)| member_set.contains(i))
				.map(|(_, s)| &mut s.cache)
				.collect();
			pool.install(|| {
				model.forward_tapped(&rows, &mut caches, Some(slab), scratch, &mut taps)
			})
		};
		self.stats.steps += 1;
		let logits = match result {
			Ok(logits) => logits,
			Err(e) => {
				// Nothing the batch can recover from: fail its members rather than retry.
				for &i in &members {
					if let Some(seq) = self.running.get(i) {
						let _ = seq.events.send(Event::Error(e.clone()));
					}
				}
				let mut i = 0;
				self.running.retain(|_| {
					i += 1;
					!member_set.contains(&(i - 1))
				});
				return Err(e);
			}
		};
		// Advance the fed counts; then sample for the rows that asked for logits.
		let dim = self.model.config().embedding_length;
		for (r, row) in rows.iter().enumerate() {
			if let Some(seq) = members.get(row.seq).and_then(|&i| self.running.get_mut(i)) {
				seq.fed += 1;
				if row.prefill {
					self.stats.prompt_tokens += 1;
				}
				if let Some(c) = seq.capture.as_deref_mut() {
					let started = Instant::now();
					let tap = taps.iter().find(|(l, _)| *l == c.spec.layer);
					let hidden = tap.and_then(|(_, t)| t.get(r * dim..(r + 1) * dim));
					c.capture.hidden.extend_from_slice(hidden.unwrap_or(&[]));
					c.capture.tokens.push(row.token);
					self.stats.capture_us += started.elapsed().as_micros() as u64;
				}
			}
		}
		let context = self.model.config().context_length;
		let mut finished = HashSet::new();
		let vocab = self.model.config().vocab_size.max(1);
		for (row, logits) in rows.iter().filter(|r| r.logits).zip(logits.chunks_exact(vocab)) {
			let Some(&i) = members.get(row.seq) else { continue };
			let Some(seq) = self.running.get_mut(i) else { continue };
			let next = choose(logits, &seq.request, &mut seq.rng);
			if seq.first_token_ms.is_none() {
				seq.first_token_ms = Some(seq.submitted.elapsed().as_secs_f64() * 1e3);
			}
			if seq.request.stop_tokens.contains(&next) {
				seq.finish(FinishReason::Stop);
				finished.insert(i);
				continue;
			}
			if let Some(c) = seq.capture.as_deref_mut() {
				let started = Instant::now();
				let step = answer_step(logits, c.spec.top_k, next, row.pos, self.model.head_rows());
				c.capture.answer.push(step);
				self.stats.capture_us += started.elapsed().as_micros() as u64;
			}
			let _ = seq.events.send(Event::Token { id: next });
			seq.tokens.push(next);
			seq.generated += 1;
			self.stats.tokens += 1;
			if seq.generated >= seq.request.max_tokens || seq.fed >= context {
				seq.finish(FinishReason::Length);
				finished.insert(i);
			}
		}
		if !finished.is_empty() {
			self.stats.finished += finished.len() as u64;
			let mut i = 0;
			self.running.retain(|_| {
				i += 1;
				!finished.contains(&(i - 1))
			});
		}
		Ok(true)
	}

	/// Steps until every request has finished, waiting for adapter loads (up to `timeout`
	/// each) when nothing is runnable. Returns the steps run, or an error when a load did not
	/// come in time.
	pub fn run_until_idle(&mut self, timeout: Duration) -> Result<u64, ServeError> {
		let start = self.stats.steps;
		while self.has_work() {
			// A step that ran nothing may have failed the last requests, leaving no work.
			if !self.step()? && self.has_work() && !self.wait_for_load(timeout) {
				return Err(ServeError::Io(format!(
					"nothing runnable and no adapter load finished within {timeout:?}"
				)));
			}
		}
		Ok(self.stats.steps - start)
	}
}

/// The next token: the most likely at temperature 0, else a draw from the tempered softmax
/// restricted to the top-`p` nucleus.
pub(crate) fn choose(logits: &[f32], request: &Request, rng: &mut SplitMix64) -> u32 {
	let greedy = || argmax(logits).unwrap_or(0) as u32;
	if request.temperature <= 0.0 || !request.temperature.is_finite() {
		return greedy();
	}
	let t = f64::from(request.temperature);
	let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
	let mut probs: Vec<(usize, f64)> = logits
		.iter()
		.enumerate()
		.filter(|(_, l)| !l.is_nan())
		.map(|(i, l)| (i, (f64::from(l - max) / t).exp()))
		.collect();
	probs.sort_by(|a, b| b.1.total_cmp(&a.1));
	let total: f64 = probs.iter().map(|p| p.1).sum();
	if total <= 0.0 || !total.is_finite() {
		return greedy();
	}
	let top_p = f64::from(request.top_p.clamp(0.0, 1.0));
	let mut kept = 0.0;
	let mut cut = probs.len();
	for (n, p) in probs.iter().enumerate() {
		kept += p.1 / total;
		if kept >= top_p {
			cut = n + 1;
			break;
		}
	}
	let nucleus = probs.get(..cut).unwrap_or(&probs);
	let mass: f64 = nucleus.iter().map(|p| p.1).sum();
	let draw = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * mass;
	let mut acc = 0.0;
	for (i, p) in nucleus {
		acc += p;
		if draw < acc {
			return *i as u32;
		}
	}
	nucleus.last().map(|p| p.0 as u32).unwrap_or_else(greedy)
}
