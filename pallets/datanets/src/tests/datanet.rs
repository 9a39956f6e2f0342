//! Creating Datanets, curators, access policy, pausing, reopening and closing.

use super::*;
use frame_support::{assert_noop, assert_ok};
use sp_runtime::{DispatchError, TokenError};

#[test]
fn creates_datanet_holding_owner_deposit() {
	run(|| {
		let id = create(OWNER);
		assert_eq!(id, 0);
		assert_eq!(NextDatanetId::<Test>::get(), 1);
		let record = datanet(id);
		assert_eq!(record.owner, OWNER);
		assert_eq!(record.name.to_vec(), b"Solidity audits".to_vec());
		assert_eq!(record.status, DatanetStatus::Open);
		assert_eq!(record.deposit, DATANET_DEPOSIT);
		assert_eq!(record.created_at, 1);
		assert_eq!(record.counters, DatanetCounters::default());
		assert_eq!(held_for_datanets(OWNER), DATANET_DEPOSIT);
		assert_eq!(free(OWNER), INITIAL_BALANCE - DATANET_DEPOSIT);
		assert_eq!(
			last_event(),
			Event::DatanetCreated {
				datanet: id,
				owner: OWNER,
				name: record.name,
				description: record.description,
				tags: record.tags,
				license: record.license,
				rules: rules(),
				access: AccessPolicy::Public,
				deposit: DATANET_DEPOSIT,
			}
		);
	});
}

#[test]
fn gives_each_datanet_its_own_id_and_deposit() {
	run(|| {
		assert_eq!(create(OWNER), 0);
		assert_eq!(create(OWNER), 1);
		assert_eq!(create(ALICE), 2);
		assert_eq!(held_for_datanets(OWNER), 2 * DATANET_DEPOSIT);
		assert_eq!(held_for_datanets(ALICE), DATANET_DEPOSIT);
	});
}

#[test]
fn rejects_datanet_without_name() {
	run(|| {
		assert_noop!(
			Datanets::create_datanet(
				RuntimeOrigin::signed(OWNER),
				bytes(b""),
				bytes(b""),
				Default::default(),
				bytes(b"MIT"),
				rules(),
				AccessPolicy::Public,
			),
			Error::<Test>::EmptyName
		);
	});
}

#[test]
fn rejects_rules_without_size_or_media_types() {
	run(|| {
		let zero_size = ContributionRules { max_bytes: 0, ..rules() };
		let no_media = ContributionRules { media_types: Default::default(), ..rules() };
		for bad in [zero_size, no_media] {
			assert_noop!(
				Datanets::create_datanet(
					RuntimeOrigin::signed(OWNER),
					bytes(b"name"),
					bytes(b""),
					Default::default(),
					bytes(b"MIT"),
					bad,
					AccessPolicy::Public,
				),
				Error::<Test>::InvalidRules
			);
		}
	});
}

#[test]
fn rejects_datanet_when_owner_cannot_pay_deposit() {
	run(|| {
		let poor = 42;
		assert_ok!(Balances::force_set_balance(RuntimeOrigin::root(), poor, DATANET_DEPOSIT));
		// The deposit would leave nothing to keep the account alive.
		assert_noop!(
			Datanets::create_datanet(
				RuntimeOrigin::signed(poor),
				bytes(b"name"),
				bytes(b""),
				Default::default(),
				bytes(b"MIT"),
				rules(),
				AccessPolicy::Public,
			),
			DispatchError::Token(TokenError::FundsUnavailable)
		);
	});
}

#[test]
fn owner_adds_and_removes_curators() {
	run(|| {
		let id = create(OWNER);
		assert_ok!(Datanets::add_curator(RuntimeOrigin::signed(OWNER), id, CURATOR));
		assert_eq!(last_event(), Event::CuratorAdded { datanet: id, curator: CURATOR });
		assert_ok!(Datanets::add_curator(RuntimeOrigin::signed(OWNER), id, ALICE));
		assert_eq!(Curators::<Test>::get(id).to_vec(), vec![CURATOR, ALICE]);

		assert_ok!(Datanets::remove_curator(RuntimeOrigin::signed(OWNER), id, CURATOR));
		assert_eq!(last_event(), Event::CuratorRemoved { datanet: id, curator: CURATOR });
		assert_eq!(Curators::<Test>::get(id).to_vec(), vec![ALICE]);
	});
}

#[test]
fn rejects_curator_changes_by_non_owner() {
	run(|| {
		let id = create_curated();
		assert_noop!(
			Datanets::add_curator(RuntimeOrigin::signed(CURATOR), id, ALICE),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Datanets::remove_curator(RuntimeOrigin::signed(CURATOR), id, CURATOR),
			Error::<Test>::NotOwner
		);
	});
}

#[test]
fn rejects_curator_changes_on_missing_datanet() {
	run(|| {
		assert_noop!(
			Datanets::add_curator(RuntimeOrigin::signed(OWNER), 7, ALICE),
			Error::<Test>::DatanetNotFound
		);
		assert_noop!(
			Datanets::remove_curator(RuntimeOrigin::signed(OWNER), 7, ALICE),
			Error::<Test>::DatanetNotFound
		);
	});
}

#[test]
fn rejects_duplicate_curator_and_owner_as_curator() {
	run(|| {
		let id = create_curated();
		assert_noop!(
			Datanets::add_curator(RuntimeOrigin::signed(OWNER), id, CURATOR),
			Error::<Test>::AlreadyCurator
		);
		assert_noop!(
			Datanets::add_curator(RuntimeOrigin::signed(OWNER), id, OWNER),
			Error::<Test>::AlreadyCurator
		);
	});
}

#[test]
fn rejects_more_curators_than_allowed() {
	run(|| {
		let id = create(OWNER);
		for curator in 0..u64::from(MAX_CURATORS) {
			assert_ok!(Datanets::add_curator(RuntimeOrigin::signed(OWNER), id, 100 + curator));
		}
		assert_noop!(
			Datanets::add_curator(RuntimeOrigin::signed(OWNER), id, ALICE),
			Error::<Test>::TooManyCurators
		);
	});
}

#[test]
fn rejects_removing_unknown_curator() {
	run(|| {
		let id = create_curated();
		assert_noop!(
			Datanets::remove_curator(RuntimeOrigin::signed(OWNER), id, ALICE),
			Error::<Test>::CuratorNotFound
		);
	});
}

#[test]
fn owner_replaces_access_policy() {
	run(|| {
		let id = create(OWNER);
		let access = AccessPolicy::Allowlist(vec![ALICE, BOB].try_into().unwrap());
		assert_ok!(Datanets::set_access_policy(RuntimeOrigin::signed(OWNER), id, access.clone()));
		assert_eq!(datanet(id).access, access.clone());
		assert_eq!(last_event(), Event::AccessPolicySet { datanet: id, access });
	});
}

#[test]
fn rejects_access_policy_change_by_non_owner() {
	run(|| {
		let id = create_curated();
		assert_noop!(
			Datanets::set_access_policy(
				RuntimeOrigin::signed(CURATOR),
				id,
				AccessPolicy::FeePerUse(5)
			),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Datanets::set_access_policy(RuntimeOrigin::signed(OWNER), 9, AccessPolicy::Public),
			Error::<Test>::DatanetNotFound
		);
	});
}

#[test]
fn owner_pauses_and_reopens() {
	run(|| {
		let id = create(OWNER);
		assert_ok!(Datanets::pause_datanet(RuntimeOrigin::signed(OWNER), id));
		assert_eq!(datanet(id).status, DatanetStatus::Paused);
		assert_eq!(last_event(), Event::DatanetPaused { datanet: id });
		assert_ok!(Datanets::reopen_datanet(RuntimeOrigin::signed(OWNER), id));
		assert_eq!(datanet(id).status, DatanetStatus::Open);
		assert_eq!(last_event(), Event::DatanetReopened { datanet: id });
	});
}

#[test]
fn rejects_pausing_unless_open_and_reopening_unless_paused() {
	run(|| {
		let id = create(OWNER);
		assert_noop!(
			Datanets::reopen_datanet(RuntimeOrigin::signed(OWNER), id),
			Error::<Test>::DatanetNotPaused
		);
		assert_ok!(Datanets::pause_datanet(RuntimeOrigin::signed(OWNER), id));
		assert_noop!(
			Datanets::pause_datanet(RuntimeOrigin::signed(OWNER), id),
			Error::<Test>::DatanetNotOpen
		);
	});
}

#[test]
fn rejects_status_changes_by_non_owner() {
	run(|| {
		let id = create_curated();
		assert_noop!(
			Datanets::pause_datanet(RuntimeOrigin::signed(CURATOR), id),
			Error::<Test>::NotOwner
		);
		assert_ok!(Datanets::pause_datanet(RuntimeOrigin::signed(OWNER), id));
		assert_noop!(
			Datanets::reopen_datanet(RuntimeOrigin::signed(CURATOR), id),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Datanets::close_datanet(RuntimeOrigin::signed(CURATOR), id),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Datanets::close_datanet(RuntimeOrigin::signed(OWNER), 5),
			Error::<Test>::DatanetNotFound
		);
	});
}

#[test]
fn closing_releases_owner_deposit() {
	run(|| {
		let id = create(OWNER);
		assert_ok!(Datanets::close_datanet(RuntimeOrigin::signed(OWNER), id));
		let record = datanet(id);
		assert_eq!(record.status, DatanetStatus::Closed);
		assert_eq!(record.deposit, 0);
		assert_eq!(held_for_datanets(OWNER), 0);
		assert_eq!(free(OWNER), INITIAL_BALANCE);
		assert_eq!(
			last_event(),
			Event::DatanetClosed { datanet: id, owner: OWNER, deposit_released: DATANET_DEPOSIT }
		);
	});
}

#[test]
fn rejects_closing_with_pending_contributions() {
	run(|| {
		let id = create_curated();
		let pending = contribute(ALICE, id, 1);
		assert_noop!(
			Datanets::close_datanet(RuntimeOrigin::signed(OWNER), id),
			Error::<Test>::PendingContributionsRemain
		);
		// Pausing stops new contributions; curating the last one lets the owner close.
		assert_ok!(Datanets::pause_datanet(RuntimeOrigin::signed(OWNER), id));
		accept(CURATOR, pending);
		assert_ok!(Datanets::close_datanet(RuntimeOrigin::signed(OWNER), id));
		assert_eq!(held_for_datanets(OWNER), 0);
	});
}

#[test]
fn closed_datanet_is_final() {
	run(|| {
		let id = create(OWNER);
		assert_ok!(Datanets::close_datanet(RuntimeOrigin::signed(OWNER), id));
		assert_noop!(
			Datanets::close_datanet(RuntimeOrigin::signed(OWNER), id),
			Error::<Test>::DatanetClosed
		);
		assert_noop!(
			Datanets::reopen_datanet(RuntimeOrigin::signed(OWNER), id),
			Error::<Test>::DatanetNotPaused
		);
		assert_noop!(
			Datanets::pause_datanet(RuntimeOrigin::signed(OWNER), id),
			Error::<Test>::DatanetNotOpen
		);
		assert_noop!(
			Datanets::add_curator(RuntimeOrigin::signed(OWNER), id, CURATOR),
			Error::<Test>::DatanetClosed
		);
	});
}
