//! The adapter tiers, fastest first:
//!
//! - **Device**: [`Slab`], `N` preallocated slots. Per layer and projection it holds every
//!   slot's `Aᵀ` and `B` padded to `max_rank` rows, plus per slot the rank, scale and targets:
//!   the structure the kernels (and a CUDA path) index by slot. Installing an adapter copies it
//!   into a free slot, or into the least recently used slot that is neither pinned nor used by a
//!   running sequence.
//! - **Host**: [`HostCache`], parsed adapters in an LRU bounded by bytes.
//! - **Disk / content store**: [`DiskSource`] reads `0x<hash>/adapter_model.safetensors` from the
//!   adapters directory and checks it hashes to the adapter's id; on a miss it fetches both PEFT
//!   files from the content store (verified by hash) and writes them there first.
//!
//! Disk and store reads run on the [`Loader`] threads, never in the batch loop.

use super::{kernels::LoraView, AdapterId, AdapterInfo, ServeError, Tier};
use crate::{
	fetch::Fetcher,
	model::{LlamaConfig, SafeTensors},
	train::lora::{shape, Adapter, Target, ADAPTER_CONFIG, ADAPTER_WEIGHTS},
};
use sp_core::H256;
use std::{
	collections::{HashMap, HashSet},
	io::Read,
	path::{Path, PathBuf},
	sync::{mpsc, Arc, Mutex},
	time::Instant,
};

/// Bytes of an adapter's `f32` values.
pub fn adapter_bytes(adapter: &Adapter) -> usize {
	adapter.parameter_count().saturating_mul(4)
}

/// Checks that `adapter` fits a Model of `config` and a slab of `max_rank`.
pub fn check_adapter(
	id: AdapterId,
	adapter: &Adapter,
	config: &LlamaConfig,
	max_rank: usize,
) -> Result<(), ServeError> {
	let rank = usize::from(adapter.config.rank);
	if rank > max_rank {
		return Err(ServeError::RankTooLarge { id, rank, max_rank });
	}
	let bad = |reason: String| Err(ServeError::IncompatibleAdapter { id, reason });
	if adapter.blocks.len() != config.block_count {
		return bad(format!(
			"{} blocks, the base model has {}",
			adapter.blocks.len(),
			config.block_count
		));
	}
	for (n, block) in adapter.blocks.iter().enumerate() {
		for target in Target::ALL {
			let Some(w) = block.get(target.index()).and_then(Option::as_ref) else { continue };
			let (input, output) = shape(config, target);
			if w.input != input
				|| w.output != output
				|| w.a.len() != input * rank
				|| w.b.len() != rank * output
			{
				return bad(format!(
					"block {n} {}: {}x{} at rank {rank}, the base has {input}x{output}",
					target.hf_name(),
					w.input,
					w.output
				));
			}
		}
	}
	Ok(())
}

/// What a slab slot holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlotMeta {
	/// The adapter, `None` when free.
	pub adapter: Option<AdapterId>,
	/// Its rank.
	pub rank: usize,
	/// Its targets.
	pub targets: Vec<Target>,
	/// Pinned slots are never evicted.
	pub pinned: bool,
	/// The step it was last used in (the LRU order).
	pub last_used: u64,
	/// Bytes of the adapter's values.
	pub bytes: usize,
}

/// The device tier: `slots` adapter slots, per layer and projection `Aᵀ` and `B` padded to
/// `max_rank` rows.
#[derive(Debug, Clone)]
pub struct Slab {
	slots: usize,
	max_rank: usize,
	layers: usize,
	shapes: [(usize, usize); 7],
	/// `[layer * 7 + target]`: `slots × max_rank × input`.
	a: Vec<Vec<f32>>,
	/// `[layer * 7 + target]`: `slots × max_rank × output`.
	b: Vec<Vec<f32>>,
	/// `[target]`: per slot the rank for that projection (0 when not adapted).
	ranks: [Vec<usize>; 7],
	scales: Vec<f32>,
	meta: Vec<SlotMeta>,
}

impl Slab {
	/// An empty slab for a Model of `config`.
	pub fn new(config: &LlamaConfig, slots: usize, max_rank: usize) -> Self {
		let shapes = Target::ALL.map(|t| shape(config, t));
		let layers = config.block_count;
		let mut a = Vec::with_capacity(layers * 7);
		let mut b = Vec::with_capacity(layers * 7);
		for _ in 0..layers {
			for (input, output) in shapes {
				a.push(vec![0f32; slots * max_rank * input]);
				b.push(vec![0f32; slots * max_rank * output]);
			}
		}
		Self {
			slots,
			max_rank,
			layers,
			shapes,
			a,
			b,
			ranks: std::array::from_fn(|_| vec![0; slots]),
			scales: vec![0.0; slots],
			meta: vec![SlotMeta::default(); slots],
		}
	}

	/// Slots.
	pub fn slots(&self) -> usize {
		self.slots
	}

	/// Largest rank a slot holds.
	pub fn max_rank(&self) -> usize {
		self.max_rank
	}

	/// Every slot's state.
	pub fn meta(&self) -> &[SlotMeta] {
		&self.meta
	}

	/// The kernels' view of projection `target` of layer `layer`.
	pub fn view(&self, layer: usize, target: Target) -> LoraView<'_> {
		let i = layer * 7 + target.index();
		let (input, output) = self.shapes[target.index()];
		LoraView {
			a: self.a.get(i).map(Vec::as_slice).unwrap_or(&[]),
			b: self.b.get(i).map(Vec::as_slice).unwrap_or(&[]),
			input,
			output,
			max_rank: self.max_rank,
			ranks: &self.ranks[target.index()],
			scales: &self.scales,
		}
	}

	/// The slot holding `id`.
	pub fn find(&self, id: AdapterId) -> Option<usize> {
		self.meta.iter().position(|m| m.adapter == Some(id))
	}

	/// A slot to install into: a free one, else the least recently used slot that is not
	/// pinned and not in `in_use`. `None` when every slot is pinned or in use.
	pub fn victim(&self, in_use: &HashSet<usize>) -> Option<usize> {
		if let Some(free) = self.meta.iter().position(|m| m.adapter.is_none()) {
			return Some(free);
		}
		self.meta
			.iter()
			.enumerate()
			.filter(|(s, m)| !m.pinned && !in_use.contains(s))
			.min_by_key(|(_, m)| m.last_used)
			.map(|(s, _)| s)
	}

	/// Copies `adapter` (checked with [`check_adapter`]) into `slot`, replacing what was there.
	pub fn install(
		&mut self,
		slot: usize,
		id: AdapterId,
		adapter: &Adapter,
		tick: u64,
	) -> Result<(), ServeError> {
		if slot >= self.slots {
			return Err(ServeError::InvalidOptions(format!("slot {slot} of {}", self.slots)));
		}
		let rank = usize::from(adapter.config.rank);
		if rank > self.max_rank {
			return Err(ServeError::RankTooLarge { id, rank, max_rank: self.max_rank });
		}
		self.clear(slot);
		let max_rank = self.max_rank;
		for (layer, block) in adapter.blocks.iter().enumerate().take(self.layers) {
			for target in Target::ALL {
				let Some(w) = block.get(target.index()).and_then(Option::as_ref) else { continue };
				let i = layer * 7 + target.index();
				let (input, output) = self.shapes[target.index()];
				if let Some(a) = self.a.get_mut(i) {
					let base = slot * max_rank * input;
					// a is in × rank; the slab keeps its transpose, rank × in.
					for (row, values) in w.a.chunks_exact(rank.max(1)).enumerate().take(input) {
						for (r, v) in values.iter().enumerate() {
							if let Some(dst) = a.get_mut(base + r * input + row) {
								*dst = *v;
							}
						}
					}
				}
				if let Some(b) = self.b.get_mut(i) {
					let base = slot * max_rank * output;
					let len = (rank * output).min(w.b.len());
					if let (Some(dst), Some(src)) = (b.get_mut(base..base + len), w.b.get(..len)) {
						dst.copy_from_slice(src);
					}
				}
			}
		}
		for target in &adapter.config.targets {
			self.ranks[target.index()][slot] = rank;
		}
		self.scales[slot] = adapter.config.scale();
		self.meta[slot] = SlotMeta {
			adapter: Some(id),
			rank,
			targets: adapter.config.targets.clone(),
			pinned: false,
			last_used: tick,
			bytes: adapter_bytes(adapter),
		};
		Ok(())
	}

	/// Frees `slot` (its values are left; rank 0 hides them).
	pub fn clear(&mut self, slot: usize) {
		for ranks in &mut self.ranks {
			if let Some(r) = ranks.get_mut(slot) {
				*r = 0;
			}
		}
		if let Some(m) = self.meta.get_mut(slot) {
			*m = SlotMeta::default();
		}
	}

	/// Marks `slot` used at `tick`.
	pub fn touch(&mut self, slot: usize, tick: u64) {
		if let Some(m) = self.meta.get_mut(slot) {
			m.last_used = m.last_used.max(tick);
		}
	}

	/// Pins or unpins `slot`.
	pub fn set_pinned(&mut self, slot: usize, pinned: bool) {
		if let Some(m) = self.meta.get_mut(slot) {
			m.pinned = pinned;
		}
	}
}

/// The host tier: parsed adapters, least recently used dropped first once they exceed `limit`
/// bytes (the newest entry is always kept, even alone above the bound).
#[derive(Debug, Clone)]
pub struct HostCache {
	limit: usize,
	used: usize,
	tick: u64,
	entries: HashMap<AdapterId, (Arc<Adapter>, usize, u64)>,
}

impl HostCache {
	/// An empty cache of `limit` bytes.
	pub fn new(limit: usize) -> Self {
		Self { limit, used: 0, tick: 0, entries: HashMap::new() }
	}

	/// Bytes held.
	pub fn used(&self) -> usize {
		self.used
	}

	/// Adds `adapter`, then drops the least recently used others until the bound holds.
	/// Returns the ids dropped.
	pub fn insert(&mut self, id: AdapterId, adapter: Arc<Adapter>) -> Vec<AdapterId> {
		self.tick = self.tick.saturating_add(1);
		let bytes = adapter_bytes(&adapter);
		if let Some((_, old, _)) = self.entries.insert(id, (adapter, bytes, self.tick)) {
			self.used = self.used.saturating_sub(old);
		}
		self.used = self.used.saturating_add(bytes);
		let mut dropped = Vec::new();
		while self.used > self.limit {
			let oldest = self
				.entries
				.iter()
				.filter(|(k, _)| **k != id)
				.min_by_key(|(_, (_, _, t))| *t)
				.map(|(k, _)| *k);
			let Some(oldest) = oldest else { break };
			self.remove(oldest);
			dropped.push(oldest);
		}
		dropped
	}

	/// The adapter, marked used.
	pub fn get(&mut self, id: AdapterId) -> Option<Arc<Adapter>> {
		self.tick = self.tick.saturating_add(1);
		let tick = self.tick;
		self.entries.get_mut(&id).map(|(a, _, t)| {
			*t = tick;
			a.clone()
		})
	}

	/// Whether `id` is held (without marking it used).
	pub fn contains(&self, id: AdapterId) -> bool {
		self.entries.contains_key(&id)
	}

	/// Drops `id`.
	pub fn remove(&mut self, id: AdapterId) -> Option<Arc<Adapter>> {
		let (adapter, bytes, _) = self.entries.remove(&id)?;
		self.used = self.used.saturating_sub(bytes);
		Some(adapter)
	}

	/// Every adapter held.
	pub fn iter(&self) -> impl Iterator<Item = (&AdapterId, &Arc<Adapter>)> {
		self.entries.iter().map(|(k, (a, _, _))| (k, a))
	}
}

/// Where adapters come from when they are in neither the slab nor the host cache. Called on
/// a loader thread.
pub trait AdapterSource: Send + Sync {
	/// The adapter `id`, read and checked for a Model of `config`.
	fn load(&self, id: AdapterId, config: &LlamaConfig) -> Result<Adapter, ServeError>;
}

/// The disk tier: the content-addressed adapters directory, filled from a content store on a
/// miss.
#[derive(Debug)]
pub struct DiskSource {
	dir: PathBuf,
	store: Option<String>,
	configs: Mutex<HashMap<AdapterId, H256>>,
	fetcher: Fetcher,
}

impl DiskSource {
	/// Adapters under `dir`, missing ones fetched from the store at `store` (a base URL).
	pub fn new(dir: impl Into<PathBuf>, store: Option<String>) -> Self {
		Self {
			dir: dir.into(),
			store,
			configs: Mutex::new(HashMap::new()),
			fetcher: Fetcher::new().with_max_bytes(256 << 20),
		}
	}

	/// The directory of adapter `id`: `<dir>/0x<hex>`.
	pub fn adapter_dir(dir: &Path, id: AdapterId) -> PathBuf {
		dir.join(format!("0x{}", hex::encode(id.as_bytes())))
	}

	/// Tells the hash of `id`'s `adapter_config.json`, so that a miss can fetch it from the store
	/// (the chain records it next to the adapter hash).
	pub fn register_config(&self, id: AdapterId, config_hash: H256) {
		if let Ok(mut configs) = self.configs.lock() {
			configs.insert(id, config_hash);
		}
	}

	/// The adapters in `dir` as [`Tier::Disk`] infos (rank and targets from their configs).
	pub fn list(dir: &Path) -> Vec<AdapterInfo> {
		let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
		let mut out = Vec::new();
		for entry in entries.flatten() {
			let name = entry.file_name();
			let Some(hex_id) = name.to_str().and_then(|n| n.strip_prefix("0x")) else { continue };
			let Ok(bytes) = hex::decode(hex_id) else { continue };
			let Ok(raw) = <[u8; 32]>::try_from(bytes.as_slice()) else { continue };
			let path = entry.path();
			let Ok(config) = std::fs::read(path.join(ADAPTER_CONFIG)) else { continue };
			let Ok(config) = serde_json::from_slice::<serde_json::Value>(&config) else {
				continue;
			};
			let rank = config.get("r").and_then(|v| v.as_u64()).unwrap_or(0) as usize;
			let mut targets: Vec<Target> = config
				.get("target_modules")
				.and_then(|v| v.as_array())
				.map(|a| a.iter().filter_map(|v| v.as_str().and_then(Target::parse)).collect())
				.unwrap_or_default();
			targets.sort();
			let bytes = std::fs::metadata(path.join(ADAPTER_WEIGHTS))
				.map(|m| m.len() as usize)
				.unwrap_or(0);
			out.push(AdapterInfo {
				id: H256(raw),
				rank,
				targets,
				tier: Tier::Disk,
				pinned: false,
				bytes,
			});
		}
		out
	}

	fn fetch(&self, id: AdapterId, dir: &Path) -> Result<(), ServeError> {
		let Some(store) = &self.store else { return Err(ServeError::UnknownAdapter(id)) };
		let failed = |reason: String| ServeError::StoreFetch { id, reason };
		let config_hash = self
			.configs
			.lock()
			.ok()
			.and_then(|c| c.get(&id).copied())
			.ok_or_else(|| failed("the hash of its adapter_config.json is not known".into()))?;
		let base = store.trim_end_matches('/');
		let locator = |hash: H256| format!("{base}/content/0x{}", hex::encode(hash.as_bytes()));
		let runtime = tokio::runtime::Builder::new_current_thread()
			.enable_all()
			.build()
			.map_err(|e| failed(e.to_string()))?;
		let (weights, config) = runtime.block_on(async {
			let weights = self.fetcher.fetch(&locator(id), id.0).await;
			let config = self.fetcher.fetch(&locator(config_hash), config_hash.0).await;
			(weights, config)
		});
		let weights = weights.map_err(|e| failed(e.to_string()))?;
		let config = config.map_err(|e| failed(e.to_string()))?;
		// Written to a fresh directory and renamed, so a half-written adapter is never seen.
		let parent = dir.parent().unwrap_or(dir);
		std::fs::create_dir_all(parent).map_err(|e| ServeError::Io(e.to_string()))?;
		let tmp = tempfile::tempdir_in(parent).map_err(|e| ServeError::Io(e.to_string()))?;
		for (name, bytes) in [(ADAPTER_WEIGHTS, &weights), (ADAPTER_CONFIG, &config)] {
			std::fs::write(tmp.path().join(name), bytes)
				.map_err(|e| ServeError::Io(e.to_string()))?;
		}
		let tmp = tmp.keep();
		match std::fs::rename(&tmp, dir) {
			// The fetcher checked the weights against the id.
			Ok(()) => vouch_for(dir),
			// Another writer got there first; its files were verified the same way.
			Err(_) => {
				let _ = std::fs::remove_dir_all(&tmp);
			}
		}
		Ok(())
	}
}

impl AdapterSource for DiskSource {
	fn load(&self, id: AdapterId, config: &LlamaConfig) -> Result<Adapter, ServeError> {
		let dir = Self::adapter_dir(&self.dir, id);
		if !dir.join(ADAPTER_WEIGHTS).is_file() {
			self.fetch(id, &dir)?;
		}
		let io = |e: std::io::Error| ServeError::Io(e.to_string());
		// Read once: the bytes checked are the bytes parsed, and the stamp is of the file read.
		let mut file = std::fs::File::open(dir.join(ADAPTER_WEIGHTS)).map_err(io)?;
		let stamp = file.metadata().ok().and_then(|m| file_stamp(&m));
		let mut bytes = Vec::new();
		file.read_to_end(&mut bytes).map_err(io)?;
		let vouched =
			stamp.is_some() && std::fs::read_to_string(dir.join(ADAPTER_VERIFIED)).ok() == stamp;
		if !vouched {
			if sp_crypto_hashing::blake2_256(&bytes) != id.0 {
				return Err(ServeError::IncompatibleAdapter {
					id,
					reason: format!("{} does not hash to the adapter id", dir.display()),
				});
			}
			write_stamp(&dir, stamp);
		}
		let read = |name: &str| std::fs::read(dir.join(name)).map_err(io);
		let incompatible = |reason: String| ServeError::IncompatibleAdapter { id, reason };
		let file = SafeTensors::from_bytes(bytes).map_err(|e| incompatible(e.to_string()))?;
		Adapter::from_peft(&read(ADAPTER_CONFIG)?, &file, config)
			.map_err(|e| incompatible(e.to_string()))
	}
}

/// The file beside an adapter's weights that vouches they were checked against the adapter's
/// id: it holds the [`file_stamp`] of the weights file as checked. A load whose weights file
/// still has that stamp skips the hash (8-9 ms of a rank-16 adapter's 7 MiB on this machine's
/// CPU); any other load hashes the bytes it read and writes the stamp. The hash is thus checked
/// when a file is first seen (fetched from the store, written by this worker, or put into the
/// directory by hand), and again whenever the file is replaced or written to: a new inode, a
/// new length, or new modification or change times (the change time cannot be set back by an
/// unprivileged process). What it does not catch is a change that keeps all four, such as a
/// same-length write in place within the file system's timestamp granularity of the check.
pub const ADAPTER_VERIFIED: &str = "adapter_model.verified";

/// What tells one version of a file from another on this machine: its length, device, inode,
/// and modification and change times to the nanosecond. `None` where the platform has no
/// inodes (every load then checks the hash).
pub(crate) fn file_stamp(meta: &std::fs::Metadata) -> Option<String> {
	#[cfg(unix)]
	{
		use std::os::unix::fs::MetadataExt;
		Some(format!(
			"len {} dev {} ino {} mtime {}.{:09} ctime {}.{:09}",
			meta.len(),
			meta.dev(),
			meta.ino(),
			meta.mtime(),
			meta.mtime_nsec(),
			meta.ctime(),
			meta.ctime_nsec()
		))
	}
	#[cfg(not(unix))]
	{
		let _ = meta;
		None
	}
}

/// Writes the [`ADAPTER_VERIFIED`] stamp of `dir`'s weights file, whose bytes the caller has
/// just checked against the adapter's id.
fn vouch_for(dir: &Path) {
	write_stamp(
		dir,
		std::fs::metadata(dir.join(ADAPTER_WEIGHTS)).ok().and_then(|m| file_stamp(&m)),
	);
}

/// Writes `stamp` (when there is one) as `dir`'s [`ADAPTER_VERIFIED`]. Best effort: without it
/// (a read-only directory, say) the next load checks the hash again.
fn write_stamp(dir: &Path, stamp: Option<String>) {
	if let Some(stamp) = stamp {
		let _ = std::fs::write(dir.join(ADAPTER_VERIFIED), stamp);
	}
}

/// A finished load.
pub struct Loaded {
	/// The adapter asked for.
	pub id: AdapterId,
	/// It, or why not.
	pub result: Result<Arc<Adapter>, ServeError>,
	/// Milliseconds the load took.
	pub ms: f64,
}

/// Threads loading adapters: a slow fetch holds up only its own thread.
pub const LOADER_THREADS: usize = 4;

/// The loader threads: take adapter ids, load them from an [`AdapterSource`] and send them
/// back, calling `notify` after each so that a sleeping engine thread wakes up.
pub struct Loader {
	jobs: Option<mpsc::Sender<AdapterId>>,
	done: mpsc::Receiver<Loaded>,
}

impl Loader {
	/// Starts [`LOADER_THREADS`] threads.
	pub fn start(
		source: Arc<dyn AdapterSource>,
		config: LlamaConfig,
		max_rank: usize,
		notify: Option<Arc<dyn Fn() + Send + Sync>>,
	) -> Result<Self, ServeError> {
		let (jobs, job_rx) = mpsc::channel::<AdapterId>();
		let job_rx = Arc::new(Mutex::new(job_rx));
		let (done_tx, done) = mpsc::channel();
		for n in 0..LOADER_THREADS {
			let (source, config, notify) = (source.clone(), config.clone(), notify.clone());
			let (job_rx, done_tx) = (job_rx.clone(), done_tx.clone());
			std::thread::Builder::new()
				.name(format!("openlora-loader-{n}"))
				.spawn(move || loop {
					// The lock is held only while waiting for the next id, not while loading.
					let next = job_rx.lock().ok().and_then(|rx| rx.recv().ok());
					let Some(id) = next else { break };
					let start = Instant::now();
					let result = source
						.load(id, &config)
						.and_then(|a| check_adapter(id, &a, &config, max_rank).map(|_| a))
						.map(Arc::new);
					let ms = start.elapsed().as_secs_f64() * 1e3;
					if done_tx.send(Loaded { id, result, ms }).is_err() {
						break;
					}
					if let Some(notify) = &notify {
						notify();
					}
				})
				.map_err(|e| ServeError::Io(format!("starting a loader thread: {e}")))?;
		}
		Ok(Self { jobs: Some(jobs), done })
	}

	/// Queues a load of `id`.
	pub fn request(&self, id: AdapterId) -> Result<(), ServeError> {
		self.jobs
			.as_ref()
			.and_then(|j| j.send(id).ok())
			.ok_or(ServeError::Io("the loader thread has stopped".into()))
	}

	/// A finished load, if any, without waiting.
	pub fn try_finished(&self) -> Option<Loaded> {
		self.done.try_recv().ok()
	}

	/// A finished load, waiting up to `timeout`.
	pub fn wait_finished(&self, timeout: std::time::Duration) -> Option<Loaded> {
		self.done.recv_timeout(timeout).ok()
	}
}

impl Drop for Loader {
	fn drop(&mut self) {
		// Closing the job channel ends the threads after their current loads; they are not
		// joined, so a slow fetch never holds up the engine's shutdown.
		self.jobs = None;
	}
}

/// Saves `adapter` as PEFT files in its content-addressed directory under `dir`
/// (`0x<blake2-256 of adapter_model.safetensors>`) and returns its id.
pub fn save_content_addressed(
	dir: &Path,
	adapter: &Adapter,
	config: &LlamaConfig,
	base_model: &str,
) -> Result<AdapterId, ServeError> {
	let id = H256(sp_crypto_hashing::blake2_256(&adapter.to_safetensors(config)));
	let dir = DiskSource::adapter_dir(dir, id);
	adapter.save_peft(&dir, config, base_model).map_err(|e| ServeError::Io(e.to_string()))?;
	// The bytes written are the bytes hashed.
	vouch_for(&dir);
	Ok(id)
}

/// A random adapter for tests and benchmarks: PEFT's initialization for `a`, and `b` uniform
/// in `±b_range` (a freshly initialized adapter has `b = 0` and changes nothing).
pub fn synthetic_adapter(
	config: &LlamaConfig,
	rank: u16,
	targets: &[Target],
	b_range: f32,
	seed: u64,
) -> Result<Adapter, ServeError> {
	let lora = crate::train::LoraConfig {
		rank,
		alpha: rank.saturating_mul(2),
		dropout: 0.0,
		targets: targets.to_vec(),
	};
	let mut adapter =
		Adapter::init(lora, config, seed).map_err(|e| ServeError::InvalidOptions(e.to_string()))?;
	let mut rng = crate::train::rng::SplitMix64::new(seed ^ 0x5EED);
	for w in adapter.blocks.iter_mut().flatten().flatten() {
		w.b.iter_mut().for_each(|v| *v = rng.uniform(-b_range, b_range));
	}
	Ok(adapter)
}
