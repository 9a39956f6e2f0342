//! What this pallet asks of the rest of the runtime: a check of job specs against other
//! pallets' state (for example that a snapshot to verify exists in Datanets).

use crate::types::JobKind;

/// Why a job spec was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum JobSpecError {
	/// The spec does not decode or does not make sense for its kind.
	Invalid,
	/// The spec names a snapshot that does not exist.
	UnknownSnapshot,
}

/// Checks a job's spec before the job is created and its fee escrowed.
pub trait JobSpecCheck {
	/// `Ok` if a job of `kind` may run with `spec`.
	fn check(kind: JobKind, spec: &[u8]) -> Result<(), JobSpecError>;

	/// A job kind and a spec of `max_len` bytes or fewer that [`Self::check`] accepts, as costly
	/// to check as any; benchmarks create jobs with it. The default fits the `()` check.
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_spec(max_len: u32) -> (JobKind, alloc::vec::Vec<u8>) {
		(JobKind::Train, alloc::vec![0u8; max_len as usize])
	}
}

/// Accepts every spec.
impl JobSpecCheck for () {
	fn check(_kind: JobKind, _spec: &[u8]) -> Result<(), JobSpecError> {
		Ok(())
	}
}
