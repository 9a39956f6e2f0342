//! How the runtime feeds the emissions pallet (block authors, curators) and what its call
//! filter keeps IAO shareholders' rights safe from.

use super::*;
use crate::{configs::OpenLedgerCallFilter, Datanets, Emissions, RuntimeOrigin};
use frame_support::{traits::Contains, BoundedVec};
use pallet_emissions::{Activity, Stream};
use sp_core::H256;

fn points(stream: Stream, who: &AccountId) -> u128 {
	Activity::<Runtime>::get(stream, who).map_or(0, |entry| entry.points)
}

#[test]
fn each_aura_block_earns_its_author_a_point() {
	dev_ext().execute_with(|| {
		let alice = Sr25519Keyring::Alice.to_account_id();
		let bob = Sr25519Keyring::Bob.to_account_id();
		for (number, slot) in [(1u32, 5u64), (2, 6), (3, 9)] {
			// Alice is the development chain's only authority: every slot is hers.
			let digest = sp_runtime::Digest {
				logs: vec![sp_runtime::DigestItem::PreRuntime(
					sp_consensus_aura::AURA_ENGINE_ID,
					sp_consensus_aura::Slot::from(slot).encode(),
				)],
			};
			let header = Header::new(
				number,
				Default::default(),
				Default::default(),
				System::parent_hash(),
				digest,
			);
			Executive::initialize_block(&header);
			System::finalize();
		}
		assert_eq!(points(Stream::Authors, &alice), 3);
		assert_eq!(points(Stream::Authors, &bob), 0);
		// A block without an Aura digest has no author to note.
		start_block(4);
		assert_eq!(points(Stream::Authors, &alice), 3);
	});
}

#[test]
fn accepting_a_contribution_earns_the_curator_a_point() {
	dev_ext().execute_with(|| {
		start_block(1);
		let alice = Sr25519Keyring::Alice.to_account_id();
		let bob = Sr25519Keyring::Bob.to_account_id();
		let text = BoundedVec::truncate_from(b"text/plain".to_vec());
		frame_support::assert_ok!(Datanets::create_datanet(
			RuntimeOrigin::signed(alice.clone()),
			BoundedVec::truncate_from(b"notes".to_vec()),
			Default::default(),
			Default::default(),
			BoundedVec::truncate_from(b"CC0".to_vec()),
			pallet_datanets::ContributionRules {
				max_bytes: 1_024,
				media_types: BoundedVec::truncate_from(vec![text.clone()]),
			},
			pallet_datanets::AccessPolicy::Public,
		));
		for i in 0..3u8 {
			frame_support::assert_ok!(Datanets::contribute(
				RuntimeOrigin::signed(bob.clone()),
				0,
				H256::repeat_byte(i + 1),
				10,
				text.clone(),
				Default::default(),
				Default::default(),
			));
		}
		frame_support::assert_ok!(Datanets::curate(
			RuntimeOrigin::signed(alice.clone()),
			0,
			pallet_datanets::Verdict::Accept
		));
		frame_support::assert_ok!(Datanets::curate(
			RuntimeOrigin::signed(alice.clone()),
			1,
			pallet_datanets::Verdict::Accept
		));
		assert_eq!(points(Stream::Curators, &alice), 2);
		assert_eq!(points(Stream::Curators, &bob), 0, "contributing earns no curator point");
		assert_eq!(Emissions::api_era(0).map(|r| r.curators.points), Some(2));
	});
}

#[test]
fn share_assets_never_move_outside_the_offering() {
	dev_ext().execute_with(|| {
		let bob = Sr25519Keyring::Bob.to_account_id();
		let transfer = RuntimeCall::Assets(pallet_assets::Call::transfer {
			id: codec::Compact(crate::configs::SHARE_ASSET_BASE),
			target: bob.into(),
			amount: 1,
		});
		assert!(!OpenLedgerCallFilter::contains(&transfer));
		// A model without a successful offering: its owner picks its active version.
		let activate =
			RuntimeCall::Models(pallet_models::Call::set_active_version { model: 0, version: 2 });
		assert!(OpenLedgerCallFilter::contains(&activate));
		let plain = RuntimeCall::Balances(BalancesCall::transfer_all {
			dest: Sr25519Keyring::Alice.to_account_id().into(),
			keep_alive: true,
		});
		assert!(OpenLedgerCallFilter::contains(&plain));
	});
}
