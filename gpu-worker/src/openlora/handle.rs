//! [`EngineHandle`]: the [`Engine`] on its own thread, reached through channels.
//!
//! The thread loops: take every pending command (submit, load, unload), run one step, publish a
//! snapshot of the stats and adapters. When a step finds nothing runnable it sleeps on the
//! command channel; a loader thread posts a wake-up there after each finished load.

use super::{
	adapters::{AdapterSource, DiskSource},
	capture::{Capture, CaptureSpec},
	engine::{validate, Engine},
	AdapterId, AdapterInfo, EngineOptions, EngineStats, Event, Request, ServeError,
};
use crate::model::{reference::Weights, LlamaConfig};
use std::{
	path::PathBuf,
	sync::{mpsc, Arc, Mutex},
};
use tokio::sync::{mpsc::UnboundedReceiver, oneshot};

enum Command {
	Submit(
		Request,
		tokio::sync::mpsc::UnboundedSender<Event>,
		Option<(CaptureSpec, oneshot::Sender<Capture>)>,
	),
	Load(AdapterId, bool, oneshot::Sender<Result<AdapterInfo, ServeError>>),
	Unload(AdapterId, oneshot::Sender<Result<(), ServeError>>),
	Wake,
	Stop,
}

#[derive(Default)]
struct Snapshot {
	stats: EngineStats,
	adapters: Vec<AdapterInfo>,
}

struct Inner {
	commands: Mutex<mpsc::Sender<Command>>,
	snapshot: Arc<Mutex<Snapshot>>,
	config: LlamaConfig,
	adapters_dir: PathBuf,
	disk: Option<Arc<DiskSource>>,
}

impl Drop for Inner {
	fn drop(&mut self) {
		if let Ok(commands) = self.commands.lock() {
			let _ = commands.send(Command::Stop);
		}
	}
}

/// The serving engine on its own thread. Cheap to clone; the thread stops when the last clone
/// is dropped.
#[derive(Clone)]
pub struct EngineHandle {
	inner: Arc<Inner>,
}

impl EngineHandle {
	/// Starts the engine thread for the base Model `weights`, adapters from
	/// `options.adapters_dir` and `options.store`.
	pub fn start(
		config: LlamaConfig,
		weights: Weights,
		options: EngineOptions,
	) -> Result<Self, ServeError> {
		let disk = Arc::new(DiskSource::new(&options.adapters_dir, options.store.clone()));
		Self::spawn(config, weights, options, disk.clone(), Some(disk))
	}

	/// Starts the engine thread with adapters from `source`.
	pub fn start_with_source(
		config: LlamaConfig,
		weights: Weights,
		options: EngineOptions,
		source: Arc<dyn AdapterSource>,
	) -> Result<Self, ServeError> {
		Self::spawn(config, weights, options, source, None)
	}

	fn spawn(
		config: LlamaConfig,
		weights: Weights,
		options: EngineOptions,
		source: Arc<dyn AdapterSource>,
		disk: Option<Arc<DiskSource>>,
	) -> Result<Self, ServeError> {
		let (commands, inbox) = mpsc::channel::<Command>();
		let wake = Mutex::new(commands.clone());
		let notify: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
			if let Ok(wake) = wake.lock() {
				let _ = wake.send(Command::Wake);
			}
		});
		let adapters_dir = options.adapters_dir.clone();
		let engine = Engine::with_source(config.clone(), &weights, options, source, Some(notify))?;
		drop(weights);
		let snapshot = Arc::new(Mutex::new(Snapshot::default()));
		let published = snapshot.clone();
		std::thread::Builder::new()
			.name("openlora-engine".into())
			.spawn(move || run(engine, inbox, published))
			.map_err(|e| ServeError::Io(format!("starting the engine thread: {e}")))?;
		let inner = Inner { commands: Mutex::new(commands), snapshot, config, adapters_dir, disk };
		Ok(Self { inner: Arc::new(inner) })
	}

	fn send(&self, command: Command) -> Result<(), ServeError> {
		let commands = self.inner.commands.lock().map_err(|_| ServeError::EngineStopped)?;
		commands.send(command).map_err(|_| ServeError::EngineStopped)
	}

	/// The base Model's hyperparameters.
	pub fn config(&self) -> &LlamaConfig {
		&self.inner.config
	}

	/// Queues `request`. Its events come in order on the returned channel, [`Event::Done`] or
	/// [`Event::Error`] last; dropping the receiver cancels the request.
	pub fn submit(&self, request: Request) -> Result<UnboundedReceiver<Event>, ServeError> {
		validate(&self.inner.config, &request)?;
		let (events, receiver) = tokio::sync::mpsc::unbounded_channel();
		self.send(Command::Submit(request, events, None))?;
		Ok(receiver)
	}

	/// [`EngineHandle::submit`] flagged for attribution: the [`Capture`] comes on the second
	/// receiver when the request finishes, before [`Event::Done`] is sent (so it is there once
	/// `Done` is seen); it is dropped unsent when the request fails or is cancelled.
	pub fn submit_with_capture(
		&self,
		request: Request,
		spec: CaptureSpec,
	) -> Result<(UnboundedReceiver<Event>, oneshot::Receiver<Capture>), ServeError> {
		validate(&self.inner.config, &request)?;
		let (events, receiver) = tokio::sync::mpsc::unbounded_channel();
		let (reply, capture) = oneshot::channel();
		self.send(Command::Submit(request, events, Some((spec, reply))))?;
		Ok((receiver, capture))
	}

	/// Makes adapter `id` resident in a slab slot (loading it from disk or the store when
	/// needed) and pins it, or unpins it when `pin` is false.
	pub async fn load_adapter(&self, id: AdapterId, pin: bool) -> Result<AdapterInfo, ServeError> {
		let (reply, outcome) = oneshot::channel();
		self.send(Command::Load(id, pin, reply))?;
		outcome.await.map_err(|_| ServeError::EngineStopped)?
	}

	/// Drops adapter `id` from the slab and host memory (its files stay on disk).
	pub async fn unload_adapter(&self, id: AdapterId) -> Result<(), ServeError> {
		let (reply, outcome) = oneshot::channel();
		self.send(Command::Unload(id, reply))?;
		outcome.await.map_err(|_| ServeError::EngineStopped)?
	}

	/// Records the hash of adapter `id`'s `adapter_config.json`, so that a miss can fetch both
	/// PEFT files from the content store. No effect with a custom source.
	pub fn register_adapter_config(&self, id: AdapterId, config_hash: sp_core::H256) {
		if let Some(disk) = &self.inner.disk {
			disk.register_config(id, config_hash);
		}
	}

	/// Every adapter known: in a slot, in host memory, or in the adapters directory.
	pub fn adapters(&self) -> Vec<AdapterInfo> {
		let mut out = self.inner.snapshot.lock().map(|s| s.adapters.clone()).unwrap_or_default();
		for info in DiskSource::list(&self.inner.adapters_dir) {
			if !out.iter().any(|a| a.id == info.id) {
				out.push(info);
			}
		}
		out
	}

	/// The engine's counters as of its last step.
	pub fn stats(&self) -> EngineStats {
		self.inner.snapshot.lock().map(|s| s.stats.clone()).unwrap_or_default()
	}
}

/// The engine thread.
fn run(mut engine: Engine, inbox: mpsc::Receiver<Command>, snapshot: Arc<Mutex<Snapshot>>) {
	let mut busy = false;
	loop {
		// Sleep on the channel only when the last step found nothing to run.
		let first = match busy {
			true => inbox.try_recv().ok(),
			false => match inbox.recv() {
				Ok(command) => Some(command),
				Err(_) => return,
			},
		};
		let mut next = first;
		while let Some(command) = next {
			match command {
				Command::Submit(request, events, capture) => {
					if let Err(e) =
						engine.add_request_with_capture(request, events.clone(), capture)
					{
						let _ = events.send(Event::Error(e));
					}
				}
				Command::Load(id, pin, reply) => {
					engine.request_load(id, pin, Box::new(move |r| drop(reply.send(r))));
				}
				Command::Unload(id, reply) => {
					let _ = reply.send(engine.unload_adapter(id));
				}
				Command::Wake => {}
				Command::Stop => return,
			}
			next = inbox.try_recv().ok();
		}
		// A failed step has already failed its requests; the loop goes on with the others.
		busy = engine.step().unwrap_or(true);
		if let Ok(mut s) = snapshot.lock() {
			s.stats = engine.stats();
			s.adapters = engine.adapters();
		}
	}
}
