//! The queries behind the runtime API: paging and views.

use super::*;
use crate::runtime_api::MAX_PAGE_SIZE;
use frame_support::assert_ok;

#[test]
fn pages_through_datanets() {
	run(|| {
		for _ in 0..5 {
			create(OWNER);
		}
		let ids = |start, limit| -> Vec<DatanetId> {
			Datanets::api_datanets(start, limit).into_iter().map(|d| d.id).collect()
		};
		assert_eq!(ids(0, 2), vec![0, 1]);
		assert_eq!(ids(2, 2), vec![2, 3]);
		assert_eq!(ids(4, 2), vec![4]);
		assert_eq!(ids(5, 2), Vec::<DatanetId>::new());
		assert_eq!(ids(u32::MAX, u32::MAX), Vec::<DatanetId>::new());
		assert_eq!(ids(0, 0), Vec::<DatanetId>::new());
	});
}

#[test]
fn datanet_view_shows_metadata_curators_and_counters() {
	run(|| {
		let d = create_curated();
		accept(CURATOR, contribute(ALICE, d, 1));
		contribute(BOB, d, 2);
		let view = Datanets::api_datanet(d).unwrap();
		assert_eq!(view.owner, OWNER);
		assert_eq!(view.name, b"Solidity audits".to_vec());
		assert_eq!(view.tags, vec![b"solidity".to_vec(), b"security".to_vec()]);
		assert_eq!(
			view.rules.media_types,
			vec![b"text/plain".to_vec(), b"application/jsonl".to_vec()]
		);
		assert_eq!(view.access, AccessPolicy::Public);
		assert_eq!(view.curators, vec![CURATOR]);
		assert_eq!(
			(view.counters.submitted, view.counters.pending, view.counters.accepted),
			(2, 1, 1)
		);
		assert_eq!(Datanets::api_datanet(d + 1), None);
	});
}

#[test]
fn pages_through_a_datanets_contributions_in_submission_order() {
	run(|| {
		let d = create_curated();
		let other = create(OWNER);
		let mut expected = Vec::new();
		for n in 0..7u64 {
			expected.push(contribute([ALICE, BOB, CHARLIE][(n % 3) as usize], d, n));
			// Another Datanet's contributions, interleaved, must not show up.
			let elsewhere = contribute(DAVE, other, 100 + n);
			accept(OWNER, elsewhere);
		}
		let page = |start, limit| -> Vec<ContributionId> {
			Datanets::api_contributions(d, start, limit).into_iter().map(|c| c.id).collect()
		};
		assert_eq!(page(0, 3), expected[0..3].to_vec());
		assert_eq!(page(3, 3), expected[3..6].to_vec());
		assert_eq!(page(6, 3), expected[6..].to_vec());
		assert!(page(7, 3).is_empty());
		assert!(Datanets::api_contributions(42, 0, 10).is_empty());
		let view = Datanets::api_contribution(expected[1]).unwrap();
		assert_eq!((view.datanet, view.index, view.contributor), (d, 1, BOB));
		assert_eq!(view.content_hash, content(1));
		assert_eq!(view.locator, b"ipfs://bafy/contribution".to_vec());
	});
}

#[test]
fn pages_through_a_datanets_snapshots_by_version() {
	run(|| {
		let d = create_curated();
		let mut ids = Vec::new();
		for n in 0..4 {
			accept(CURATOR, contribute(ALICE, d, n));
			ids.push(snapshot(CURATOR, d));
		}
		let versions = |start, limit| -> Vec<(SnapshotId, u32)> {
			Datanets::api_snapshots(d, start, limit)
				.into_iter()
				.map(|(id, s)| (id, s.version))
				.collect()
		};
		assert_eq!(versions(1, 2), vec![(ids[0], 1), (ids[1], 2)]);
		assert_eq!(versions(0, 2), vec![(ids[0], 1), (ids[1], 2)], "version 0 reads as 1");
		assert_eq!(versions(3, 10), vec![(ids[2], 3), (ids[3], 4)]);
		assert!(versions(5, 10).is_empty());
		assert_eq!(Datanets::api_snapshot(ids[2]).unwrap().count, 3);
		assert_eq!(Datanets::api_snapshot(99), None);
	});
}

#[test]
fn pages_are_cut_to_the_maximum_size() {
	run(|| {
		create(OWNER);
		// A huge limit neither overflows nor reads past the end.
		assert_eq!(Datanets::api_datanets(0, u32::MAX).len(), 1);
		let deposits = u64::from(MAX_PAGE_SIZE) * DATANET_DEPOSIT;
		assert_ok!(Balances::force_set_balance(RuntimeOrigin::root(), OWNER, 2 * deposits));
		for _ in 0..MAX_PAGE_SIZE {
			create(OWNER);
		}
		assert_eq!(Datanets::api_datanets(0, u32::MAX).len(), MAX_PAGE_SIZE as usize);
		assert_eq!(Datanets::api_datanets(1, MAX_PAGE_SIZE + 5).last().unwrap().id, MAX_PAGE_SIZE);
	});
}
