//! The runtime API the node RPC, GPU workers and dApps read models through, and the queries
//! behind it.
//!
//! The runtime implements it by forwarding to the `Pallet::api_*` functions:
//!
//! ```ignore
//! impl pallet_models::runtime_api::ModelsApi<Block, AccountId, Balance, BlockNumber> for Runtime {
//!     fn base_model(base: BaseModelId) -> Option<BaseModelView<AccountId, Balance, BlockNumber>> {
//!         Models::api_base_model(base)
//!     }
//!     // ... and so on for each function.
//! }
//! ```

use alloc::vec::Vec;
use codec::Codec;
use frame_support::traits::Get;
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_compute::JobId;

use crate::{types::*, BaseModels, Config, ModelRecords, ModelVersions, Pallet, PendingFinetunes};

sp_api::decl_runtime_apis! {
	/// Read access to base models, models, their versions and fine-tunes in flight.
	pub trait ModelsApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// One base model.
		fn base_model(base: BaseModelId) -> Option<BaseModelView<AccountId, Balance, BlockNumber>>;

		/// One model.
		fn model(model: ModelId) -> Option<ModelView<AccountId, BlockNumber>>;

		/// One version of a model, with its lineage.
		fn model_version(
			model: ModelId,
			version: VersionIndex,
		) -> Option<ModelVersionView<AccountId, BlockNumber>>;

		/// Every version of a model (at most `MaxVersionsPerModel`), oldest first.
		fn versions(model: ModelId) -> Vec<ModelVersionView<AccountId, BlockNumber>>;

		/// The fine-tune a training job is running, while it runs.
		fn pending_finetune(job: JobId) -> Option<Finetune<AccountId>>;
	}
}

impl<T: Config> Pallet<T> {
	/// See [`ModelsApi::base_model`].
	pub fn api_base_model(
		base: BaseModelId,
	) -> Option<BaseModelView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		BaseModels::<T>::get(base).map(|record| record.view(base))
	}

	/// See [`ModelsApi::model`].
	pub fn api_model(model: ModelId) -> Option<ModelView<T::AccountId, BlockNumberFor<T>>> {
		ModelRecords::<T>::get(model).map(|record| record.view(model))
	}

	/// See [`ModelsApi::model_version`].
	pub fn api_model_version(
		model: ModelId,
		version: VersionIndex,
	) -> Option<ModelVersionView<T::AccountId, BlockNumberFor<T>>> {
		ModelVersions::<T>::get(model, version).map(|record| record.view(model, version))
	}

	/// See [`ModelsApi::versions`].
	pub fn api_versions(model: ModelId) -> Vec<ModelVersionView<T::AccountId, BlockNumberFor<T>>> {
		let count = ModelRecords::<T>::get(model)
			.map(|m| m.versions.min(T::MaxVersionsPerModel::get()))
			.unwrap_or(0);
		(1..=count).filter_map(|version| Self::api_model_version(model, version)).collect()
	}

	/// See [`ModelsApi::pending_finetune`].
	pub fn api_pending_finetune(job: JobId) -> Option<FinetuneOf<T>> {
		PendingFinetunes::<T>::get(job)
	}
}
