//! Governance with OPEN on the `local` chain (no sudo, dev-paced tracks): referenda on the
//! parameters and root tracks, conviction voting with delegation, and what signed accounts may
//! not do.

#![allow(clippy::panic)]

use super::*;
use crate::{
	governance::{dynamic_params, track, RuntimeParameters, Tracks},
	ConvictionVoting, OriginCaller, Parameters, Preimage, Referenda, RuntimeOrigin,
};
use frame_support::{
	assert_noop, assert_ok,
	traits::Get as _,
	traits::{schedule::DispatchTime, StorePreimage},
};
use pallet_conviction_voting::{AccountVote, Conviction, Vote};
use pallet_referenda::{ReferendumInfo, TracksInfo};
use tokenomics::OPEN;

use crate::tokenomics;

/// Externalities holding the `local_testnet` preset's genesis state at block 0.
fn local_ext() -> sp_io::TestExternalities {
	let config = preset_config(crate::genesis::local_testnet_config().unwrap());
	sp_io::TestExternalities::new(config.build_storage().unwrap())
}

/// Runs blocks up to and including `number`, each through the executive's `on_initialize`.
fn run_to(number: u32) {
	while System::block_number() < number {
		System::finalize();
		start_block(System::block_number() + 1);
	}
}

fn signed_origin(who: Sr25519Keyring) -> RuntimeOrigin {
	RuntimeOrigin::signed(who.to_account_id())
}

/// Submits `call` on the track of `origin`, with Eve's submission and decision deposits.
fn submit(origin: OriginCaller, call: RuntimeCall) -> u32 {
	let index = pallet_referenda::ReferendumCount::<Runtime>::get();
	let proposal = <Preimage as StorePreimage>::bound(call).unwrap();
	assert_ok!(Referenda::submit(
		signed_origin(Sr25519Keyring::Eve),
		Box::new(origin),
		proposal,
		DispatchTime::After(0),
	));
	assert_ok!(Referenda::place_decision_deposit(signed_origin(Sr25519Keyring::Eve), index));
	index
}

fn vote(who: Sr25519Keyring, index: u32, aye: bool, balance: Balance) {
	assert_ok!(ConvictionVoting::vote(
		signed_origin(who),
		index,
		AccountVote::Standard { vote: Vote { aye, conviction: Conviction::Locked1x }, balance },
	));
}

fn approved(index: u32) -> bool {
	matches!(
		pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
		Some(ReferendumInfo::Approved(..))
	)
}

#[test]
fn local_chain_has_no_sudo() {
	local_ext().execute_with(|| {
		start_block(1);
		let call = Box::new(RuntimeCall::System(frame_system::Call::remark { remark: vec![] }));
		assert_noop!(
			crate::Sudo::sudo(signed_origin(Sr25519Keyring::Alice), call),
			pallet_sudo::Error::<Runtime>::RequireSudo
		);
	});
}

#[test]
fn signed_accounts_cannot_change_parameters() {
	local_ext().execute_with(|| {
		start_block(1);
		let param =
			RuntimeParameters::Compute(dynamic_params::compute::Parameters::MinWorkerStake(
				dynamic_params::compute::MinWorkerStake,
				Some(OPEN),
			));
		assert_noop!(
			Parameters::set_parameter(signed_origin(Sr25519Keyring::Alice), param),
			sp_runtime::DispatchError::BadOrigin
		);
		assert_noop!(
			crate::Attribution::set_params(
				signed_origin(Sr25519Keyring::Alice),
				pallet_attribution::Params::default()
			),
			sp_runtime::DispatchError::BadOrigin
		);
	});
}

#[test]
fn a_parameters_referendum_changes_the_fee_split_and_a_dynamic_parameter() {
	local_ext().execute_with(|| {
		start_block(1);
		assert_eq!(dynamic_params::compute::MinWorkerStake::get(), 100 * OPEN);
		let cap = sp_runtime::Perbill::from_percent(60);
		let params = pallet_attribution::Params { contributor_cap: cap, ..Default::default() };
		let call = RuntimeCall::Utility(pallet_utility::Call::batch_all {
			calls: vec![
				RuntimeCall::Parameters(pallet_parameters::Call::set_parameter {
					key_value: RuntimeParameters::Compute(
						dynamic_params::compute::Parameters::MinWorkerStake(
							dynamic_params::compute::MinWorkerStake,
							Some(250 * OPEN),
						),
					),
				}),
				RuntimeCall::Attribution(pallet_attribution::Call::set_params { params }),
			],
		});
		let index =
			submit(OriginCaller::Governance(pallet_governance::Origin::ParameterAdmin), call);
		assert_eq!(
			pallet_referenda::ReferendumInfoFor::<Runtime>::get(index).and_then(
				|info| match info {
					ReferendumInfo::Ongoing(status) => Some(status.track),
					_ => None,
				}
			),
			Some(track::PARAMETERS)
		);
		// Team holders vote with their (vested, locked) OPEN: 15% of the supply.
		vote(Sr25519Keyring::Eve, index, true, 70_000_000 * OPEN);
		vote(Sr25519Keyring::Ferdie, index, true, 70_000_000 * OPEN);
		// Nothing changes before the referendum is decided and enacted.
		run_to(3);
		assert_eq!(dynamic_params::compute::MinWorkerStake::get(), 100 * OPEN);
		run_to(15);
		assert!(
			approved(index),
			"{:?}",
			pallet_referenda::ReferendumInfoFor::<Runtime>::get(index)
		);
		assert_eq!(dynamic_params::compute::MinWorkerStake::get(), 250 * OPEN);
		assert_eq!(pallet_attribution::CurrentParams::<Runtime>::get().contributor_cap, cap);
	});
}

#[test]
fn a_rejected_referendum_changes_nothing() {
	local_ext().execute_with(|| {
		start_block(1);
		let call = RuntimeCall::Parameters(pallet_parameters::Call::set_parameter {
			key_value: RuntimeParameters::Datanets(
				dynamic_params::datanets::Parameters::ContributionDeposit(
					dynamic_params::datanets::ContributionDeposit,
					Some(5 * OPEN),
				),
			),
		});
		let index =
			submit(OriginCaller::Governance(pallet_governance::Origin::ParameterAdmin), call);
		vote(Sr25519Keyring::Eve, index, true, 70_000_000 * OPEN);
		vote(Sr25519Keyring::Ferdie, index, false, 74_000_000 * OPEN);
		// More votes against than for: approval stays under the track's curve (100% falling to
		// 50%) for the whole decision period, so it ends rejected.
		run_to(30);
		assert!(matches!(
			pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
			Some(ReferendumInfo::Rejected(..))
		));
		assert_eq!(dynamic_params::datanets::ContributionDeposit::get(), OPEN);
	});
}

#[test]
fn a_root_referendum_authorizes_a_runtime_upgrade_and_delegated_votes_count() {
	local_ext().execute_with(|| {
		start_block(1);
		let code_hash = sp_core::H256::repeat_byte(7);
		let call = RuntimeCall::System(frame_system::Call::authorize_upgrade { code_hash });
		let index = submit(OriginCaller::system(frame_system::RawOrigin::Root), call);
		// Alice's stash delegates her votes on the root track to Eve.
		let stash_balance = 50_000_000 * OPEN;
		assert_ok!(ConvictionVoting::delegate(
			signed_origin(Sr25519Keyring::AliceStash),
			track::ROOT,
			Sr25519Keyring::Eve.to_account_id().into(),
			Conviction::Locked1x,
			stash_balance,
		));
		vote(Sr25519Keyring::Eve, index, true, 70_000_000 * OPEN);
		let tally = match pallet_referenda::ReferendumInfoFor::<Runtime>::get(index) {
			Some(ReferendumInfo::Ongoing(status)) => status.tally,
			other => panic!("not ongoing: {other:?}"),
		};
		// Eve's vote carries the delegation: support counts both balances.
		assert_eq!(tally.support, 70_000_000 * OPEN + stash_balance);
		run_to(20);
		assert!(approved(index));
		assert_eq!(System::authorized_upgrade().map(|a| *a.code_hash()), Some(code_hash));
	});
}

#[test]
fn tracks_are_sorted_and_follow_the_pace() {
	local_ext().execute_with(|| {
		assert_ok!(Tracks::check_integrity());
		// The local chain uses the dev pace: periods in blocks.
		let root = Tracks::info(track::ROOT).unwrap();
		assert_eq!(root.decision_period, 20);
		pallet_governance::Pace::<Runtime>::put(pallet_governance::GovernancePace::Public);
		assert_ok!(Tracks::check_integrity());
		assert_eq!(Tracks::info(track::ROOT).unwrap().decision_period, 14 * crate::DAYS);
		assert_eq!(Tracks::info(track::PARAMETERS).unwrap().decision_period, 7 * crate::DAYS);
		// Origins map to their tracks; a signed origin has none.
		assert_eq!(Tracks::track_for(&OriginCaller::system(frame_system::RawOrigin::Root)), Ok(0));
		assert_eq!(
			Tracks::track_for(&OriginCaller::Governance(pallet_governance::Origin::ParameterAdmin)),
			Ok(1)
		);
		assert!(Tracks::track_for(&OriginCaller::system(frame_system::RawOrigin::Signed(
			Sr25519Keyring::Alice.to_account_id()
		)))
		.is_err());
	});
}

#[test]
fn a_root_referendum_adds_a_validator_that_joins_with_its_own_session_keys() {
	let mut ext = local_ext();
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| {
		start_block(1);
		let dave = Sr25519Keyring::Dave.to_account_id();
		let call =
			RuntimeCall::Validators(pallet_validators::Call::add_validator { who: dave.clone() });
		let index = submit(OriginCaller::system(frame_system::RawOrigin::Root), call);
		vote(Sr25519Keyring::Eve, index, true, 70_000_000 * OPEN);
		vote(Sr25519Keyring::Ferdie, index, true, 70_000_000 * OPEN);
		run_to(15);
		assert!(approved(index));
		assert!(pallet_validators::Validators::<Runtime>::get().contains(&dave));

		// Dave generates fresh session keys with a proof that he owns them (what the node's
		// `author_rotateKeysWithOwner` does in its keystore) and registers them.
		let generated = crate::SessionKeys::generate(&dave.encode(), None);
		assert_ok!(crate::Session::set_keys(
			signed_origin(Sr25519Keyring::Dave),
			generated.keys.clone(),
			generated.proof.encode(),
		));
		// A proof for another account is refused.
		let other =
			crate::SessionKeys::generate(&Sr25519Keyring::Bob.to_account_id().encode(), None);
		assert_noop!(
			crate::Session::set_keys(
				signed_origin(Sr25519Keyring::Ferdie),
				other.keys,
				other.proof.encode()
			),
			pallet_session::Error::<Runtime>::InvalidProof
		);

		// Sessions last 10 blocks on the local chain: queued at the next change, an authority
		// at the one after.
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 3);
		run_to(40);
		assert!(pallet_session::Validators::<Runtime>::get().contains(&dave));
		let authorities = pallet_aura::Authorities::<Runtime>::get();
		assert_eq!(authorities.len(), 4);
		assert!(authorities.contains(&generated.keys.aura));
	});
}
