//! Attribution while serving: attribution indexes found by hash (the adapters directory, else
//! the content store, verified), one [`Attributor`] per index kept in memory, and one thread
//! that attributes whatever answers are waiting as one batch.
//!
//! Requests that finish while a batch is being attributed wait together and go as the next
//! batch: under load, attribution runs per batch of answers (span queries in parallel, one
//! influence scoring of all their sketches), not per request.

use super::{
	index::{AnswerTrace, AttributionIndex, Attributor, AttributorParams},
	Attribution,
};
use crate::fetch::Fetcher;
use std::{
	collections::HashMap,
	path::PathBuf,
	sync::{mpsc, Arc, Mutex},
};

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

/// One answer waiting to be attributed.
struct Job {
	attributor: Arc<Attributor>,
	trace: AnswerTrace,
	reply: tokio::sync::oneshot::Sender<Attribution>,
}

/// Attributes served answers in batches.
pub struct AttributionService {
	source: IndexSource,
	params: AttributorParams,
	loaded: Mutex<HashMap<[u8; 32], Arc<Attributor>>>,
	queue: Mutex<mpsc::Sender<Job>>,
}

impl AttributionService {
	/// A service loading indexes from `source`; starts its batching thread.
	pub fn start(source: IndexSource, params: AttributorParams) -> Arc<Self> {
		let (tx, rx) = mpsc::channel::<Job>();
		std::thread::Builder::new()
			.name("attribution".into())
			.spawn(move || batch_loop(rx))
			.map_err(|e| eprintln!("attribution: cannot start its thread: {e}"))
			.ok();
		Arc::new(Self { source, params, loaded: Mutex::default(), queue: Mutex::new(tx) })
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

	/// Attributes `trace` against the index with `hash`, batched with whatever else is waiting.
	/// Empty when there is no index.
	pub async fn attribute(&self, hash: &[u8; 32], trace: AnswerTrace) -> Attribution {
		let Some(attributor) = self.attributor(hash).await else { return Attribution::default() };
		let (reply, answer) = tokio::sync::oneshot::channel();
		let sent = self
			.queue
			.lock()
			.map(|queue| queue.send(Job { attributor, trace, reply }).is_ok())
			.unwrap_or(false);
		if !sent {
			return Attribution::default();
		}
		answer.await.unwrap_or_default()
	}
}

/// Takes every job waiting, attributes them per index as batches, replies; repeats.
fn batch_loop(rx: mpsc::Receiver<Job>) {
	while let Ok(first) = rx.recv() {
		let mut jobs = vec![first];
		jobs.extend(rx.try_iter());
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
