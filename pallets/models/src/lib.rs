//! # Models pallet
//!
//! The chain side of the ModelFactory: which base models exist, which LoRA fine-tunes were asked
//! for on which Datanet snapshots, and the versioned models they produced, each version with its
//! full lineage (base weights, data, hyperparameters, workers, metrics).
//!
//! ## Flow
//!
//! 1. Anyone [`register_base_model`](Pallet::register_base_model)s a model file by its
//!    blake2-256 content hash (a file is registered once), with its architecture, parameter count
//!    and licence; [`Config::BaseModelDeposit`] is held under [`HoldReason::BaseModelDeposit`].
//! 2. A requester [`request_finetune`](Pallet::request_finetune)s: a base model, a Datanet
//!    snapshot, [`LoraHyperparams`] (checked against fixed bounds and [`Config::MaxTrainSteps`]),
//!    the compute fee, replication and timeout, and optionally a model of theirs on the same base
//!    to add a version to. The snapshot's access policy is applied through
//!    [`Config::Datanets`] (which charges a per-use fee to the requester for the Datanet owner),
//!    then a [`pallet_compute::JobKind::Train`] job is created through [`Config::Jobs`] with a
//!    SCALE-encoded [`TrainSpec`] as its spec. The fine-tune waits in [`PendingFinetunes`].
//! 3. Workers train and submit the SCALE-encoded [`TrainResult`] as the job's payload, its
//!    blake2-256 as the payload hash. When compute settles the job it calls this pallet's
//!    [`pallet_compute::traits::JobHooks`]:
//!    - completed with a payload that hashes to the outcome and decodes: a [`ModelVersion`] is
//!      recorded, under a new [`Model`] owned by the requester or the one named in the request;
//!    - completed with a payload that does not: `FinetuneResultInvalid`;
//!    - failed: `FinetuneFailed`.
//!
//!    Either way the fine-tune leaves [`PendingFinetunes`]. Compute has already paid or refunded
//!    the job's fee; the access fee is not refunded (the data was handed out).
//! 4. The owner [`publish`](Pallet::publish)es, [`deprecate`](Pallet::deprecate)s,
//!    [`transfer_model`](Pallet::transfer_model)s and names
//!    ([`set_model_name`](Pallet::set_model_name)) the model and picks its active version
//!    ([`set_active_version`](Pallet::set_active_version)).
//!
//! Other pallets (attribution, IAO) read models through [`traits::Inspect`]; the node and dApps
//! through the [`runtime_api::ModelsApi`] runtime API.
//!
//! ## Rules worth knowing
//!
//! - A model has at most [`Config::MaxVersionsPerModel`] versions. A request for a full model is
//!   refused; a result for a model that filled up (or was deprecated) while it trained is
//!   dropped with `FinetuneDiscarded`.
//! - A deprecated model is frozen: no new versions, no new active version, no publishing. It can
//!   still be transferred.
//! - Base models are never removed, so lineage always resolves.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use impls::bounds;
pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
#[cfg(test)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod traits;
#[cfg(any(feature = "try-runtime", test))]
mod try_state;
pub mod types;
pub mod weights;

// FRAME's pallet macros expand to `expect` (storage prefixes, pallet names); the hand-written
// modules (`impls`, `types`, ...) keep the workspace's lints.
// `request_finetune` takes eight arguments, which the macro's generated call builders repeat.
#[allow(clippy::expect_used, clippy::too_many_arguments)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{InspectHold, Mutate, MutateHold},
	};
	use frame_system::pallet_prelude::*;
	use pallet_compute::{traits::JobCreator, JobId};
	use pallet_datanets::{traits::DatanetsInspect, SnapshotId};
	use sp_core::H256;
	use sp_runtime::traits::StaticLookup;

	type AccountIdLookupOf<T> = <<T as frame_system::Config>::Lookup as StaticLookup>::Source;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A base model registrant's deposit.
		#[codec(index = 0)]
		BaseModelDeposit,
	}

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The currency deposits are held in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reasons, which include this pallet's.
		type RuntimeHoldReason: From<HoldReason>;

		/// Snapshots to train on and the access policy that guards them.
		type Datanets: DatanetsInspect<Self::AccountId, BalanceOf<Self>>;

		/// Creates the training jobs (the compute pallet).
		type Jobs: JobCreator<Self::AccountId, BalanceOf<Self>, BlockNumberFor<Self>>;

		/// Held from whoever registers a base model.
		#[pallet::constant]
		type BaseModelDeposit: Get<BalanceOf<Self>>;

		/// The most optimizer steps a fine-tune may ask for.
		#[pallet::constant]
		type MaxTrainSteps: Get<u32>;

		/// Most versions per model.
		#[pallet::constant]
		type MaxVersionsPerModel: Get<u32>;

		/// Most fine-tunes in flight at once.
		#[pallet::constant]
		type MaxPendingFinetunes: Get<u32>;

		/// Most workers kept per version (the rest of a larger majority are not listed). At least
		/// compute's `MaxAssigned` keeps them all.
		#[pallet::constant]
		type MaxVersionWorkers: Get<u32>;

		/// Longest base model or model name, in bytes.
		#[pallet::constant]
		type MaxNameLen: Get<u32>;

		/// Longest architecture name, in bytes.
		#[pallet::constant]
		type MaxArchitectureLen: Get<u32>;

		/// Longest licence identifier, in bytes.
		#[pallet::constant]
		type MaxLicenseLen: Get<u32>;

		/// Weights of this pallet's calls and job hooks.
		type WeightInfo: WeightInfo;
	}

	/// The id the next base model gets.
	#[pallet::storage]
	pub type NextBaseModelId<T> = StorageValue<_, BaseModelId, ValueQuery>;

	/// Every registered base model.
	#[pallet::storage]
	pub type BaseModels<T: Config> = StorageMap<_, Twox64Concat, BaseModelId, BaseModelOf<T>>;

	/// The base model registered with each content hash.
	#[pallet::storage]
	pub type BaseModelHashes<T> = StorageMap<_, Identity, H256, BaseModelId>;

	/// Fine-tunes whose training job is running, by job. At most `MaxPendingFinetunes`.
	#[pallet::storage]
	pub type PendingFinetunes<T: Config> = CountedStorageMap<_, Twox64Concat, JobId, FinetuneOf<T>>;

	/// The id the next model gets.
	#[pallet::storage]
	pub type NextModelId<T> = StorageValue<_, ModelId, ValueQuery>;

	/// Every model.
	#[pallet::storage]
	pub type ModelRecords<T: Config> = StorageMap<_, Twox64Concat, ModelId, ModelOf<T>>;

	/// Every model version: `(model, version) -> version`, versions from 1.
	#[pallet::storage]
	pub type ModelVersions<T: Config> =
		StorageDoubleMap<_, Twox64Concat, ModelId, Twox64Concat, VersionIndex, ModelVersionOf<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A base model was registered and its deposit held.
		BaseModelRegistered {
			base: BaseModelId,
			owner: T::AccountId,
			content_hash: H256,
			deposit: BalanceOf<T>,
		},
		/// A fine-tune was paid for and its training job created. `access_fee` went to the
		/// Datanet's owner.
		FinetuneRequested {
			job: JobId,
			requester: T::AccountId,
			base: BaseModelId,
			snapshot: SnapshotId,
			model: Option<ModelId>,
			access_fee: BalanceOf<T>,
		},
		/// A fine-tune produced its first version, and with it a new draft model.
		ModelCreated { model: ModelId, owner: T::AccountId, base: BaseModelId },
		/// A fine-tune's result was recorded as a model version.
		VersionRecorded {
			model: ModelId,
			version: VersionIndex,
			job: JobId,
			snapshot: SnapshotId,
			adapter_hash: H256,
			heldout_loss_after_micro: u64,
		},
		/// A training job completed, but its agreed payload does not hash to the outcome or is
		/// not a `TrainResult`; nothing was recorded.
		FinetuneResultInvalid { job: JobId },
		/// A training job completed, but its model could no longer take a version (it is full
		/// or deprecated, or no model id is left); nothing was recorded.
		FinetuneDiscarded { job: JobId, model: Option<ModelId> },
		/// A training job failed; nothing was recorded.
		FinetuneFailed { job: JobId },
		/// A model was published.
		ModelPublished { model: ModelId },
		/// A model was deprecated.
		ModelDeprecated { model: ModelId },
		/// A model changed hands.
		ModelTransferred { model: ModelId, from: T::AccountId, to: T::AccountId },
		/// A model's active version changed.
		ActiveVersionSet { model: ModelId, version: VersionIndex },
		/// A model's name was set or cleared.
		ModelNamed { model: ModelId, name: Option<NameOf<T>> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// A base model with this content hash is registered.
		DuplicateBaseModel,
		/// A name is longer than `MaxNameLen`.
		NameTooLong,
		/// The architecture is longer than `MaxArchitectureLen`.
		ArchitectureTooLong,
		/// The licence is longer than `MaxLicenseLen`.
		LicenseTooLong,
		/// The account cannot pay the deposit.
		InsufficientBalance,
		/// No base model has this id.
		UnknownBaseModel,
		/// No snapshot has this id.
		UnknownSnapshot,
		/// The snapshot's access policy does not admit the caller.
		NoTrainingAccess,
		/// No model has this id.
		UnknownModel,
		/// The caller does not own the model.
		NotOwner,
		/// The model adapts a different base model.
		BaseMismatch,
		/// The model is deprecated.
		Deprecated,
		/// The model is already published.
		AlreadyPublished,
		/// The model has no such version.
		UnknownVersion,
		/// The version is already the active one.
		AlreadyActive,
		/// The recipient already owns the model.
		AlreadyOwner,
		/// The model has `MaxVersionsPerModel` versions.
		TooManyVersions,
		/// `MaxPendingFinetunes` fine-tunes are in flight.
		TooManyPendingFinetunes,
		/// The LoRA rank must be between 1 and 64.
		RankOutOfRange,
		/// The LoRA alpha must be between 1 and 1024.
		AlphaOutOfRange,
		/// Dropout must be at most 500 per mille.
		DropoutOutOfRange,
		/// The target mask must be non-zero and name known projections only (below 128).
		InvalidTargets,
		/// The learning rate must be between 1 and 100,000 millionths.
		LearningRateOutOfRange,
		/// Steps must be between 1 and `MaxTrainSteps`.
		StepsOutOfRange,
		/// Warm-up must be at most the number of steps.
		WarmupTooLong,
		/// The batch size must be between 1 and 64.
		BatchSizeOutOfRange,
		/// Gradient accumulation must be between 1 and 64.
		GradAccumOutOfRange,
		/// The sequence length must be between 8 and 2048.
		SeqLenOutOfRange,
		/// The held-out share must be between 1 and 500 per mille.
		HeldoutOutOfRange,
		/// A held-out loss tolerance must be between 1 and 50,000 millionths.
		ToleranceOutOfRange,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxVersionsPerModel::get() > 0, "a model must take a version");
			assert!(T::MaxPendingFinetunes::get() > 0, "a fine-tune must fit");
			assert!(T::MaxVersionWorkers::get() > 0, "a version must list its worker");
			assert!(T::MaxTrainSteps::get() > 0, "training needs a step");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers a base model by the blake2-256 hash of its file and holds
		/// `BaseModelDeposit` from the caller. A content hash is registered once.
		///
		/// Emits `BaseModelRegistered`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_base_model())]
		pub fn register_base_model(
			origin: OriginFor<T>,
			name: Vec<u8>,
			content_hash: H256,
			architecture: Vec<u8>,
			parameters: u64,
			license: Vec<u8>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register_base_model(
				who,
				name,
				content_hash,
				architecture,
				parameters,
				license,
			)?;
			Ok(())
		}

		/// Asks for a LoRA fine-tune of `base` on `snapshot`: checks the hyperparameters and the
		/// agreement rule, admits the caller to the snapshot (paying its access fee, if any) and
		/// creates the training job with `fee`, `replication` and `timeout`. Its replicated
		/// workers must agree as `agreement` says: `Exact` (bit for bit, CPU training) or
		/// `HeldOutLoss` within a tolerance (GPU training). With `model`, the result becomes a new
		/// version of that model (the caller's, on the same base); without, a new model.
		///
		/// Emits `FinetuneRequested` (and compute's `JobCreated`).
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::request_finetune())]
		#[allow(clippy::too_many_arguments)]
		pub fn request_finetune(
			origin: OriginFor<T>,
			base: BaseModelId,
			snapshot: SnapshotId,
			hyper: LoraHyperparams,
			agreement: Agreement,
			fee: BalanceOf<T>,
			replication: u8,
			timeout: BlockNumberFor<T>,
			model: Option<ModelId>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_request_finetune(
				who,
				base,
				snapshot,
				hyper,
				agreement,
				fee,
				replication,
				timeout,
				model,
			)?;
			Ok(())
		}

		/// Publishes the caller's draft model.
		///
		/// Emits `ModelPublished`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::publish())]
		pub fn publish(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_publish(who, model)
		}

		/// Deprecates the caller's model for good.
		///
		/// Emits `ModelDeprecated`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::deprecate())]
		pub fn deprecate(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_deprecate(who, model)
		}

		/// Gives the caller's model to `to`.
		///
		/// Emits `ModelTransferred`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::transfer_model())]
		pub fn transfer_model(
			origin: OriginFor<T>,
			model: ModelId,
			to: AccountIdLookupOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let to = T::Lookup::lookup(to)?;
			Self::do_transfer_model(who, model, to)
		}

		/// Makes `version` the caller's model's active version.
		///
		/// Emits `ActiveVersionSet`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::set_active_version())]
		pub fn set_active_version(
			origin: OriginFor<T>,
			model: ModelId,
			version: VersionIndex,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_active_version(who, model, version)
		}

		/// Sets (or with `None` clears) the caller's model's display name.
		///
		/// Emits `ModelNamed`.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::set_model_name())]
		pub fn set_model_name(
			origin: OriginFor<T>,
			model: ModelId,
			name: Option<Vec<u8>>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_model_name(who, model, name)
		}
	}
}
