//! The service loop against [`FakeChain`]: each test changes the chain, then waits (bounded)
//! for what the loop must have done.

use super::*;
use crate::{
	chain::{
		testing::{FakeChain, FakeState, WAIT_LIMIT},
		types::{Backend, JobKind, ManifestEntry, SnapshotManifest, VerifySnapshotSpec},
	},
	jobs::{verify, Executor, VerificationReport, VerifySnapshotExecutor},
};
use async_trait::async_trait;
use codec::{Decode, Encode};
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;

const ACCOUNT: [u8; 32] = [7; 32];
const STAKE: u128 = 1000 * crate::chain::PLANCKS_PER_OPEN;

/// An executor that counts its runs, optionally holds each until the test lets it go, and
/// answers with the job id and round.
struct Counting {
	runs: Arc<AtomicUsize>,
	gate: Option<Arc<Semaphore>>,
	/// One permit per execution started.
	started: Arc<Semaphore>,
}

#[async_trait]
impl Executor for Counting {
	fn kind(&self) -> JobKind {
		JobKind::VerifySnapshot
	}

	async fn execute(&self, job: &AssignedJob) -> Result<JobOutput, JobError> {
		self.runs.fetch_add(1, Ordering::SeqCst);
		self.started.add_permits(1);
		if let Some(gate) = &self.gate {
			gate.acquire().await.map_err(|e| JobError::Failed(e.to_string()))?.forget();
		}
		Ok(JobOutput::new((job.id, job.round).encode()))
	}
}

struct Harness {
	chain: Arc<FakeChain>,
	handle: WorkerHandle,
	runs: Arc<AtomicUsize>,
	gate: Arc<Semaphore>,
	started: Arc<Semaphore>,
	stop: Option<oneshot::Sender<()>>,
	stopped: Option<tokio::task::JoinHandle<()>>,
}

impl Harness {
	/// A running loop over `chain`; with `gated`, each execution waits for [`Harness::release`].
	fn start(chain: FakeChain, gated: bool, heartbeat_blocks: u32) -> Self {
		Self::start_with(chain, gated, heartbeat_blocks, Duration::from_millis(5))
	}

	fn start_with(chain: FakeChain, gated: bool, heartbeat_blocks: u32, poll: Duration) -> Self {
		let chain = Arc::new(chain);
		let runs = Arc::new(AtomicUsize::new(0));
		let gate = Arc::new(Semaphore::new(0));
		let started = Arc::new(Semaphore::new(0));
		let executor = Counting {
			runs: runs.clone(),
			gate: gated.then(|| gate.clone()),
			started: started.clone(),
		};
		let (worker, handle) = Worker::new(
			chain.clone(),
			Executors::new().with(executor),
			config(heartbeat_blocks, poll),
		);
		let (stop, stop_rx) = oneshot::channel::<()>();
		let stopped = tokio::spawn(worker.run(async {
			let _ = stop_rx.await;
		}));
		Self { chain, handle, runs, gate, started, stop: Some(stop), stopped: Some(stopped) }
	}

	fn runs(&self) -> usize {
		self.runs.load(Ordering::SeqCst)
	}

	/// Waits until `n` more executions have started.
	async fn wait_started(&self, n: u32) {
		tokio::time::timeout(WAIT_LIMIT, self.started.acquire_many(n))
			.await
			.expect("executions start in time")
			.expect("the semaphore stays open")
			.forget();
	}

	/// Moves the chain on a block at a time (each handled by the loop) until `done` holds.
	async fn advance_until(&self, what: &str, mut done: impl FnMut(&FakeState) -> bool) {
		for _ in 0..200 {
			if self.chain.read(&mut done) {
				return;
			}
			let block = self.chain.advance();
			self.chain.wait_for_block(block).await;
		}
		panic!("{what} did not happen within 200 blocks");
	}

	/// Polls the loop's status until `done` holds (bounded).
	async fn wait_status(&self, what: &str, done: impl Fn(&StatusReport) -> bool) {
		let polled = tokio::time::timeout(WAIT_LIMIT, async {
			while !done(&self.handle.status()) {
				tokio::task::yield_now().await;
			}
		});
		if polled.await.is_err() {
			panic!("timed out waiting for {what}: {:?}", self.handle.status());
		}
	}

	fn release(&self, executions: usize) {
		self.gate.add_permits(executions);
	}

	async fn stop(mut self) {
		if let Some(stop) = self.stop.take() {
			let _ = stop.send(());
		}
		if let Some(stopped) = self.stopped.take() {
			tokio::time::timeout(Duration::from_secs(10), stopped)
				.await
				.expect("the loop stops on shutdown")
				.expect("the loop does not panic");
		}
	}
}

fn config(heartbeat_blocks: u32, poll: Duration) -> Config {
	Config {
		stake: STAKE,
		capabilities: Capabilities {
			backend: Backend::Cpu,
			gpu_memory_mib: 0,
			max_resident_adapters: 0,
			job_kinds: JobKind::VerifySnapshot.bit(),
		},
		poll,
		max_jobs: 4,
		heartbeat_blocks,
	}
}

fn job(id: u64, round: u8) -> AssignedJob {
	AssignedJob { id, kind: JobKind::VerifySnapshot, spec: vec![], round, deadline: 100 }
}

#[tokio::test]
async fn registers_when_not_registered_and_only_then() {
	let h = Harness::start(FakeChain::new(ACCOUNT), false, 20);
	h.chain.wait_for_block(1).await;
	h.chain.advance();
	h.chain.wait_for_block(2).await;
	let registrations = h.chain.read(|s| s.registrations.clone());
	assert_eq!(registrations.len(), 1);
	let (stake, caps, block) = &registrations[0];
	assert_eq!((*stake, caps.job_kinds, *block), (STAKE, 0b1, 1));
	assert!(h.handle.status().registered);
	h.stop().await;

	let h = Harness::start(FakeChain::registered(ACCOUNT, STAKE), false, 20);
	h.chain.wait_for_block(1).await;
	assert!(h.chain.read(|s| s.registrations.is_empty()));
	assert!(h.handle.status().registered);
	h.stop().await;
}

#[tokio::test]
async fn sends_a_heartbeat_every_period() {
	let h = Harness::start(FakeChain::registered(ACCOUNT, STAKE), false, 3);
	for block in 1..=10 {
		if block > 1 {
			assert_eq!(h.chain.advance(), block);
		}
		h.chain.wait_for_block(block).await;
	}
	assert_eq!(h.chain.read(|s| s.heartbeats.clone()), vec![1, 4, 7, 10]);
	h.stop().await;

	// Registering counts as the first sign of life.
	let h = Harness::start(FakeChain::new(ACCOUNT), false, 3);
	for block in 1..=7 {
		if block > 1 {
			h.chain.advance();
		}
		h.chain.wait_for_block(block).await;
	}
	assert_eq!(h.chain.read(|s| s.heartbeats.clone()), vec![4, 7]);
	h.stop().await;
}

#[tokio::test]
async fn a_dispatched_job_runs_once() {
	// Polled once at start only, so the job can only arrive by dispatch.
	let h = Harness::start_with(
		FakeChain::registered(ACCOUNT, STAKE),
		false,
		20,
		Duration::from_secs(3600),
	);
	h.chain.wait_for_block(1).await;
	h.chain.assign(job(5, 0));
	assert_eq!(h.handle.dispatch(5).await, DispatchReply { accepted: true, reason: None });
	h.chain.wait_for("the result", |s| s.submissions.len() == 1).await;
	let again = h.handle.dispatch(5).await;
	assert!(!again.accepted, "reported jobs are no longer pending: {again:?}");
	assert_eq!(h.runs(), 1);
	let submission = h.chain.read(|s| s.submissions[0].clone());
	assert_eq!((submission.job, submission.round), (5, 0));
	assert_eq!(submission.payload, (5u64, 0u8).encode());
	h.wait_status("job 5 done", |s| s.done == vec![5]).await;
	h.stop().await;
}

#[tokio::test]
async fn ignores_dispatches_of_jobs_not_assigned_to_it() {
	let h = Harness::start(FakeChain::registered(ACCOUNT, STAKE), false, 20);
	let reply = h.handle.dispatch(99).await;
	assert!(!reply.accepted);
	assert_eq!(reply.reason.as_deref(), Some("job 99 is not pending for this worker"));
	h.chain.wait_for_block(1).await;
	assert_eq!(h.runs(), 0);
	h.stop().await;
}

#[tokio::test]
async fn a_job_seen_by_poll_and_dispatch_runs_once() {
	let chain = FakeChain::registered(ACCOUNT, STAKE);
	chain.assign(job(8, 0));
	let h = Harness::start(chain, true, 20);
	// The poll starts it; it is held running while dispatches and more polls name it.
	h.wait_started(1).await;
	let reply = h.handle.dispatch(8).await;
	assert!(reply.accepted, "{reply:?}");
	assert_eq!(reply.reason.as_deref(), Some("job 8 round 0 is already running"));
	let block = h.chain.advance();
	h.chain.wait_for_block(block).await;
	h.release(1);
	h.chain.wait_for("the result", |s| s.submissions.len() == 1).await;
	assert_eq!(h.runs(), 1);
	h.stop().await;
}

#[tokio::test]
async fn a_result_not_yet_on_chain_is_not_run_again() {
	let chain = FakeChain::registered(ACCOUNT, STAKE);
	chain.update(|s| s.lagging = true);
	chain.assign(job(3, 0));
	let h = Harness::start(chain, false, 20);
	h.chain.wait_for("the result", |s| s.submissions.len() == 1).await;
	h.wait_status("job 3 done", |s| s.done == vec![3]).await;
	// The node still lists the job for a few blocks.
	for _ in 0..3 {
		let block = h.chain.advance();
		h.chain.wait_for_block(block).await;
	}
	assert_eq!(h.handle.dispatch(3).await.reason.as_deref(), Some("job 3 round 0 is already done"));
	assert_eq!(h.runs(), 1);
	assert_eq!(h.chain.read(|s| s.submissions.len()), 1);
	h.stop().await;
}

#[tokio::test]
async fn a_new_round_of_a_job_runs_again() {
	let chain = FakeChain::registered(ACCOUNT, STAKE);
	chain.assign(job(4, 0));
	let h = Harness::start(chain, false, 20);
	h.chain.wait_for("round 0's result", |s| s.submissions.len() == 1).await;
	// The workers disagreed: the job is assigned again, one round up.
	h.chain.assign(job(4, 1));
	h.chain.advance();
	h.chain.wait_for("round 1's result", |s| s.submissions.len() == 2).await;
	let rounds: Vec<u8> = h.chain.read(|s| s.submissions.iter().map(|x| x.round).collect());
	assert_eq!(rounds, vec![0, 1]);
	assert_eq!(h.runs(), 2);
	h.stop().await;
}

#[tokio::test]
async fn a_failed_submission_is_retried_on_a_later_block_without_running_again() {
	let chain = FakeChain::registered(ACCOUNT, STAKE);
	chain.update(|s| s.failing_submits = 2);
	chain.assign(job(6, 0));
	let h = Harness::start(chain, false, 20);
	h.chain.wait_for("the first failed submission", |s| s.failed_submissions.len() == 1).await;
	h.advance_until("the accepted result", |s| s.submissions.len() == 1).await;
	let failed_at: Vec<u32> = h.chain.read(|s| s.failed_submissions.iter().map(|f| f.1).collect());
	let accepted_at = h.chain.read(|s| s.submissions[0].block);
	assert_eq!(failed_at.len(), 2);
	assert!(failed_at[0] < failed_at[1] && failed_at[1] < accepted_at, "{failed_at:?}");
	assert!(h.handle.status().last_error.is_some_and(|e| e.contains("injected")));
	assert_eq!(h.runs(), 1);
	h.stop().await;
}

#[tokio::test]
async fn chain_errors_are_retried_and_do_not_stop_the_loop() {
	let chain = FakeChain::new(ACCOUNT);
	chain.update(|s| {
		s.failing_best_blocks = 3;
		s.failing_assigned_jobs = 2;
	});
	chain.assign(job(2, 0));
	let h = Harness::start(chain, false, 20);
	h.chain.wait_for("the failing polls", |s| s.failing_assigned_jobs == 1).await;
	assert!(h.handle.status().last_error.is_some_and(|e| e.contains("assigned jobs")));
	h.advance_until("the result", |s| s.submissions.len() == 1).await;
	h.chain.read(|s| {
		assert_eq!((s.failing_best_blocks, s.failing_assigned_jobs), (0, 0));
		assert_eq!(s.registrations.len(), 1);
	});
	assert_eq!(h.runs(), 1);
	h.stop().await;
}

#[tokio::test]
async fn runs_at_most_max_jobs_at_once() {
	let chain = FakeChain::registered(ACCOUNT, STAKE);
	for id in 0..6 {
		chain.assign(job(id, 0));
	}
	let h = Harness::start(chain, true, 20);
	h.wait_started(4).await;
	h.chain.wait_for_block(1).await;
	let status = h.handle.status();
	assert_eq!((status.running.len(), status.queued.len()), (4, 2));
	assert_eq!(h.runs(), 4);
	h.release(6);
	h.chain.wait_for("all results", |s| s.submissions.len() == 6).await;
	assert_eq!(h.runs(), 6);
	h.stop().await;
}

/// The real verification job through the loop: the payload on-chain is the report.
#[tokio::test]
async fn verifies_a_snapshot_end_to_end() {
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("a");
	std::fs::write(&path, b"contribution a").unwrap();
	let entries = vec![
		ManifestEntry {
			id: 11,
			content_hash: sp_crypto_hashing::blake2_256(b"contribution a"),
			size: 14,
			locator: format!("file://{}", path.display()),
		},
		ManifestEntry {
			id: 12,
			content_hash: [1; 32],
			size: 3,
			locator: format!("file://{}", dir.path().join("absent").display()),
		},
	];
	let leaves: Vec<[u8; 32]> =
		entries.iter().map(|e| verify::leaf_hash(e.id, &e.content_hash, e.size)).collect();
	let manifest = SnapshotManifest {
		snapshot: 2,
		datanet: 1,
		root: verify::merkle_root(&leaves).unwrap(),
		count: 2,
		total_bytes: 17,
		entries,
	};

	for corrupt in [false, true] {
		let chain = Arc::new(FakeChain::registered(ACCOUNT, STAKE));
		chain.update(|s| s.manifests.insert(2, manifest.clone()));
		chain.assign(AssignedJob {
			id: 1,
			kind: JobKind::VerifySnapshot,
			spec: VerifySnapshotSpec { snapshot: 2 }.encode(),
			round: 0,
			deadline: 50,
		});
		let executors = Executors::new()
			.with(VerifySnapshotExecutor::new(chain.clone()))
			.with_corrupt_results(corrupt);
		let (worker, _handle) =
			Worker::new(chain.clone(), executors, config(20, Duration::from_millis(5)));
		let (stop, stop_rx) = oneshot::channel::<()>();
		let running = tokio::spawn(worker.run(async {
			let _ = stop_rx.await;
		}));
		chain.wait_for("the report", |s| s.submissions.len() == 1).await;
		let payload = chain.read(|s| s.submissions[0].payload.clone());
		let expected = VerificationReport {
			snapshot: 2,
			root_matches: true,
			count: 2,
			total_bytes: 17,
			missing: vec![12],
			corrupt: vec![],
		}
		.encode();
		if corrupt {
			assert_ne!(payload, expected);
			assert_eq!(payload.len(), expected.len());
			assert_eq!(payload.last().map(|b| !b), expected.last().copied());
		} else {
			assert_eq!(payload, expected);
			assert!(VerificationReport::decode(&mut payload.as_slice()).is_ok());
		}
		let _ = stop.send(());
		running.await.unwrap();
	}
}
