//! Attribution while serving: attribution indexes found by hash (the adapters directory, else
//! the content store, verified), one [`Attributor`] per index kept in memory, and one thread
//! that attributes whatever answers are waiting as one batch.
//!
//! Requests that finish while a batch is being attributed wait together and go as the next
//! batch: under load, attribution runs per batch of answers (span queries in parallel, one
//! influence scoring of all their sketches), not per request.
//!
//! Gradient influence at serve time ([`InfluenceSetup`]): for a version whose index holds
//! gradient sketches, [`AttributionService::capture_spec`] tells the caller to flag the request
//! ([`crate::openlora::EngineHandle::submit_with_capture`]); the engine records the residual
//! stream entering the sketched blocks and the head's gradient at each answer token, and the
//! batching thread turns that [`Capture`] into the answer's sketch (the sketched blocks rerun in
//! burn under the request's adapter, read from the adapters directory where the engine keeps
//! it; a batch's captured answers rerun together, whatever their adapters) before scoring. A capture that cannot be used (its adapter unreadable, another model)
//! is logged and the answer is attributed by spans alone.

use super::{
	index::{AnswerTrace, AttributionIndex, Attributor, AttributorParams},
	influence::{answer_sketches, Sketcher, DEFAULT_TOP_K},
	Attribution,
};
use crate::{
	fetch::Fetcher,
	model::{config::LlamaConfig, reference::Weights},
	openlora::{
		AdapterId, Capture, CaptureSpec, DiskSource, EngineHandle, Event, Request, ServeError,
	},
	train::{Adapter, CpuTrain, TailModel, TrainError},
};
use std::{
	collections::{HashMap, VecDeque},
	path::PathBuf,
	sync::{mpsc, Arc, Mutex},
};
use tokio::sync::mpsc::UnboundedReceiver;

/// Adapters the batching thread keeps read (most recently used last).
const ADAPTER_CACHE: usize = 32;

/// Where attribution indexes are found.
pub struct IndexSource {
	dir: PathBuf,
	store: Option<String>,
	fetcher: Fetcher,
}

impl IndexSource {
	/// Indexes kept under `dir` (`0x<hash>.idx`), missing ones fetched from the content store
	/// at `store` (a base URL).
	pub fn new(dir: impl Into<PathBuf>, store: Option<String>) -> Self {
		Self { dir: dir.into(), store, fetcher: Fetcher::new() }
	}

	/// Where the index with `hash` is kept.
	pub fn path(&self, hash: &[u8; 32]) -> PathBuf {
		self.dir.join(format!("0x{}.idx", hex::encode(hash)))
	}

	/// Keeps `bytes` (an index whose hash is `hash`) under the directory.
	pub fn save(&self, hash: &[u8; 32], bytes: &[u8]) -> std::io::Result<()> {
		std::fs::create_dir_all(&self.dir)?;
		let tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
		std::fs::write(tmp.path(), bytes)?;
		tmp.persist(self.path(hash)).map_err(|e| e.error)?;
		Ok(())
	}

	/// The index with `hash`: from the directory, else from the store (then kept). Verified
	/// against `hash` either way.
	pub async fn load(&self, hash: &[u8; 32]) -> Result<AttributionIndex, String> {
		let path = self.path(hash);
		let bytes = match std::fs::read(&path) {
			Ok(bytes) if sp_crypto_hashing::blake2_256(&bytes) == *hash => bytes,
			_ => {
				let store = self.store.as_ref().ok_or_else(|| {
					format!(
						"attribution index 0x{} is not here and no store is set",
						hex::encode(hash)
					)
				})?;
				let locator =
					format!("{}/content/0x{}", store.trim_end_matches('/'), hex::encode(hash));
				let bytes = self.fetcher.fetch(&locator, *hash).await.map_err(|e| e.to_string())?;
				if let Err(e) = self.save(hash, &bytes) {
					eprintln!("attribution: keeping index 0x{}: {e}", hex::encode(hash));
				}
				bytes
			}
		};
		tokio::task::spawn_blocking(move || AttributionIndex::from_bytes(&bytes))
			.await
			.map_err(|e| e.to_string())?
			.map_err(|e| e.to_string())
	}
}

/// What the serving engine recorded of a flagged answer, and the adapter it ran under.
#[derive(Debug, Clone)]
pub struct Captured {
	/// The request's adapter.
	pub adapter: AdapterId,
	/// The engine's record.
	pub capture: Capture,
}

/// A flagged request's capture on its way from the engine.
pub struct PendingCapture {
	adapter: AdapterId,
	receiver: tokio::sync::oneshot::Receiver<Capture>,
}

impl PendingCapture {
	/// The capture, with the adapter it ran under. The engine sends it before `Done`, so it is
	/// there once the request finished; `None` when the engine dropped it (a failed or
	/// cancelled request).
	pub async fn captured(self) -> Option<Captured> {
		let adapter = self.adapter;
		self.receiver.await.ok().map(|capture| Captured { adapter, capture })
	}
}

/// The serve-time half of gradient influence: the served base Model's last blocks, and where
/// the adapters are.
pub struct InfluenceSetup {
	tail: TailModel<CpuTrain>,
	adapters_dir: PathBuf,
	top_k: usize,
}

impl InfluenceSetup {
	/// The last `blocks` blocks of the served Model (`config`, `weights`); adapters read from
	/// `adapters_dir` (`0x<hash>/`, the engine's disk tier).
	pub fn new(
		config: &LlamaConfig,
		weights: &Weights,
		blocks: usize,
		adapters_dir: impl Into<PathBuf>,
	) -> Result<Self, TrainError> {
		let first = config.block_count.saturating_sub(blocks.max(1));
		let tail = TailModel::new(config.clone(), weights, first, &Default::default())?;
		Ok(Self { tail, adapters_dir: adapters_dir.into(), top_k: DEFAULT_TOP_K })
	}

	/// What the engine must record of a flagged request.
	pub fn capture_spec(&self) -> CaptureSpec {
		CaptureSpec { layer: self.tail.first_block(), top_k: self.top_k }
	}
}

/// One answer waiting to be attributed.
struct Job {
	attributor: Arc<Attributor>,
	trace: AnswerTrace,
	captured: Option<Captured>,
	reply: tokio::sync::oneshot::Sender<Attribution>,
}

/// Attributes served answers in batches.
pub struct AttributionService {
	source: IndexSource,
	params: AttributorParams,
	capture: Option<CaptureSpec>,
	loaded: Mutex<HashMap<[u8; 32], Arc<Attributor>>>,
	queue: Mutex<mpsc::Sender<Job>>,
}

impl AttributionService {
	/// A service loading indexes from `source`; starts its batching thread. With `influence`,
	/// answers of versions whose index holds gradient sketches are attributed by gradient
	/// influence as well as spans.
	pub fn start(
		source: IndexSource,
		params: AttributorParams,
		influence: Option<InfluenceSetup>,
	) -> Arc<Self> {
		let (tx, rx) = mpsc::channel::<Job>();
		let capture = influence.as_ref().map(InfluenceSetup::capture_spec);
		std::thread::Builder::new()
			.name("attribution".into())
			.spawn(move || batch_loop(rx, influence))
			.map_err(|e| eprintln!("attribution: cannot start its thread: {e}"))
			.ok();
		Arc::new(Self { source, params, capture, loaded: Mutex::default(), queue: Mutex::new(tx) })
	}

	/// What to record of an answer of the version whose index is `hash`, for its gradient
	/// influence: `None` when this service has no influence setup or the index no sketches of
	/// blocks the setup holds.
	pub async fn capture_spec(&self, hash: &[u8; 32]) -> Option<CaptureSpec> {
		let spec = self.capture?;
		let attributor = self.attributor(hash).await?;
		let first = attributor.index().influence.as_ref()?.sketcher().first_block()?;
		(first >= spec.layer).then_some(spec)
	}

	/// The index source.
	pub fn source(&self) -> &IndexSource {
		&self.source
	}

	/// The attributor for the index with `hash`, loading it on first use. `None` for the zero
	/// hash (a version trained without an index) or an index that cannot be had (logged).
	pub async fn attributor(&self, hash: &[u8; 32]) -> Option<Arc<Attributor>> {
		if *hash == [0; 32] {
			return None;
		}
		if let Some(found) = self.loaded.lock().ok()?.get(hash) {
			return Some(found.clone());
		}
		match self.source.load(hash).await {
			Ok(index) => {
				let attributor = Arc::new(Attributor::new(index, self.params));
				self.loaded.lock().ok()?.insert(*hash, attributor.clone());
				Some(attributor)
			}
			Err(e) => {
				eprintln!("attribution: index 0x{}: {e}", hex::encode(hash));
				None
			}
		}
	}

	/// Submits `request` to `engine`, flagged for capture when answers of the version whose
	/// index is `hash` are attributed by gradient influence ([`Self::capture_spec`]) and the
	/// request names an adapter.
	pub async fn submit(
		&self,
		engine: &EngineHandle,
		hash: &[u8; 32],
		request: Request,
	) -> Result<(UnboundedReceiver<Event>, Option<PendingCapture>), ServeError> {
		let spec = match request.adapter {
			Some(adapter) => self.capture_spec(hash).await.map(|spec| (adapter, spec)),
			None => None,
		};
		match spec {
			Some((adapter, spec)) => {
				let (events, receiver) = engine.submit_with_capture(request, spec)?;
				Ok((events, Some(PendingCapture { adapter, receiver })))
			}
			None => Ok((engine.submit(request)?, None)),
		}
	}

	/// Attributes `trace` against the index with `hash`, batched with whatever else is waiting;
	/// with `captured` (asked for by [`Self::capture_spec`]), by gradient influence too. Empty
	/// when there is no index.
	pub async fn attribute(
		&self,
		hash: &[u8; 32],
		trace: AnswerTrace,
		captured: Option<Captured>,
	) -> Attribution {
		let Some(attributor) = self.attributor(hash).await else { return Attribution::default() };
		let (reply, answer) = tokio::sync::oneshot::channel();
		let sent = self
			.queue
			.lock()
			.map(|queue| queue.send(Job { attributor, trace, captured, reply }).is_ok())
			.unwrap_or(false);
		if !sent {
			return Attribution::default();
		}
		answer.await.unwrap_or_default()
	}
}

/// Adapters read from the adapters directory, the most recently used last.
struct Adapters {
	read: VecDeque<(AdapterId, Arc<Adapter>)>,
}

impl Adapters {
	fn get(&mut self, setup: &InfluenceSetup, id: AdapterId) -> Result<Arc<Adapter>, TrainError> {
		if let Some(at) = self.read.iter().position(|(known, _)| *known == id) {
			if let Some(entry) = self.read.remove(at) {
				let adapter = entry.1.clone();
				self.read.push_back(entry);
				return Ok(adapter);
			}
		}
		let dir = DiskSource::adapter_dir(&setup.adapters_dir, id);
		let adapter = Arc::new(Adapter::load_peft(&dir, setup.tail.config())?);
		if self.read.len() >= ADAPTER_CACHE {
			self.read.pop_front();
		}
		self.read.push_back((id, adapter.clone()));
		Ok(adapter)
	}
}

/// Logs why the answer captured under `adapter` goes by spans alone.
fn unusable(adapter: AdapterId, why: &str) {
	eprintln!(
		"attribution: answer gradient under adapter 0x{}: {why}",
		hex::encode(adapter.as_bytes())
	);
}

/// Sets the gradient sketch of every job with a capture, for its attributor's index, from what
/// the engine captured under the request's adapter. The answers are computed together
/// ([`answer_sketches`]: one rerun of the tail per adapter shape, however many adapters); a
/// capture that cannot be used is logged and its answer attributed by spans alone.
fn sketch_captures(setup: &InfluenceSetup, adapters: &mut Adapters, jobs: &mut [Job]) {
	let mut wanted: Vec<(usize, Arc<Adapter>, Captured, Sketcher)> = Vec::new();
	for (i, job) in jobs.iter_mut().enumerate() {
		let Some(captured) = job.captured.take() else { continue };
		let Some(index) = job.attributor.index().influence.as_ref() else {
			unusable(captured.adapter, "the index has no sketches");
			continue;
		};
		match adapters.get(setup, captured.adapter) {
			Ok(adapter) => wanted.push((i, adapter, captured, index.sketcher())),
			Err(e) => unusable(captured.adapter, &e.to_string()),
		}
	}
	if wanted.is_empty() {
		return;
	}
	let answers: Vec<(&Adapter, &Capture, &Sketcher)> = wanted
		.iter()
		.map(|(_, adapter, captured, sketcher)| (&**adapter, &captured.capture, sketcher))
		.collect();
	let sketches = answer_sketches(&setup.tail, &answers);
	for ((i, _, captured, _), sketch) in wanted.iter().zip(sketches) {
		match (sketch, jobs.get_mut(*i)) {
			(Ok(sketch), Some(job)) => job.trace.sketch = Some(sketch),
			(Ok(_), None) => {}
			(Err(e), _) => unusable(captured.adapter, &e.to_string()),
		}
	}
}

/// Takes every job waiting, sketches the captured answers together, attributes them per index
/// as batches, replies; repeats.
fn batch_loop(rx: mpsc::Receiver<Job>, influence: Option<InfluenceSetup>) {
	let mut adapters = Adapters { read: VecDeque::new() };
	while let Ok(first) = rx.recv() {
		let mut jobs = vec![first];
		jobs.extend(rx.try_iter());
		if let Some(setup) = &influence {
			sketch_captures(setup, &mut adapters, &mut jobs);
		}
		let mut groups: Vec<(Arc<Attributor>, Vec<Job>)> = Vec::new();
		for job in jobs {
			match groups.iter_mut().find(|(a, _)| Arc::ptr_eq(a, &job.attributor)) {
				Some((_, group)) => group.push(job),
				None => groups.push((job.attributor.clone(), vec![job])),
			}
		}
		for (attributor, group) in groups {
			let (traces, replies): (Vec<AnswerTrace>, Vec<_>) =
				group.into_iter().map(|j| (j.trace, j.reply)).unzip();
			let attributions = attributor.attribute_batch(&traces);
			for (reply, attribution) in replies.into_iter().zip(attributions) {
				let _ = reply.send(attribution);
			}
		}
	}
}
