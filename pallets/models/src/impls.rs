//! The logic behind the calls and the job hooks: base model registration, checking and
//! requesting fine-tunes, recording their results as model versions, and model management.

use alloc::vec::Vec;
use codec::{DecodeAll, Encode};
use frame_support::{
	ensure,
	traits::{fungible::MutateHold, Get},
	weights::Weight,
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_compute::{
	traits::{JobCreator, JobHooks},
	JobId, JobKind,
};
use pallet_datanets::{traits::DatanetsInspect, SnapshotId};
use sp_core::H256;
use sp_runtime::{ArithmeticError, DispatchError, DispatchResult};

use crate::{
	traits::Inspect, Agreement, BalanceOf, BaseModel, BaseModelHashes, BaseModelId, BaseModels,
	Config, Error, Event, Finetune, FinetuneOf, HoldReason, LoraHyperparams, Model, ModelId,
	ModelOf, ModelRecords, ModelStatus, ModelVersion, ModelVersionOf, ModelVersions,
	NextBaseModelId, NextModelId, Pallet, PendingFinetunes, TrainMetrics, TrainResult, TrainSpec,
	VersionIndex, WeightInfo,
};

/// Hyperparameter bounds that do not depend on the runtime.
pub mod bounds {
	use core::ops::RangeInclusive;

	/// LoRA rank.
	pub const RANK: RangeInclusive<u16> = 1..=64;
	/// LoRA alpha.
	pub const ALPHA: RangeInclusive<u16> = 1..=1024;
	/// Largest dropout, per mille.
	pub const MAX_DROPOUT_PERMILLE: u16 = 500;
	/// Learning rate in millionths.
	pub const LEARNING_RATE_MICRO: RangeInclusive<u32> = 1..=100_000;
	/// Sequences per micro-batch.
	pub const BATCH_SIZE: RangeInclusive<u16> = 1..=64;
	/// Micro-batches per optimizer step.
	pub const GRAD_ACCUM: RangeInclusive<u16> = 1..=64;
	/// Tokens per sequence.
	pub const SEQ_LEN: RangeInclusive<u16> = 8..=2048;
	/// Held-out share, per mille.
	pub const HELDOUT_PERMILLE: RangeInclusive<u16> = 1..=500;
	/// The loosest held-out loss tolerance a fine-tune may ask for, in millionths (5%).
	pub const MAX_LOSS_TOLERANCE_PPM: u32 = 50_000;
}

impl<T: Config> Pallet<T> {
	fn now() -> BlockNumberFor<T> {
		frame_system::Pallet::<T>::block_number()
	}

	// ---- Base models ------------------------------------------------------------------------

	pub(crate) fn do_register_base_model(
		who: T::AccountId,
		name: Vec<u8>,
		content_hash: H256,
		architecture: Vec<u8>,
		parameters: u64,
		license: Vec<u8>,
	) -> Result<BaseModelId, DispatchError> {
		let name = BoundedVec::try_from(name).map_err(|_| Error::<T>::NameTooLong)?;
		let architecture =
			BoundedVec::try_from(architecture).map_err(|_| Error::<T>::ArchitectureTooLong)?;
		let license = BoundedVec::try_from(license).map_err(|_| Error::<T>::LicenseTooLong)?;
		ensure!(!BaseModelHashes::<T>::contains_key(content_hash), Error::<T>::DuplicateBaseModel);
		let id = NextBaseModelId::<T>::get();
		let next = id.checked_add(1).ok_or(ArithmeticError::Overflow)?;
		let deposit = T::BaseModelDeposit::get();
		T::Currency::hold(&HoldReason::BaseModelDeposit.into(), &who, deposit)
			.map_err(|_| Error::<T>::InsufficientBalance)?;

		BaseModels::<T>::insert(
			id,
			BaseModel {
				owner: who.clone(),
				name,
				content_hash,
				architecture,
				parameters,
				license,
				deposit,
				registered_at: Self::now(),
			},
		);
		BaseModelHashes::<T>::insert(content_hash, id);
		NextBaseModelId::<T>::put(next);
		Self::deposit_event(Event::BaseModelRegistered {
			base: id,
			owner: who,
			content_hash,
			deposit,
		});
		Ok(id)
	}

	// ---- Fine-tunes -------------------------------------------------------------------------

	/// Checks `hyper` against the fixed bounds (see [`bounds`]) and `MaxTrainSteps`.
	pub fn check_hyperparams(hyper: &LoraHyperparams) -> Result<(), Error<T>> {
		ensure!(bounds::RANK.contains(&hyper.rank), Error::<T>::RankOutOfRange);
		ensure!(bounds::ALPHA.contains(&hyper.alpha), Error::<T>::AlphaOutOfRange);
		ensure!(
			hyper.dropout_permille <= bounds::MAX_DROPOUT_PERMILLE,
			Error::<T>::DropoutOutOfRange
		);
		ensure!(
			hyper.targets != 0 && hyper.targets & !crate::targets::ALL == 0,
			Error::<T>::InvalidTargets
		);
		ensure!(
			bounds::LEARNING_RATE_MICRO.contains(&hyper.learning_rate_micro),
			Error::<T>::LearningRateOutOfRange
		);
		ensure!(
			hyper.steps >= 1 && hyper.steps <= T::MaxTrainSteps::get(),
			Error::<T>::StepsOutOfRange
		);
		ensure!(hyper.warmup_steps <= hyper.steps, Error::<T>::WarmupTooLong);
		ensure!(bounds::BATCH_SIZE.contains(&hyper.batch_size), Error::<T>::BatchSizeOutOfRange);
		ensure!(bounds::GRAD_ACCUM.contains(&hyper.grad_accum), Error::<T>::GradAccumOutOfRange);
		ensure!(bounds::SEQ_LEN.contains(&hyper.seq_len), Error::<T>::SeqLenOutOfRange);
		ensure!(
			bounds::HELDOUT_PERMILLE.contains(&hyper.heldout_permille),
			Error::<T>::HeldoutOutOfRange
		);
		Ok(())
	}

	/// Checks and pays for a fine-tune and creates its training job. Runs inside the calling
	/// extrinsic's storage layer: if the job cannot be created, the access fee is not taken.
	#[allow(clippy::too_many_arguments)]
	pub(crate) fn do_request_finetune(
		who: T::AccountId,
		base: BaseModelId,
		snapshot: SnapshotId,
		hyper: LoraHyperparams,
		agreement: Agreement,
		fee: BalanceOf<T>,
		replication: u8,
		timeout: BlockNumberFor<T>,
		model: Option<ModelId>,
	) -> Result<JobId, DispatchError> {
		Self::check_hyperparams(&hyper)?;
		if let Agreement::HeldOutLoss { tolerance_ppm } = agreement {
			ensure!(
				(1..=bounds::MAX_LOSS_TOLERANCE_PPM).contains(&tolerance_ppm),
				Error::<T>::ToleranceOutOfRange
			);
		}
		let base_model = BaseModels::<T>::get(base).ok_or(Error::<T>::UnknownBaseModel)?;
		if let Some(id) = model {
			let record = Self::owned_model(&who, id)?;
			ensure!(!record.is_deprecated(), Error::<T>::Deprecated);
			ensure!(record.base == base, Error::<T>::BaseMismatch);
			ensure!(record.versions < T::MaxVersionsPerModel::get(), Error::<T>::TooManyVersions);
		}
		ensure!(
			PendingFinetunes::<T>::count() < T::MaxPendingFinetunes::get(),
			Error::<T>::TooManyPendingFinetunes
		);
		let snapshot_root =
			T::Datanets::snapshot_root(snapshot).ok_or(Error::<T>::UnknownSnapshot)?;
		ensure!(T::Datanets::may_train(&who, snapshot), Error::<T>::NoTrainingAccess);
		let access_fee = T::Datanets::charge_training_access(&who, snapshot)?;

		let spec = TrainSpec {
			base,
			base_hash: base_model.content_hash,
			snapshot,
			snapshot_root,
			hyper,
			agreement,
		};
		let job = T::Jobs::create_job(
			who.clone(),
			JobKind::Train,
			spec.encode(),
			fee,
			replication,
			timeout,
		)?;
		PendingFinetunes::<T>::insert(
			job,
			Finetune { requester: who.clone(), base, snapshot, hyper, model },
		);
		Self::deposit_event(Event::FinetuneRequested {
			job,
			requester: who,
			base,
			snapshot,
			model,
			access_fee,
		});
		Ok(job)
	}

	/// Records a completed fine-tune's result as a version, or says why it cannot.
	fn record_result(
		job: JobId,
		finetune: FinetuneOf<T>,
		spec: &[u8],
		outcome: H256,
		payload: &[u8],
		workers: &[T::AccountId],
	) {
		let hashed = H256(sp_io::hashing::blake2_256(payload));
		let decoded = TrainResult::decode_all(&mut &payload[..])
			.ok()
			.zip(TrainSpec::decode_all(&mut &spec[..]).ok())
			.filter(|(_, spec)| spec.base == finetune.base && spec.snapshot == finetune.snapshot);
		let (result, spec) = match decoded {
			Some(decoded) if hashed == outcome => decoded,
			_ => {
				Self::deposit_event(Event::FinetuneResultInvalid { job });
				return;
			}
		};

		let now = Self::now();
		let (id, mut model) = match finetune.model {
			Some(id) => match ModelRecords::<T>::get(id) {
				Some(model)
					if !model.is_deprecated() && model.versions < T::MaxVersionsPerModel::get() =>
				{
					(id, model)
				}
				_ => {
					Self::deposit_event(Event::FinetuneDiscarded { job, model: Some(id) });
					return;
				}
			},
			None => {
				let id = NextModelId::<T>::get();
				let Some(next) = id.checked_add(1) else {
					Self::deposit_event(Event::FinetuneDiscarded { job, model: None });
					return;
				};
				NextModelId::<T>::put(next);
				Self::deposit_event(Event::ModelCreated {
					model: id,
					owner: finetune.requester.clone(),
					base: finetune.base,
				});
				let model = Model {
					owner: finetune.requester.clone(),
					base: finetune.base,
					name: None,
					status: ModelStatus::Draft,
					versions: 0,
					active: None,
					created_at: now,
				};
				(id, model)
			}
		};

		// Below `MaxVersionsPerModel`, so this cannot overflow.
		let version = model.versions.saturating_add(1);
		model.versions = version;
		if model.active.is_none() {
			model.active = Some(version);
		}
		ModelVersions::<T>::insert(
			id,
			version,
			ModelVersion {
				base: spec.base,
				base_hash: spec.base_hash,
				snapshot: spec.snapshot,
				snapshot_root: spec.snapshot_root,
				adapter_hash: result.adapter_hash,
				config_hash: result.config_hash,
				attribution_index: result.attribution_index,
				hyper: finetune.hyper,
				metrics: TrainMetrics::from(&result),
				workers: BoundedVec::truncate_from(workers.to_vec()),
				job,
				created_at: now,
			},
		);
		ModelRecords::<T>::insert(id, model);
		Self::deposit_event(Event::VersionRecorded {
			model: id,
			version,
			job,
			snapshot: spec.snapshot,
			adapter_hash: result.adapter_hash,
			heldout_loss_after_micro: result.heldout_loss_after_micro,
		});
	}

	// ---- Models -----------------------------------------------------------------------------

	/// The model, if it exists and `who` owns it.
	fn owned_model(who: &T::AccountId, id: ModelId) -> Result<ModelOf<T>, DispatchError> {
		let model = ModelRecords::<T>::get(id).ok_or(Error::<T>::UnknownModel)?;
		ensure!(model.owner == *who, Error::<T>::NotOwner);
		Ok(model)
	}

	pub(crate) fn do_publish(who: T::AccountId, id: ModelId) -> DispatchResult {
		let mut model = Self::owned_model(&who, id)?;
		ensure!(!model.is_deprecated(), Error::<T>::Deprecated);
		ensure!(model.status != ModelStatus::Published, Error::<T>::AlreadyPublished);
		model.status = ModelStatus::Published;
		ModelRecords::<T>::insert(id, model);
		Self::deposit_event(Event::ModelPublished { model: id });
		Ok(())
	}

	pub(crate) fn do_deprecate(who: T::AccountId, id: ModelId) -> DispatchResult {
		let mut model = Self::owned_model(&who, id)?;
		ensure!(!model.is_deprecated(), Error::<T>::Deprecated);
		model.status = ModelStatus::Deprecated;
		ModelRecords::<T>::insert(id, model);
		Self::deposit_event(Event::ModelDeprecated { model: id });
		Ok(())
	}

	pub(crate) fn do_transfer_model(
		who: T::AccountId,
		id: ModelId,
		to: T::AccountId,
	) -> DispatchResult {
		let mut model = Self::owned_model(&who, id)?;
		ensure!(to != who, Error::<T>::AlreadyOwner);
		model.owner = to.clone();
		ModelRecords::<T>::insert(id, model);
		Self::deposit_event(Event::ModelTransferred { model: id, from: who, to });
		Ok(())
	}

	pub(crate) fn do_set_active_version(
		who: T::AccountId,
		id: ModelId,
		version: VersionIndex,
	) -> DispatchResult {
		let mut model = Self::owned_model(&who, id)?;
		ensure!(!model.is_deprecated(), Error::<T>::Deprecated);
		ensure!(model.has_version(version), Error::<T>::UnknownVersion);
		ensure!(model.active != Some(version), Error::<T>::AlreadyActive);
		model.active = Some(version);
		ModelRecords::<T>::insert(id, model);
		Self::deposit_event(Event::ActiveVersionSet { model: id, version });
		Ok(())
	}

	pub(crate) fn do_set_model_name(
		who: T::AccountId,
		id: ModelId,
		name: Option<Vec<u8>>,
	) -> DispatchResult {
		let mut model = Self::owned_model(&who, id)?;
		let name =
			name.map(BoundedVec::try_from).transpose().map_err(|_| Error::<T>::NameTooLong)?;
		model.name = name.clone();
		ModelRecords::<T>::insert(id, model);
		Self::deposit_event(Event::ModelNamed { model: id, name });
		Ok(())
	}
}

/// Compute tells this pallet how its training jobs ended. Jobs it did not create are ignored.
impl<T: Config> JobHooks<T::AccountId> for Pallet<T> {
	fn on_completed(
		job: JobId,
		_requester: &T::AccountId,
		kind: JobKind,
		spec: &[u8],
		outcome: H256,
		payload: &[u8],
		workers: &[T::AccountId],
	) -> Weight {
		if kind != JobKind::Train {
			return Weight::zero();
		}
		let Some(finetune) = PendingFinetunes::<T>::take(job) else {
			return T::DbWeight::get().reads(1);
		};
		Self::record_result(job, finetune, spec, outcome, payload, workers);
		T::WeightInfo::on_completed()
	}

	fn on_failed(job: JobId, _requester: &T::AccountId, kind: JobKind, _spec: &[u8]) -> Weight {
		if kind != JobKind::Train {
			return Weight::zero();
		}
		if PendingFinetunes::<T>::take(job).is_none() {
			return T::DbWeight::get().reads(1);
		}
		Self::deposit_event(Event::FinetuneFailed { job });
		T::WeightInfo::on_failed()
	}

	fn max_weight() -> Weight {
		T::WeightInfo::on_completed().max(T::WeightInfo::on_failed())
	}

	/// Train results agree as their spec's [`Agreement`] says; a result whose payload is not
	/// what its hash commits to, or does not decode, agrees with nothing but an equal hash.
	fn agree(kind: JobKind, spec: &[u8], a: (H256, &[u8]), b: (H256, &[u8])) -> bool {
		if a.0 == b.0 {
			return true;
		}
		if kind != JobKind::Train {
			return false;
		}
		let result = |(hash, payload): (H256, &[u8])| {
			(H256(sp_io::hashing::blake2_256(payload)) == hash)
				.then(|| TrainResult::decode_all(&mut &payload[..]).ok())
				.flatten()
		};
		match (TrainSpec::decode_all(&mut &spec[..]), result(a), result(b)) {
			(Ok(spec), Some(a), Some(b)) => spec.agreement.agree(&a, &b),
			_ => false,
		}
	}
}

impl<T: Config> Inspect<T::AccountId> for Pallet<T> {
	type Version = ModelVersionOf<T>;

	fn model_owner(model: ModelId) -> Option<T::AccountId> {
		ModelRecords::<T>::get(model).map(|m| m.owner)
	}

	fn model_version(model: ModelId, version: VersionIndex) -> Option<ModelVersionOf<T>> {
		ModelVersions::<T>::get(model, version)
	}

	fn active_version(model: ModelId) -> Option<VersionIndex> {
		ModelRecords::<T>::get(model).and_then(|m| m.active)
	}

	fn version_snapshot(model: ModelId, version: VersionIndex) -> Option<SnapshotId> {
		ModelVersions::<T>::get(model, version).map(|v| v.snapshot)
	}
}
