//! The runtime API dApps, explorers and contributors read rewards and attribution history
//! through, and the queries behind it.

use codec::Codec;

use crate::{
	types::*, Config, ContributionRecords, CurrentParams, Pallet, Rewards, VersionRecords,
};

sp_api::decl_runtime_apis! {
	/// Read access to rewards, per-contribution and per-version attribution history, and the
	/// split's parameters.
	pub trait AttributionApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// What the account may claim now (zero if nothing).
		fn rewards_of(who: AccountId) -> Balance;

		/// What paid inferences attributed to the contribution and what it earned, if any did.
		fn contribution_record(contribution: ContributionId)
			-> Option<ContributionRecord<Balance, BlockNumber>>;

		/// What a model version's paid inferences came to, if it had any.
		fn version_record(model: ModelId, version: VersionIndex) -> Option<VersionRecord<Balance>>;

		/// How fees are split now.
		fn params() -> Params;

		/// The pot's account.
		fn pot() -> AccountId;
	}
}

impl<T: Config> Pallet<T> {
	/// See [`AttributionApi::rewards_of`].
	pub fn api_rewards_of(who: T::AccountId) -> BalanceOf<T> {
		Rewards::<T>::get(who).unwrap_or_default()
	}

	/// See [`AttributionApi::contribution_record`].
	pub fn api_contribution_record(
		contribution: ContributionId,
	) -> Option<ContributionRecordOf<T>> {
		ContributionRecords::<T>::get(contribution)
	}

	/// See [`AttributionApi::version_record`].
	pub fn api_version_record(model: ModelId, version: VersionIndex) -> Option<VersionRecordOf<T>> {
		VersionRecords::<T>::get(model, version)
	}

	/// See [`AttributionApi::params`].
	pub fn api_params() -> Params {
		CurrentParams::<T>::get()
	}
}
