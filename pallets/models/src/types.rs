//! Domain types: base models, LoRA hyperparameters, the training job's spec and result (which
//! the GPU worker encodes and decodes too), fine-tunes in flight, models, their versions, and the
//! plain views the runtime API returns.
//!
//! [`TrainSpec`], [`LoraHyperparams`] and [`TrainResult`] cross the chain boundary as SCALE
//! bytes: their field order is their wire format and must not change.

use crate::Config;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{derive_where::derive_where, traits::fungible, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_compute::JobId;
use pallet_datanets::SnapshotId;
use scale_info::TypeInfo;
use sp_core::{Get, H256};

/// Identifies a registered base model. Assigned sequentially from 0.
pub type BaseModelId = u32;
/// Identifies a fine-tuned model. Assigned sequentially from 0 when its first version is made.
pub type ModelId = u32;
/// A model's version, counted from 1.
pub type VersionIndex = u32;

/// The balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// A base or fine-tuned model's name.
pub type NameOf<T> = BoundedVec<u8, <T as Config>::MaxNameLen>;
/// A base model's architecture family, for example `llama`.
pub type ArchitectureOf<T> = BoundedVec<u8, <T as Config>::MaxArchitectureLen>;
/// A base model's licence identifier.
pub type LicenseOf<T> = BoundedVec<u8, <T as Config>::MaxLicenseLen>;
/// A base model as stored.
pub type BaseModelOf<T> = BaseModel<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
	<T as Config>::MaxNameLen,
	<T as Config>::MaxArchitectureLen,
	<T as Config>::MaxLicenseLen,
>;
/// A fine-tune in flight as stored.
pub type FinetuneOf<T> = Finetune<<T as frame_system::Config>::AccountId>;
/// A model as stored.
pub type ModelOf<T> =
	Model<<T as frame_system::Config>::AccountId, BlockNumberFor<T>, <T as Config>::MaxNameLen>;
/// A model version as stored.
pub type ModelVersionOf<T> = ModelVersion<
	<T as frame_system::Config>::AccountId,
	BlockNumberFor<T>,
	<T as Config>::MaxVersionWorkers,
>;

/// A model anyone may fine-tune from, identified by the hash of its weights file.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
#[derive_where(Clone, PartialEq, Eq, Debug; AccountId, Balance, BlockNumber)]
#[derive_where(crate = frame_support::derive_where)]
#[scale_info(skip_type_params(MaxName, MaxArchitecture, MaxLicense))]
#[codec(mel_bound(AccountId: MaxEncodedLen, Balance: MaxEncodedLen, BlockNumber: MaxEncodedLen))]
pub struct BaseModel<
	AccountId,
	Balance,
	BlockNumber,
	MaxName: Get<u32>,
	MaxArchitecture: Get<u32>,
	MaxLicense: Get<u32>,
> {
	/// Who registered it and whose deposit is held.
	pub owner: AccountId,
	/// Its name, for example `SmolLM2-135M`.
	pub name: BoundedVec<u8, MaxName>,
	/// blake2-256 of the model file (for example a GGUF or safetensors file); unique.
	pub content_hash: H256,
	/// Its architecture family, for example `llama`.
	pub architecture: BoundedVec<u8, MaxArchitecture>,
	/// Its parameter count.
	pub parameters: u64,
	/// Its licence identifier, for example `apache-2.0`.
	pub license: BoundedVec<u8, MaxLicense>,
	/// Held from the owner under `HoldReason::BaseModelDeposit`.
	pub deposit: Balance,
	/// The block it was registered in.
	pub registered_at: BlockNumber,
}

/// Bits of [`LoraHyperparams::targets`]: the projections a LoRA adapter is attached to.
pub mod targets {
	/// Attention query projection.
	pub const Q_PROJ: u8 = 1;
	/// Attention key projection.
	pub const K_PROJ: u8 = 2;
	/// Attention value projection.
	pub const V_PROJ: u8 = 4;
	/// Attention output projection.
	pub const O_PROJ: u8 = 8;
	/// MLP gate projection.
	pub const GATE_PROJ: u8 = 16;
	/// MLP up projection.
	pub const UP_PROJ: u8 = 32;
	/// MLP down projection.
	pub const DOWN_PROJ: u8 = 64;
	/// Every known projection.
	pub const ALL: u8 = 127;
}

/// How to train a LoRA adapter. Integers only, so that every worker reads the same numbers.
///
/// Wire format (SCALE, in this order): `rank: u16, alpha: u16, dropout_permille: u16,
/// targets: u8, learning_rate_micro: u32, warmup_steps: u32, steps: u32, batch_size: u16,
/// grad_accum: u16, seq_len: u16, heldout_permille: u16, seed: u64`.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct LoraHyperparams {
	/// The adapter's rank `r`: 1 to 64.
	pub rank: u16,
	/// The LoRA scaling numerator `alpha` (the update is scaled by `alpha / r`): 1 to 1024.
	pub alpha: u16,
	/// Dropout on the adapter's input, in thousandths: at most 500.
	pub dropout_permille: u16,
	/// The projections to adapt, a bitmask of [`targets`]: non-zero, below 128.
	pub targets: u8,
	/// The peak learning rate in millionths: 1 to 100,000 (1e-6 to 0.1).
	pub learning_rate_micro: u32,
	/// Steps of linear warm-up to the peak rate: at most `steps`.
	pub warmup_steps: u32,
	/// Optimizer steps: 1 to `Config::MaxTrainSteps`.
	pub steps: u32,
	/// Sequences per micro-batch: 1 to 64.
	pub batch_size: u16,
	/// Micro-batches accumulated per optimizer step: 1 to 64.
	pub grad_accum: u16,
	/// Tokens per sequence: 8 to 2048.
	pub seq_len: u16,
	/// Thousandths of the snapshot held out for evaluation: 1 to 500.
	pub heldout_permille: u16,
	/// Seeds adapter initialisation, dropout, shuffling and the held-out split.
	pub seed: u64,
}

/// How the results of a training job's replicated workers must agree for the job to complete.
///
/// Wire format (SCALE): index `0` for `Exact`; index `1` and a `u32` for `HeldOutLoss`.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Agreement {
	/// Bit for bit: the same adapter file, so the same result hash. Workers train on the
	/// deterministic CPU path, where the same seed, data and hyperparameters give the same
	/// bytes on every machine.
	#[codec(index = 0)]
	Exact,
	/// Within a tolerance, for GPU training, whose floating-point sums are not reproducible
	/// across devices: the same adapter config, steps and train/held-out split, and held-out
	/// losses before and after training each within `tolerance_ppm` millionths of the larger
	/// of the two. The version records the adapter of the result most workers agree with.
	#[codec(index = 1)]
	HeldOutLoss {
		/// The relative tolerance in millionths: 1 to [`crate::bounds::MAX_LOSS_TOLERANCE_PPM`].
		tolerance_ppm: u32,
	},
}

impl Agreement {
	/// Whether two training results agree under this rule.
	pub fn agree(&self, a: &TrainResult, b: &TrainResult) -> bool {
		match *self {
			Agreement::Exact => a == b,
			Agreement::HeldOutLoss { tolerance_ppm } => {
				let close = |x: u64, y: u64| {
					let diff = u128::from(x.abs_diff(y));
					let larger = u128::from(x.max(y));
					diff.saturating_mul(1_000_000) <= larger.saturating_mul(tolerance_ppm.into())
				};
				a.config_hash == b.config_hash
					&& a.train_examples == b.train_examples
					&& a.heldout_examples == b.heldout_examples
					&& a.steps == b.steps
					&& close(a.heldout_loss_before_micro, b.heldout_loss_before_micro)
					&& close(a.heldout_loss_after_micro, b.heldout_loss_after_micro)
			}
		}
	}
}

/// The spec of a [`pallet_compute::JobKind::Train`] job this pallet creates, SCALE-encoded into
/// the job's spec. It names the exact weights and data to train on.
///
/// Wire format (SCALE, in this order): `base: u32, base_hash: [u8; 32], snapshot: u32,
/// snapshot_root: [u8; 32], hyper: LoraHyperparams, agreement: Agreement`.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct TrainSpec {
	/// The base model to adapt.
	pub base: BaseModelId,
	/// Its content hash: the worker checks its weights file against it.
	pub base_hash: H256,
	/// The Datanet snapshot to train on.
	pub snapshot: SnapshotId,
	/// Its Merkle root: the worker checks the data it fetched against it.
	pub snapshot_root: H256,
	/// How to train.
	pub hyper: LoraHyperparams,
	/// How replicated workers' results must agree.
	pub agreement: Agreement,
}

/// What a worker reports for a training job: its inline payload is this, SCALE-encoded, and its
/// payload hash is `blake2_256` of those bytes. Workers that trained the same adapter
/// bit-for-bit agree on it.
///
/// Wire format (SCALE, in this order): `adapter_hash: [u8; 32], config_hash: [u8; 32],
/// train_examples: u32, heldout_examples: u32, heldout_loss_before_micro: u64,
/// heldout_loss_after_micro: u64, steps: u32, attribution_index: [u8; 32]`.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct TrainResult {
	/// blake2-256 of the adapter's `adapter_model.safetensors`.
	pub adapter_hash: H256,
	/// blake2-256 of its `adapter_config.json`.
	pub config_hash: H256,
	/// Examples trained on.
	pub train_examples: u32,
	/// Examples held out for evaluation.
	pub heldout_examples: u32,
	/// Mean held-out cross-entropy of the base model, in nats times 1e6.
	pub heldout_loss_before_micro: u64,
	/// Mean held-out cross-entropy with the adapter, in nats times 1e6.
	pub heldout_loss_after_micro: u64,
	/// Optimizer steps taken.
	pub steps: u32,
	/// blake2-256 of the Proof of Attribution index built while training (the contributions'
	/// gradient sketches and token index), kept in the worker's content store; zero if none.
	pub attribution_index: H256,
}

/// The numbers a training run reported, kept with the version it produced.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct TrainMetrics {
	/// Examples trained on.
	pub train_examples: u32,
	/// Examples held out for evaluation.
	pub heldout_examples: u32,
	/// Mean held-out cross-entropy of the base model, in nats times 1e6.
	pub heldout_loss_before_micro: u64,
	/// Mean held-out cross-entropy with the adapter, in nats times 1e6.
	pub heldout_loss_after_micro: u64,
	/// Optimizer steps taken.
	pub steps: u32,
}

impl From<&TrainResult> for TrainMetrics {
	fn from(result: &TrainResult) -> Self {
		TrainMetrics {
			train_examples: result.train_examples,
			heldout_examples: result.heldout_examples,
			heldout_loss_before_micro: result.heldout_loss_before_micro,
			heldout_loss_after_micro: result.heldout_loss_after_micro,
			steps: result.steps,
		}
	}
}

/// A fine-tune whose training job is running.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct Finetune<AccountId> {
	/// Who asked for it, paid for it and will own the new model.
	pub requester: AccountId,
	/// The base model trained on.
	pub base: BaseModelId,
	/// The snapshot trained on.
	pub snapshot: SnapshotId,
	/// How.
	pub hyper: LoraHyperparams,
	/// The model it adds a version to, or `None` for a new model.
	pub model: Option<ModelId>,
}

/// Where a model is in its life.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum ModelStatus {
	/// Only its owner uses it; it takes new versions.
	#[codec(index = 0)]
	Draft,
	/// Offered to others; it takes new versions.
	#[codec(index = 1)]
	Published,
	/// Withdrawn for good: it takes no new versions and its active version is fixed. Final.
	#[codec(index = 2)]
	Deprecated,
}

/// A fine-tuned model: a line of adapter versions on one base model.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
#[derive_where(Clone, PartialEq, Eq, Debug; AccountId, BlockNumber)]
#[derive_where(crate = frame_support::derive_where)]
#[scale_info(skip_type_params(MaxName))]
#[codec(mel_bound(AccountId: MaxEncodedLen, BlockNumber: MaxEncodedLen))]
pub struct Model<AccountId, BlockNumber, MaxName: Get<u32>> {
	/// Who owns it: requests its new versions and manages it.
	pub owner: AccountId,
	/// The base model every version adapts.
	pub base: BaseModelId,
	/// An optional display name.
	pub name: Option<BoundedVec<u8, MaxName>>,
	/// Draft, published or deprecated.
	pub status: ModelStatus,
	/// How many versions it has; they are numbered `1..=versions`. At least 1.
	pub versions: u32,
	/// The version served and attributed by default; the first version until the owner picks
	/// another.
	pub active: Option<VersionIndex>,
	/// The block its first version was recorded in.
	pub created_at: BlockNumber,
}

/// One trained adapter of a model, with everything needed to trace it back: the base weights,
/// the data, the hyperparameters, who trained it and what it scored.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
#[derive_where(Clone, PartialEq, Eq, Debug; AccountId, BlockNumber)]
#[derive_where(crate = frame_support::derive_where)]
#[scale_info(skip_type_params(MaxWorkers))]
#[codec(mel_bound(AccountId: MaxEncodedLen, BlockNumber: MaxEncodedLen))]
pub struct ModelVersion<AccountId, BlockNumber, MaxWorkers: Get<u32>> {
	/// The base model adapted.
	pub base: BaseModelId,
	/// Its content hash.
	pub base_hash: H256,
	/// The Datanet snapshot trained on.
	pub snapshot: SnapshotId,
	/// Its Merkle root.
	pub snapshot_root: H256,
	/// blake2-256 of the adapter's `adapter_model.safetensors`.
	pub adapter_hash: H256,
	/// blake2-256 of its `adapter_config.json`.
	pub config_hash: H256,
	/// blake2-256 of its Proof of Attribution index (see [`TrainResult::attribution_index`]).
	pub attribution_index: H256,
	/// How it was trained.
	pub hyper: LoraHyperparams,
	/// What the training reported.
	pub metrics: TrainMetrics,
	/// The workers whose agreeing results made it (the job's majority, in account order; the
	/// first `Config::MaxVersionWorkers`).
	pub workers: BoundedVec<AccountId, MaxWorkers>,
	/// The compute job that trained it.
	pub job: JobId,
	/// The block it was recorded in.
	pub created_at: BlockNumber,
}

/// A base model as the runtime API returns it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct BaseModelView<AccountId, Balance, BlockNumber> {
	/// Its id.
	pub id: BaseModelId,
	/// Who registered it.
	pub owner: AccountId,
	/// Name.
	pub name: Vec<u8>,
	/// blake2-256 of the model file.
	pub content_hash: H256,
	/// Architecture family.
	pub architecture: Vec<u8>,
	/// Parameter count.
	pub parameters: u64,
	/// Licence.
	pub license: Vec<u8>,
	/// The deposit held.
	pub deposit: Balance,
	/// Registration block.
	pub registered_at: BlockNumber,
}

/// A model as the runtime API returns it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct ModelView<AccountId, BlockNumber> {
	/// Its id.
	pub id: ModelId,
	/// Its owner.
	pub owner: AccountId,
	/// The base model.
	pub base: BaseModelId,
	/// Display name, if set.
	pub name: Option<Vec<u8>>,
	/// Draft, published or deprecated.
	pub status: ModelStatus,
	/// How many versions it has.
	pub versions: u32,
	/// The active version.
	pub active: Option<VersionIndex>,
	/// The block its first version was recorded in.
	pub created_at: BlockNumber,
}

/// A model version as the runtime API returns it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct ModelVersionView<AccountId, BlockNumber> {
	/// The model.
	pub model: ModelId,
	/// The version, from 1.
	pub version: VersionIndex,
	/// The base model adapted.
	pub base: BaseModelId,
	/// Its content hash.
	pub base_hash: H256,
	/// The snapshot trained on.
	pub snapshot: SnapshotId,
	/// Its Merkle root.
	pub snapshot_root: H256,
	/// blake2-256 of the adapter weights file.
	pub adapter_hash: H256,
	/// blake2-256 of the adapter config file.
	pub config_hash: H256,
	/// blake2-256 of its attribution index.
	pub attribution_index: H256,
	/// How it was trained.
	pub hyper: LoraHyperparams,
	/// What the training reported.
	pub metrics: TrainMetrics,
	/// The agreeing workers.
	pub workers: Vec<AccountId>,
	/// The compute job.
	pub job: JobId,
	/// Recording block.
	pub created_at: BlockNumber,
}

impl<AccountId: Clone, Balance: Copy, BlockNumber: Copy, N: Get<u32>, A: Get<u32>, L: Get<u32>>
	BaseModel<AccountId, Balance, BlockNumber, N, A, L>
{
	/// The plain view of this base model for the runtime API.
	pub fn view(&self, id: BaseModelId) -> BaseModelView<AccountId, Balance, BlockNumber> {
		BaseModelView {
			id,
			owner: self.owner.clone(),
			name: self.name.to_vec(),
			content_hash: self.content_hash,
			architecture: self.architecture.to_vec(),
			parameters: self.parameters,
			license: self.license.to_vec(),
			deposit: self.deposit,
			registered_at: self.registered_at,
		}
	}
}

impl<AccountId: Clone, BlockNumber: Copy, N: Get<u32>> Model<AccountId, BlockNumber, N> {
	/// Whether the model is deprecated.
	pub fn is_deprecated(&self) -> bool {
		self.status == ModelStatus::Deprecated
	}

	/// Whether `version` is one of the model's versions.
	pub fn has_version(&self, version: VersionIndex) -> bool {
		version >= 1 && version <= self.versions
	}

	/// The plain view of this model for the runtime API.
	pub fn view(&self, id: ModelId) -> ModelView<AccountId, BlockNumber> {
		ModelView {
			id,
			owner: self.owner.clone(),
			base: self.base,
			name: self.name.as_ref().map(|n| n.to_vec()),
			status: self.status,
			versions: self.versions,
			active: self.active,
			created_at: self.created_at,
		}
	}
}

impl<AccountId: Clone, BlockNumber: Copy, W: Get<u32>> ModelVersion<AccountId, BlockNumber, W> {
	/// The plain view of this version for the runtime API.
	pub fn view(
		&self,
		model: ModelId,
		version: VersionIndex,
	) -> ModelVersionView<AccountId, BlockNumber> {
		ModelVersionView {
			model,
			version,
			base: self.base,
			base_hash: self.base_hash,
			snapshot: self.snapshot,
			snapshot_root: self.snapshot_root,
			adapter_hash: self.adapter_hash,
			config_hash: self.config_hash,
			attribution_index: self.attribution_index,
			hyper: self.hyper,
			metrics: self.metrics,
			workers: self.workers.to_vec(),
			job: self.job,
			created_at: self.created_at,
		}
	}
}
