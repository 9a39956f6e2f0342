//! The service loop's bookkeeping of job rounds (pure): what is queued, running, awaiting
//! submission, done or failed, keyed by (job id, round) so each round runs once however many
//! times the chain poll and dispatches name it.

use crate::{
	chain::types::AssignedJob,
	jobs::{JobError, JobOutput},
};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A job round: (job id, round).
pub type Key = (u64, u8);

/// Finished rounds remembered (for de-duplication and `worker_status`) before the oldest are
/// forgotten; by then the chain has long closed them.
pub const HISTORY: usize = 1024;

/// Where a job round is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage {
	/// Waiting for a free slot.
	Queued,
	/// Its executor is running.
	Running,
	/// Its result is being submitted.
	Submitting(JobOutput),
	/// Submitting its result failed; tried again on the next block.
	AwaitingSubmit(JobOutput),
	/// Its result was accepted by the chain.
	Done,
	/// It produced no result; `retryable` rounds run again when the chain or a dispatch names
	/// them next.
	Failed {
		/// Why.
		error: String,
		/// Whether running it again may succeed.
		retryable: bool,
	},
}

impl Stage {
	/// A word for replies and logs.
	pub fn name(&self) -> &'static str {
		match self {
			Self::Queued => "queued",
			Self::Running => "running",
			Self::Submitting(_) | Self::AwaitingSubmit(_) => "submitting",
			Self::Done => "done",
			Self::Failed { .. } => "failed",
		}
	}

	fn is_finished(&self) -> bool {
		matches!(self, Self::Done | Self::Failed { .. })
	}
}

/// What [`Tracker::offer`] did with a job round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Offer {
	/// It was queued to run.
	Queued,
	/// It was already known, at this stage; nothing changed.
	Known(&'static str),
}

#[derive(Clone, Debug)]
struct Entry {
	job: AssignedJob,
	stage: Stage,
}

/// The bookkeeping. The loop owns the transitions; `worker_status` reads [`Tracker::status`].
#[derive(Debug, Default)]
pub struct Tracker {
	rounds: BTreeMap<Key, Entry>,
	queue: VecDeque<Key>,
	finished: VecDeque<Key>,
	/// The best block the loop last saw.
	pub best_block: Option<u32>,
	/// Whether the worker is known to be registered.
	pub registered: bool,
	/// The last error the loop logged.
	pub last_error: Option<String>,
}

/// A summary of the worker's jobs, for `worker_status`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusReport {
	/// The best block the loop last saw.
	pub best_block: Option<u32>,
	/// Whether the worker is known to be registered.
	pub registered: bool,
	/// Job ids waiting for a slot.
	pub queued: Vec<u64>,
	/// Job ids running.
	pub running: Vec<u64>,
	/// Job ids whose results are being submitted (or wait to be submitted again).
	pub submitting: Vec<u64>,
	/// Job ids whose results the chain accepted.
	pub done: Vec<u64>,
	/// Job ids that produced no result.
	pub failed: Vec<u64>,
	/// The last error the loop logged.
	pub last_error: Option<String>,
}

/// The key of a job's current round.
pub fn key(job: &AssignedJob) -> Key {
	(job.id, job.round)
}

impl Tracker {
	/// Queues `job`'s round unless it is already known (a retryable failure is queued again).
	pub fn offer(&mut self, job: AssignedJob) -> Offer {
		let key = key(&job);
		if let Some(entry) = self.rounds.get_mut(&key) {
			if !matches!(entry.stage, Stage::Failed { retryable: true, .. }) {
				return Offer::Known(entry.stage.name());
			}
			entry.stage = Stage::Queued;
			entry.job = job;
		} else {
			self.rounds.insert(key, Entry { job, stage: Stage::Queued });
		}
		self.queue.push_back(key);
		Offer::Queued
	}

	/// The next queued round, now marked running.
	pub fn start_next(&mut self) -> Option<AssignedJob> {
		while let Some(key) = self.queue.pop_front() {
			if let Some(entry) = self.rounds.get_mut(&key) {
				if entry.stage == Stage::Queued {
					entry.stage = Stage::Running;
					return Some(entry.job.clone());
				}
			}
		}
		None
	}

	/// How many rounds are running.
	pub fn running(&self) -> usize {
		self.rounds.values().filter(|e| e.stage == Stage::Running).count()
	}

	/// Records an execution's outcome; returns the output to submit, if any.
	pub fn executed(&mut self, key: Key, result: Result<JobOutput, JobError>) -> Option<JobOutput> {
		let entry = self.rounds.get_mut(&key)?;
		match result {
			Ok(output) => {
				entry.stage = Stage::Submitting(output.clone());
				Some(output)
			}
			Err(error) => {
				let retryable = error.is_retryable();
				entry.stage = Stage::Failed { error: error.to_string(), retryable };
				self.finish(key);
				None
			}
		}
	}

	/// Records a submission's outcome: done, or submitted again on the next block.
	pub fn submitted(&mut self, key: Key, accepted: bool) {
		let Some(entry) = self.rounds.get_mut(&key) else { return };
		let Stage::Submitting(output) = &entry.stage else { return };
		if accepted {
			entry.stage = Stage::Done;
			self.finish(key);
		} else {
			entry.stage = Stage::AwaitingSubmit(output.clone());
		}
	}

	/// The rounds whose submission failed, now marked submitting again, if the chain still
	/// lists them (`pending`). Those it no longer lists closed without this worker's result
	/// being accepted (or it was accepted and the reply lost); they are given up.
	pub fn resubmissions(&mut self, pending: &BTreeSet<Key>) -> Vec<(AssignedJob, JobOutput)> {
		let mut out = Vec::new();
		let mut closed = Vec::new();
		for (key, entry) in self.rounds.iter_mut() {
			let Stage::AwaitingSubmit(output) = &entry.stage else { continue };
			if pending.contains(key) {
				let output = output.clone();
				entry.stage = Stage::Submitting(output.clone());
				out.push((entry.job.clone(), output));
			} else {
				entry.stage = Stage::Failed {
					error: "the chain no longer lists the job; its result was not resubmitted"
						.into(),
					retryable: false,
				};
				closed.push(*key);
			}
		}
		for key in closed {
			self.finish(key);
		}
		out
	}

	/// The job of a round, if known.
	pub fn job(&self, key: Key) -> Option<AssignedJob> {
		self.rounds.get(&key).map(|e| e.job.clone())
	}

	/// The stage of a round, if known.
	pub fn stage(&self, key: Key) -> Option<&Stage> {
		self.rounds.get(&key).map(|e| &e.stage)
	}

	/// Marks `key` finished and forgets the oldest finished rounds beyond [`HISTORY`].
	fn finish(&mut self, key: Key) {
		self.finished.push_back(key);
		while self.finished.len() > HISTORY {
			let Some(old) = self.finished.pop_front() else { break };
			// A retryable failure may have been queued again since; keep it then.
			if self.rounds.get(&old).is_some_and(|e| e.stage.is_finished()) {
				self.rounds.remove(&old);
			}
		}
	}

	/// A summary for `worker_status`.
	pub fn status(&self) -> StatusReport {
		let mut report = StatusReport {
			best_block: self.best_block,
			registered: self.registered,
			last_error: self.last_error.clone(),
			..StatusReport::default()
		};
		for ((id, _round), entry) in &self.rounds {
			let list = match entry.stage {
				Stage::Queued => &mut report.queued,
				Stage::Running => &mut report.running,
				Stage::Submitting(_) | Stage::AwaitingSubmit(_) => &mut report.submitting,
				Stage::Done => &mut report.done,
				Stage::Failed { .. } => &mut report.failed,
			};
			list.push(*id);
		}
		report
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::chain::types::JobKind;

	fn job(id: u64, round: u8) -> AssignedJob {
		AssignedJob { id, kind: JobKind::VerifySnapshot, spec: vec![], round, deadline: 50 }
	}

	#[test]
	fn a_round_is_queued_once() {
		let mut t = Tracker::default();
		assert_eq!(t.offer(job(1, 0)), Offer::Queued);
		assert_eq!(t.offer(job(1, 0)), Offer::Known("queued"));
		assert_eq!(t.start_next(), Some(job(1, 0)));
		assert_eq!(t.start_next(), None);
		assert_eq!(t.offer(job(1, 0)), Offer::Known("running"));
		// The next round of the same job is new work.
		assert_eq!(t.offer(job(1, 1)), Offer::Queued);
		assert_eq!(t.running(), 1);
	}

	#[test]
	fn a_failed_submission_waits_for_the_next_block() {
		let mut t = Tracker::default();
		t.offer(job(2, 0));
		t.start_next();
		let out = JobOutput::new(vec![1]);
		assert_eq!(t.executed((2, 0), Ok(out.clone())), Some(out.clone()));
		t.submitted((2, 0), false);
		assert_eq!(t.stage((2, 0)), Some(&Stage::AwaitingSubmit(out.clone())));
		assert_eq!(t.offer(job(2, 0)), Offer::Known("submitting"));
		let pending = BTreeSet::from([(2, 0)]);
		assert_eq!(t.resubmissions(&pending), vec![(job(2, 0), out)]);
		assert!(t.resubmissions(&pending).is_empty(), "already submitting");
		t.submitted((2, 0), true);
		assert_eq!(t.stage((2, 0)), Some(&Stage::Done));
		assert_eq!(t.status().done, vec![2]);
	}

	#[test]
	fn a_closed_round_is_not_resubmitted() {
		let mut t = Tracker::default();
		t.offer(job(3, 0));
		t.start_next();
		t.executed((3, 0), Ok(JobOutput::new(vec![])));
		t.submitted((3, 0), false);
		assert!(t.resubmissions(&BTreeSet::new()).is_empty());
		assert!(matches!(t.stage((3, 0)), Some(Stage::Failed { retryable: false, .. })));
	}

	#[test]
	fn only_retryable_failures_run_again() {
		let mut t = Tracker::default();
		t.offer(job(4, 0));
		t.offer(job(5, 0));
		t.start_next();
		t.start_next();
		t.executed((4, 0), Err(JobError::Inputs("node down".into())));
		t.executed((5, 0), Err(JobError::InvalidSpec("garbage".into())));
		assert_eq!(t.offer(job(4, 0)), Offer::Queued);
		assert_eq!(t.offer(job(5, 0)), Offer::Known("failed"));
		let status = t.status();
		assert_eq!((status.queued, status.failed), (vec![4], vec![5]));
	}

	#[test]
	fn forgets_the_oldest_finished_rounds() {
		let mut t = Tracker::default();
		for id in 0..(HISTORY as u64 + 10) {
			t.offer(job(id, 0));
			t.start_next();
			t.executed((id, 0), Ok(JobOutput::new(vec![])));
			t.submitted((id, 0), true);
		}
		assert_eq!(t.status().done.len(), HISTORY);
		assert_eq!(t.stage((0, 0)), None);
		assert_eq!(t.stage((HISTORY as u64 + 9, 0)), Some(&Stage::Done));
	}
}
