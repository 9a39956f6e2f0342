//! The chain's data as the worker sees it: mirrors of the few pallet-compute and pallet-datanets
//! types the worker reads or sends, plus the snapshot manifest it assembles from the node's RPC.
//!
//! Plain data with no IO, so `jobs/` may use it too. Types that travel SCALE-encoded (call
//! arguments, job specs) derive `Encode`/`Decode` with the pallet's variant indexes pinned, so a
//! reordering here cannot silently change the bytes.

use codec::{Decode, Encode};
use std::fmt;

/// What a job asks a worker to do. The index is the pallet's `JobKind` variant index and the
/// bit of [`Capabilities::job_kinds`].
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobKind {
	/// Fetch every contribution of a Datanet snapshot, check each against its on-chain hash and
	/// recompute the snapshot's Merkle root.
	#[codec(index = 0)]
	VerifySnapshot,
	/// Fine-tune a LoRA adapter on a snapshot.
	#[codec(index = 1)]
	Train,
	/// Evaluate an adapter on held-out data.
	#[codec(index = 2)]
	Evaluate,
	/// Answer inference requests with an adapter.
	#[codec(index = 3)]
	Infer,
}

impl JobKind {
	/// Every kind, in index order.
	pub const ALL: [JobKind; 4] = [Self::VerifySnapshot, Self::Train, Self::Evaluate, Self::Infer];

	/// The pallet's variant index.
	pub fn index(self) -> u8 {
		match self {
			Self::VerifySnapshot => 0,
			Self::Train => 1,
			Self::Evaluate => 2,
			Self::Infer => 3,
		}
	}

	/// This kind's bit in a capabilities mask: `1 << index`.
	pub fn bit(self) -> u8 {
		1u8 << self.index()
	}

	/// The name used in JSON (`verifySnapshot`, `train`, ...).
	pub fn name(self) -> &'static str {
		match self {
			Self::VerifySnapshot => "verifySnapshot",
			Self::Train => "train",
			Self::Evaluate => "evaluate",
			Self::Infer => "infer",
		}
	}

	/// The mask with the bits of `kinds` set.
	pub fn mask(kinds: impl IntoIterator<Item = JobKind>) -> u8 {
		kinds.into_iter().fold(0, |mask, kind| mask | kind.bit())
	}

	/// The kinds whose bits are set in `mask`, in index order.
	pub fn from_mask(mask: u8) -> Vec<JobKind> {
		Self::ALL.into_iter().filter(|kind| mask & kind.bit() != 0).collect()
	}
}

impl fmt::Display for JobKind {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(self.name())
	}
}

/// The compute backend a worker runs jobs on.
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
	/// The CPU backend (the default; runs every job, slowly for training).
	#[codec(index = 0)]
	Cpu,
	/// NVIDIA GPUs through CUDA.
	#[codec(index = 1)]
	Cuda,
}

impl Backend {
	/// The name used in JSON and on the command line.
	pub fn name(self) -> &'static str {
		match self {
			Self::Cpu => "cpu",
			Self::Cuda => "cuda",
		}
	}
}

/// What a worker declares when it registers; the pallet assigns only jobs it can run.
#[derive(Encode, Decode, Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
	/// Its backend.
	pub backend: Backend,
	/// GPU memory in MiB (0 for the CPU backend).
	pub gpu_memory_mib: u32,
	/// How many adapters it keeps loaded at once for serving.
	pub max_resident_adapters: u32,
	/// The job kinds it runs, one bit per [`JobKind`] (`1 << index`).
	pub job_kinds: u8,
}

impl Capabilities {
	/// Whether `kind`'s bit is set.
	pub fn runs(&self, kind: JobKind) -> bool {
		self.job_kinds & kind.bit() != 0
	}
}

/// The spec of a [`JobKind::Infer`] job (pallet-inference's `InferSpec`): complete `prompt`
/// with a model version, greedily.
#[derive(Encode, Decode, Clone, Debug, PartialEq, Eq)]
pub struct InferSpec {
	/// The model.
	pub model: u32,
	/// Its version.
	pub version: u32,
	/// The prompt, UTF-8 text.
	pub prompt: Vec<u8>,
	/// Most tokens to generate.
	pub max_tokens: u32,
}

/// The payload of an infer job's result (pallet-inference's `InferResult`); the payload hash
/// is blake2-256 of its encoding.
#[derive(Encode, Decode, Clone, Debug, PartialEq, Eq)]
pub struct InferResult {
	/// The completion, UTF-8 text.
	pub completion: Vec<u8>,
	/// Tokens of the prompt.
	pub prompt_tokens: u32,
	/// Tokens generated.
	pub completion_tokens: u32,
	/// Which contributions shaped the completion, the largest first.
	pub attribution: Vec<super::inference::AttributionEntry>,
}

/// The spec of a [`JobKind::VerifySnapshot`] job, SCALE-encoded in [`AssignedJob::spec`].
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifySnapshotSpec {
	/// The snapshot to verify.
	pub snapshot: u32,
}

/// LoRA hyperparameters as a train job carries them (pallet-models' `LoraHyperparams`).
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoraHyperparams {
	/// Adapter rank.
	pub rank: u16,
	/// Adapter alpha (the update is scaled by alpha / rank).
	pub alpha: u16,
	/// Dropout, per thousand.
	pub dropout_permille: u16,
	/// Adapted projections: bit 0 q, 1 k, 2 v, 3 o, 4 gate, 5 up, 6 down.
	pub targets: u8,
	/// Peak learning rate in millionths.
	pub learning_rate_micro: u32,
	/// Warmup steps.
	pub warmup_steps: u32,
	/// Optimizer steps.
	pub steps: u32,
	/// Examples per micro-batch group.
	pub batch_size: u16,
	/// Groups per step.
	pub grad_accum: u16,
	/// Tokens per window.
	pub seq_len: u16,
	/// Held-out documents, per thousand.
	pub heldout_permille: u16,
	/// Seed of initialization, data order and dropout.
	pub seed: u64,
}

/// How replicated workers' train results must agree (pallet-models' `Agreement`).
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agreement {
	/// Bit for bit: workers train on the deterministic CPU path.
	#[codec(index = 0)]
	Exact,
	/// Held-out losses within `tolerance_ppm` millionths: workers may train on a GPU.
	#[codec(index = 1)]
	HeldOutLoss {
		/// The relative tolerance in millionths.
		tolerance_ppm: u32,
	},
}

/// The spec of a [`JobKind::Train`] job (pallet-models' `TrainSpec`).
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrainSpec {
	/// The registered base model.
	pub base: u32,
	/// blake2-256 of the base model's file.
	pub base_hash: [u8; 32],
	/// The Datanet snapshot to train on.
	pub snapshot: u32,
	/// Its Merkle root when the job was created.
	pub snapshot_root: [u8; 32],
	/// Hyperparameters.
	pub hyper: LoraHyperparams,
	/// How replicated results must agree; decides the backend this worker trains on.
	pub agreement: Agreement,
}

/// The payload of a train job's result (pallet-models' `TrainResult`); the payload hash is
/// blake2-256 of its encoding.
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrainResult {
	/// blake2-256 of `adapter_model.safetensors`.
	pub adapter_hash: [u8; 32],
	/// blake2-256 of `adapter_config.json`.
	pub config_hash: [u8; 32],
	/// Training windows.
	pub train_examples: u32,
	/// Held-out windows.
	pub heldout_examples: u32,
	/// Held-out loss of the base, nats per token times 10^6.
	pub heldout_loss_before_micro: u64,
	/// Held-out loss with the adapter, nats per token times 10^6.
	pub heldout_loss_after_micro: u64,
	/// Optimizer steps.
	pub steps: u32,
	/// blake2-256 of the attribution index built while training (in the content store).
	pub attribution_index: [u8; 32],
}

/// A pending job assigned to this worker, as the chain holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignedJob {
	/// The job's id.
	pub id: u64,
	/// What to do.
	pub kind: JobKind,
	/// The kind's parameters, SCALE-encoded (e.g. [`VerifySnapshotSpec`]).
	pub spec: Vec<u8>,
	/// The job's escalation counter: a job whose workers disagreed is assigned again with the next
	/// round, and each round is run (and reported) once.
	pub round: u8,
	/// The block by which the result must be on-chain.
	pub deadline: u32,
}

/// Whether a registered worker takes jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkerStatus {
	/// Registered and eligible for jobs.
	Active,
	/// Leaving: its stake is unbonding and it gets no new jobs.
	Unbonding,
}

/// This worker's registration, as the chain holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerState {
	/// Its bonded stake, in plancks (10^-18 OPEN).
	pub stake: u128,
	/// Active or unbonding.
	pub status: WorkerStatus,
}

/// One contribution covered by a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestEntry {
	/// The contribution's id.
	pub id: u64,
	/// blake2-256 of its bytes, as registered.
	pub content_hash: [u8; 32],
	/// Its size in bytes, as registered.
	pub size: u64,
	/// Where its bytes are (`http://`, `https://`, `file://`).
	pub locator: String,
}

/// A snapshot and the contributions it covers, in acceptance order (position 0 first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotManifest {
	/// The snapshot's id.
	pub snapshot: u32,
	/// The Datanet it versions.
	pub datanet: u32,
	/// The Merkle root the chain recorded.
	pub root: [u8; 32],
	/// How many contributions the chain says it covers.
	pub count: u32,
	/// Their total size in bytes, as the chain recorded it.
	pub total_bytes: u64,
	/// The covered contributions found through the node, ordered by position. Fewer than `count`
	/// only if the node could not name some position; verification then reports a root mismatch.
	pub entries: Vec<ManifestEntry>,
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn job_kinds_encode_as_the_pallet_indexes() {
		for kind in JobKind::ALL {
			assert_eq!(kind.encode(), vec![kind.index()]);
			assert_eq!(JobKind::decode(&mut &[kind.index()][..]).ok(), Some(kind));
		}
		assert_eq!(JobKind::decode(&mut &[4u8][..]).ok(), None);
	}

	#[test]
	fn masks_round_trip() {
		let mask = JobKind::mask([JobKind::VerifySnapshot, JobKind::Evaluate]);
		assert_eq!(mask, 0b101);
		assert_eq!(JobKind::from_mask(mask), vec![JobKind::VerifySnapshot, JobKind::Evaluate]);
	}

	#[test]
	fn capabilities_encode_field_by_field() {
		let caps = Capabilities {
			backend: Backend::Cuda,
			gpu_memory_mib: 0x0102_0304,
			max_resident_adapters: 8,
			job_kinds: 0b11,
		};
		assert_eq!(caps.encode(), vec![1, 4, 3, 2, 1, 8, 0, 0, 0, 3]);
		assert!(caps.runs(JobKind::Train));
		assert!(!caps.runs(JobKind::Infer));
		assert_eq!(VerifySnapshotSpec { snapshot: 7 }.encode(), vec![7, 0, 0, 0]);
	}
}
