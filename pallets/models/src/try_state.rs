//! Invariants checked by the `try_state` hook and after every unit test.

use alloc::collections::btree_map::BTreeMap;
use frame_support::{
	ensure,
	traits::{fungible::InspectHold, Get},
};
use sp_runtime::{traits::Saturating, TryRuntimeError};

use crate::{
	BalanceOf, BaseModelHashes, BaseModels, Config, HoldReason, ModelRecords, ModelVersions,
	NextBaseModelId, NextModelId, Pallet, PendingFinetunes,
};

impl<T: Config> Pallet<T> {
	/// Checks that base models, fine-tunes in flight, models and versions agree, and that the
	/// held deposits match the base models. Reads all of the pallet's storage.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (id, base) in BaseModels::<T>::iter() {
			ensure!(id < NextBaseModelId::<T>::get(), "base model id not below NextBaseModelId");
			ensure!(
				BaseModelHashes::<T>::get(base.content_hash) == Some(id),
				"base model missing from the hash index"
			);
			let total = deposits.entry(base.owner.clone()).or_default();
			*total = total.saturating_add(base.deposit);
		}
		for (hash, id) in BaseModelHashes::<T>::iter() {
			ensure!(
				BaseModels::<T>::get(id).is_some_and(|b| b.content_hash == hash),
				"hash index names a missing or different base model"
			);
		}
		let reason = HoldReason::BaseModelDeposit.into();
		for (owner, total) in deposits {
			ensure!(
				T::Currency::balance_on_hold(&reason, &owner) == total,
				"held deposit disagrees with the base models"
			);
		}

		let pending = PendingFinetunes::<T>::iter().count();
		ensure!(
			pending == PendingFinetunes::<T>::count() as usize,
			"pending fine-tune counter disagrees with the fine-tunes"
		);
		ensure!(
			PendingFinetunes::<T>::count() <= T::MaxPendingFinetunes::get(),
			"more pending fine-tunes than MaxPendingFinetunes"
		);
		for (_, finetune) in PendingFinetunes::<T>::iter() {
			ensure!(BaseModels::<T>::contains_key(finetune.base), "fine-tune of an unknown base");
			if let Some(id) = finetune.model {
				let model = ModelRecords::<T>::get(id).ok_or("fine-tune of an unknown model")?;
				ensure!(model.base == finetune.base, "fine-tune base differs from its model's");
			}
		}

		for (id, model) in ModelRecords::<T>::iter() {
			ensure!(id < NextModelId::<T>::get(), "model id not below NextModelId");
			ensure!(BaseModels::<T>::contains_key(model.base), "model of an unknown base");
			ensure!(model.versions >= 1, "model without a version");
			ensure!(
				model.versions <= T::MaxVersionsPerModel::get(),
				"more versions than MaxVersionsPerModel"
			);
			ensure!(
				model.active.is_some_and(|v| model.has_version(v)),
				"active version is not one of the model's"
			);
			let mut stored = 0u32;
			for (version, record) in ModelVersions::<T>::iter_prefix(id) {
				ensure!(model.has_version(version), "version outside 1..=versions");
				ensure!(record.base == model.base, "version of another base");
				stored = stored.saturating_add(1);
			}
			ensure!(stored == model.versions, "version count disagrees with the versions");
		}
		for (id, _) in ModelVersions::<T>::iter_keys() {
			ensure!(ModelRecords::<T>::contains_key(id), "version of an unknown model");
		}
		Ok(())
	}
}
