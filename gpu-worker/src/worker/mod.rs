//! The service loop: keeps the worker registered and alive on-chain, finds its jobs, runs them
//! and reports their results.
//!
//! On each new best block (polled every `poll`) the loop
//! 1. registers the worker if the chain does not know it (once it succeeds);
//! 2. sends a heartbeat if `heartbeat_blocks` blocks passed since the last one;
//! 3. reads the jobs assigned to it, queues each round it has not seen, and submits again the
//!    results whose submission failed.
//!
//! Jobs also arrive by dispatch ([`WorkerHandle::dispatch`], from the `worker_dispatch` RPC):
//! the loop reads the job from the chain itself and queues it like a polled one. Rounds are
//! keyed by (job id, round) in a [`tracker::Tracker`], so each runs once whoever names it; at
//! most `max_jobs` run at once, on their own tasks. Every failure is logged (`worker: ...` on
//! stderr), kept as `last_error`, and retried on a later block; nothing ends the loop but its
//! shutdown future.

pub mod tracker;

pub use tracker::StatusReport;

use crate::{
	chain::{
		types::{AssignedJob, Capabilities, WorkerStatus},
		Chain, ChainError,
	},
	jobs::{Executors, JobError, JobOutput},
};
use std::{
	collections::{BTreeSet, HashMap},
	future::Future,
	sync::{Arc, Mutex, MutexGuard},
	time::Duration,
};
use tokio::{
	sync::{mpsc, oneshot},
	task::{self, JoinSet},
	time::MissedTickBehavior,
};
use tracker::{Key, Offer, Tracker};

/// How the loop runs.
#[derive(Clone, Debug)]
pub struct Config {
	/// Stake bonded when registering, in plancks.
	pub stake: u128,
	/// What the worker declares when registering.
	pub capabilities: Capabilities,
	/// How often the best block is polled.
	pub poll: Duration,
	/// Jobs run at once.
	pub max_jobs: usize,
	/// Blocks between heartbeats.
	pub heartbeat_blocks: u32,
}

/// The answer to a dispatch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DispatchReply {
	/// Whether this worker runs (or already ran) the job's current round.
	pub accepted: bool,
	/// Why not, or what had already happened to it.
	pub reason: Option<String>,
}

struct Dispatch {
	job: u64,
	reply: oneshot::Sender<DispatchReply>,
}

/// Talks to a running loop: dispatches jobs, reads its status. Cheap to clone.
#[derive(Clone, Debug)]
pub struct WorkerHandle {
	account: [u8; 32],
	capabilities: Capabilities,
	dispatches: mpsc::Sender<Dispatch>,
	tracker: Arc<Mutex<Tracker>>,
}

impl WorkerHandle {
	/// The worker's account.
	pub fn account(&self) -> [u8; 32] {
		self.account
	}

	/// What the worker declares on-chain.
	pub fn capabilities(&self) -> &Capabilities {
		&self.capabilities
	}

	/// Asks the loop to run job `job`; the loop reads it from the chain and queues its current
	/// round unless it is not pending for this worker.
	pub async fn dispatch(&self, job: u64) -> DispatchReply {
		let stopped = || DispatchReply {
			accepted: false,
			reason: Some("the worker is shutting down".into()),
		};
		let (reply, answer) = oneshot::channel();
		if self.dispatches.send(Dispatch { job, reply }).await.is_err() {
			return stopped();
		}
		answer.await.unwrap_or_else(|_| stopped())
	}

	/// The loop's jobs and state.
	pub fn status(&self) -> StatusReport {
		lock(&self.tracker).status()
	}
}

fn lock(tracker: &Mutex<Tracker>) -> MutexGuard<'_, Tracker> {
	// The tracker's transitions do not panic midway; a poisoned lock still holds usable state.
	tracker.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a finished task of the loop reports.
enum Done {
	Looked { job: u64, found: Result<Option<AssignedJob>, ChainError> },
	Executed { key: Key, result: Result<JobOutput, JobError> },
	Submitted { key: Key, result: Result<(), ChainError> },
}

/// What a task was doing, to account for one that panicked.
enum Task {
	Lookup(u64),
	Execute(Key),
	Submit(Key),
}

/// The service loop, for a chain `C`.
pub struct Worker<C: ?Sized> {
	chain: Arc<C>,
	executors: Arc<Executors>,
	config: Config,
	tracker: Arc<Mutex<Tracker>>,
	dispatches: mpsc::Receiver<Dispatch>,
	tasks: JoinSet<Done>,
	task_kinds: HashMap<task::Id, Task>,
	/// Dispatch replies waiting for their lookups, by job id.
	waiting: HashMap<u64, Vec<oneshot::Sender<DispatchReply>>>,
	last_block: Option<u32>,
	last_heartbeat: Option<u32>,
	registered: bool,
}

impl<C: Chain + ?Sized + 'static> Worker<C> {
	/// A loop over `chain` running jobs with `executors`, and the handle to talk to it.
	pub fn new(chain: Arc<C>, executors: Executors, config: Config) -> (Self, WorkerHandle) {
		let (send, receive) = mpsc::channel(64);
		let tracker = Arc::new(Mutex::new(Tracker::default()));
		let handle = WorkerHandle {
			account: chain.account(),
			capabilities: config.capabilities.clone(),
			dispatches: send,
			tracker: tracker.clone(),
		};
		let worker = Self {
			chain,
			executors: Arc::new(executors),
			config,
			tracker,
			dispatches: receive,
			tasks: JoinSet::new(),
			task_kinds: HashMap::new(),
			waiting: HashMap::new(),
			last_block: None,
			last_heartbeat: None,
			registered: false,
		};
		(worker, handle)
	}

	/// Runs until `shutdown` completes; jobs still running are then abandoned (a later start
	/// finds them assigned again and runs them).
	pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
		let mut ticks = tokio::time::interval(self.config.poll);
		ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
		tokio::pin!(shutdown);
		loop {
			self.start_queued();
			tokio::select! {
				() = &mut shutdown => break,
				_ = ticks.tick() => self.on_tick().await,
				Some(dispatch) = self.dispatches.recv() => self.on_dispatch(dispatch),
				Some(done) = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => {
					self.on_done(done)
				}
			}
		}
		let running = lock(&self.tracker).running();
		if running > 0 {
			eprintln!("worker: stopping; {running} running job(s) abandoned");
		}
		self.tasks.shutdown().await;
	}

	fn log_error(&self, context: &str, error: impl std::fmt::Display) {
		let message = format!("{context}: {error}");
		eprintln!("worker: {message}");
		lock(&self.tracker).last_error = Some(message);
	}

	async fn on_tick(&mut self) {
		let best = match self.chain.best_block().await {
			Ok(best) => best,
			Err(e) => return self.log_error("reading the best block", e),
		};
		if self.last_block.is_some_and(|last| best <= last) {
			return;
		}
		self.last_block = Some(best);
		lock(&self.tracker).best_block = Some(best);

		if !self.registered {
			self.ensure_registered(best).await;
		}
		if self.registered && self.heartbeat_due(best) {
			match self.chain.heartbeat().await {
				Ok(()) => self.last_heartbeat = Some(best),
				Err(e) => self.log_error("sending a heartbeat", e),
			}
		}
		let assigned = match self.chain.assigned_jobs().await {
			Ok(jobs) => jobs,
			Err(e) => return self.log_error("reading assigned jobs", e),
		};
		let pending: BTreeSet<Key> = assigned.iter().map(tracker::key).collect();
		let resubmit = {
			let mut tracker = lock(&self.tracker);
			for job in assigned {
				tracker.offer(job);
			}
			tracker.resubmissions(&pending)
		};
		for (job, output) in resubmit {
			self.spawn_submit(&job, output);
		}
	}

	fn heartbeat_due(&self, best: u32) -> bool {
		self.last_heartbeat
			.is_none_or(|last| best >= last.saturating_add(self.config.heartbeat_blocks))
	}

	async fn ensure_registered(&mut self, best: u32) {
		match self.chain.worker().await {
			Ok(Some(state)) => {
				if state.status == WorkerStatus::Unbonding {
					eprintln!("worker: registered but unbonding; the chain assigns it no new jobs");
				}
				self.registered = true;
			}
			Ok(None) => match self
				.chain
				.register(self.config.stake, &self.config.capabilities)
				.await
			{
				Ok(()) => {
					eprintln!("worker: registered with a stake of {} plancks", self.config.stake);
					self.registered = true;
					// Registering is a sign of life: the first heartbeat is due a period later.
					self.last_heartbeat = Some(best);
				}
				Err(e) => self.log_error("registering", e),
			},
			Err(e) => self.log_error("reading the worker's registration", e),
		}
		lock(&self.tracker).registered = self.registered;
	}

	fn on_dispatch(&mut self, dispatch: Dispatch) {
		let Dispatch { job, reply } = dispatch;
		let waiting = self.waiting.entry(job).or_default();
		waiting.push(reply);
		// One lookup per job id at a time; later dispatches wait for its answer.
		if waiting.len() == 1 {
			let chain = self.chain.clone();
			let handle = self.tasks.spawn(async move {
				let found = chain.job(job).await;
				Done::Looked { job, found }
			});
			self.task_kinds.insert(handle.id(), Task::Lookup(job));
		}
	}

	fn on_done(&mut self, done: Result<(task::Id, Done), task::JoinError>) {
		let done = match done {
			Ok((id, done)) => {
				self.task_kinds.remove(&id);
				done
			}
			Err(e) => return self.on_panic(e),
		};
		match done {
			Done::Looked { job, found } => self.on_lookup(job, found),
			Done::Executed { key, result } => {
				if let Err(e) = &result {
					self.log_error(&format!("job {} round {}", key.0, key.1), e);
				}
				let (job, output) = {
					let mut tracker = lock(&self.tracker);
					let job = tracker.job(key);
					(job, tracker.executed(key, result))
				};
				if let (Some(job), Some(output)) = (job, output) {
					self.spawn_submit(&job, output);
				}
			}
			Done::Submitted { key, result } => {
				if let Err(e) = &result {
					self.log_error(&format!("submitting the result of job {}", key.0), e);
				} else {
					eprintln!("worker: job {} round {}: result submitted", key.0, key.1);
				}
				lock(&self.tracker).submitted(key, result.is_ok());
			}
		}
	}

	fn on_panic(&mut self, error: task::JoinError) {
		let kind = self.task_kinds.remove(&error.id());
		let message = format!("a task panicked: {error}");
		match kind {
			Some(Task::Execute(key)) => {
				self.log_error(&format!("job {} round {}", key.0, key.1), &message);
				lock(&self.tracker).executed(key, Err(JobError::Failed(message)));
			}
			Some(Task::Submit(key)) => {
				self.log_error(&format!("submitting the result of job {}", key.0), &message);
				lock(&self.tracker).submitted(key, false);
			}
			Some(Task::Lookup(job)) => {
				self.on_lookup(job, Err(ChainError::Other(message)));
			}
			None => self.log_error("a worker task", &message),
		}
	}

	fn on_lookup(&mut self, job: u64, found: Result<Option<AssignedJob>, ChainError>) {
		let reply = match found {
			Ok(Some(assigned)) => {
				let round = assigned.round;
				match lock(&self.tracker).offer(assigned) {
					Offer::Queued => DispatchReply { accepted: true, reason: None },
					Offer::Known(stage) => DispatchReply {
						accepted: true,
						reason: Some(format!("job {job} round {round} is already {stage}")),
					},
				}
			}
			Ok(None) => DispatchReply {
				accepted: false,
				reason: Some(format!("job {job} is not pending for this worker")),
			},
			Err(e) => {
				self.log_error(&format!("reading dispatched job {job}"), &e);
				DispatchReply {
					accepted: false,
					reason: Some(format!("could not read job {job} from the chain: {e}")),
				}
			}
		};
		for waiting in self.waiting.remove(&job).unwrap_or_default() {
			let _ = waiting.send(reply.clone());
		}
	}

	fn start_queued(&mut self) {
		let max = self.config.max_jobs.max(1);
		loop {
			let job = {
				let mut tracker = lock(&self.tracker);
				if tracker.running() >= max {
					return;
				}
				match tracker.start_next() {
					Some(job) => job,
					None => return,
				}
			};
			let key = tracker::key(&job);
			eprintln!("worker: job {} round {}: running ({})", job.id, job.round, job.kind);
			let executors = self.executors.clone();
			let handle = self.tasks.spawn(async move {
				let result = executors.execute(&job).await;
				Done::Executed { key, result }
			});
			self.task_kinds.insert(handle.id(), Task::Execute(key));
		}
	}

	fn spawn_submit(&mut self, job: &AssignedJob, output: JobOutput) {
		let key = tracker::key(job);
		let chain = self.chain.clone();
		let id = job.id;
		let handle = self.tasks.spawn(async move {
			let result = chain.submit_result(id, output.payload_hash, output.payload).await;
			Done::Submitted { key, result }
		});
		self.task_kinds.insert(handle.id(), Task::Submit(key));
	}
}

#[cfg(test)]
mod tests;
