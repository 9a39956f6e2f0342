//! Requesting fine-tunes: the training job and its spec, the Datanet's access policy, the
//! hyperparameter bounds, and every refusal.

use super::*;
use codec::Decode;
use frame_support::{assert_noop, traits::fungible::InspectHold};
use pallet_datanets::traits::DatanetsInspect;

#[test]
fn creates_training_job_with_spec_and_records_pending_finetune() {
	run(|| {
		register_workers(&[W1, W2]);
		let base = register_base(0);
		let snapshot = public_snapshot();
		let job = request(BOB, base, snapshot, 2, None);

		let record = pallet_compute::Jobs::<Test>::get(job).unwrap();
		assert_eq!((record.requester, record.kind), (BOB, JobKind::Train));
		assert_eq!((record.fee, record.replication), (FEE, 2));
		let spec = TrainSpec::decode(&mut &record.spec[..]).unwrap();
		assert_eq!(
			spec,
			TrainSpec {
				base,
				base_hash: model_file(0),
				snapshot,
				snapshot_root: Datanets::snapshot_root(snapshot).unwrap(),
				hyper: hyper(),
				agreement: Agreement::Exact,
			}
		);
		assert_eq!(
			PendingFinetunes::<Test>::get(job),
			Some(Finetune { requester: BOB, base, snapshot, hyper: hyper(), model: None })
		);
		assert_eq!(PendingFinetunes::<Test>::count(), 1);
		assert_eq!(
			Balances::balance_on_hold(&pallet_compute::HoldReason::JobEscrow.into(), &BOB),
			FEE
		);
		assert_eq!(
			last_event(),
			Event::FinetuneRequested {
				job,
				requester: BOB,
				base,
				snapshot,
				model: None,
				access_fee: 0,
			}
		);
	});
}

#[test]
fn spec_has_the_documented_wire_layout() {
	// The GPU worker decodes these bytes with its own mirror of the types.
	let spec = TrainSpec {
		base: 1,
		base_hash: H256::repeat_byte(0xaa),
		snapshot: 2,
		snapshot_root: H256::repeat_byte(0xbb),
		hyper: hyper(),
		agreement: Agreement::HeldOutLoss { tolerance_ppm: 10_000 },
	};
	let bytes = spec.encode();
	assert_eq!(bytes.len(), 4 + 32 + 4 + 32 + 35 + 5);
	assert_eq!(&bytes[107..], &[&[1u8][..], &10_000u32.to_le_bytes()].concat()[..]);
	assert_eq!(Agreement::Exact.encode(), vec![0u8]);
	assert_eq!(&bytes[..4], &1u32.to_le_bytes());
	assert_eq!(&bytes[36..40], &2u32.to_le_bytes());
	let h = hyper();
	let tail = [
		&h.rank.to_le_bytes()[..],
		&h.alpha.to_le_bytes(),
		&h.dropout_permille.to_le_bytes(),
		&[h.targets],
		&h.learning_rate_micro.to_le_bytes(),
		&h.warmup_steps.to_le_bytes(),
		&h.steps.to_le_bytes(),
		&h.batch_size.to_le_bytes(),
		&h.grad_accum.to_le_bytes(),
		&h.seq_len.to_le_bytes(),
		&h.heldout_permille.to_le_bytes(),
		&h.seed.to_le_bytes(),
	]
	.concat();
	assert_eq!(&bytes[72..107], &tail[..]);
	let result = train_result(1).encode();
	assert_eq!(result.len(), 32 + 32 + 4 + 4 + 8 + 8 + 4 + 32);
	assert_eq!(&result[64..68], &180u32.to_le_bytes());
	assert_eq!(&result[88..92], &100u32.to_le_bytes());
	assert_eq!(&result[92..], H256::repeat_byte(0xa1).as_bytes());
}

#[test]
fn charges_the_per_use_access_fee_to_the_datanet_owner() {
	run(|| {
		register_workers(&[W1]);
		let base = register_base(0);
		let (_, snapshot) = snapshot_with(AccessPolicy::FeePerUse(250));
		let (owner_before, bob_before) = (free(DATA_OWNER), free(BOB));
		let job = request(BOB, base, snapshot, 1, None);
		assert_eq!(free(DATA_OWNER), owner_before + 250);
		assert_eq!(free(BOB), bob_before - 250 - FEE);
		assert_eq!(
			last_event(),
			Event::FinetuneRequested {
				job,
				requester: BOB,
				base,
				snapshot,
				model: None,
				access_fee: 250,
			}
		);
	});
}

#[test]
fn allowlist_refuses_strangers_and_admits_listed_accounts() {
	run(|| {
		register_workers(&[W1]);
		let base = register_base(0);
		let (_, snapshot) = snapshot_with(AccessPolicy::Allowlist(vec![BOB].try_into().unwrap()));
		assert_noop!(
			Models::request_finetune(
				RuntimeOrigin::signed(STRANGER),
				base,
				snapshot,
				hyper(),
				Agreement::Exact,
				FEE,
				1,
				TIMEOUT,
				None,
			),
			Error::<Test>::NoTrainingAccess
		);
		request(BOB, base, snapshot, 1, None);
	});
}

#[test]
fn failed_job_creation_leaves_the_access_fee_unpaid() {
	run(|| {
		register_workers(&[W1]);
		let base = register_base(0);
		let (_, snapshot) = snapshot_with(AccessPolicy::FeePerUse(250));
		let owner_before = free(DATA_OWNER);
		// Two workers wanted, one registered: compute refuses, and the whole call unwinds.
		assert_noop!(
			Models::request_finetune(
				RuntimeOrigin::signed(BOB),
				base,
				snapshot,
				hyper(),
				Agreement::Exact,
				FEE,
				2,
				TIMEOUT,
				None,
			),
			pallet_compute::Error::<Test>::NotEnoughWorkers
		);
		assert_eq!(free(DATA_OWNER), owner_before);
		assert_noop!(
			Models::request_finetune(
				RuntimeOrigin::signed(BOB),
				base,
				snapshot,
				hyper(),
				Agreement::Exact,
				MIN_FEE - 1,
				1,
				TIMEOUT,
				None,
			),
			pallet_compute::Error::<Test>::FeeTooLow
		);
	});
}

#[test]
fn refuses_access_fee_the_requester_cannot_pay() {
	run(|| {
		register_workers(&[W1]);
		let base = register_base(0);
		let (_, snapshot) = snapshot_with(AccessPolicy::FeePerUse(INITIAL_BALANCE * 2));
		let result = Models::request_finetune(
			RuntimeOrigin::signed(BOB),
			base,
			snapshot,
			hyper(),
			Agreement::Exact,
			FEE,
			1,
			TIMEOUT,
			None,
		);
		assert!(result.is_err());
		assert_eq!(PendingFinetunes::<Test>::count(), 0);
		assert_eq!(free(BOB), INITIAL_BALANCE);
	});
}

#[test]
fn refuses_unknown_base_and_snapshot() {
	run(|| {
		register_workers(&[W1]);
		let base = register_base(0);
		let snapshot = public_snapshot();
		let ask = |base, snapshot| {
			Models::request_finetune(
				RuntimeOrigin::signed(BOB),
				base,
				snapshot,
				hyper(),
				Agreement::Exact,
				FEE,
				1,
				TIMEOUT,
				None,
			)
		};
		assert_noop!(ask(base + 1, snapshot), Error::<Test>::UnknownBaseModel);
		assert_noop!(ask(base, snapshot + 1), Error::<Test>::UnknownSnapshot);
	});
}

#[test]
fn refuses_hyperparameters_out_of_bounds() {
	run(|| {
		register_workers(&[W1]);
		let base = register_base(0);
		let snapshot = public_snapshot();
		type Change = fn(&mut LoraHyperparams);
		let cases: Vec<(Change, Error<Test>)> = vec![
			(|h| h.rank = 0, Error::<Test>::RankOutOfRange),
			(|h| h.rank = 65, Error::<Test>::RankOutOfRange),
			(|h| h.alpha = 0, Error::<Test>::AlphaOutOfRange),
			(|h| h.alpha = 1025, Error::<Test>::AlphaOutOfRange),
			(|h| h.dropout_permille = 501, Error::<Test>::DropoutOutOfRange),
			(|h| h.targets = 0, Error::<Test>::InvalidTargets),
			(|h| h.targets = 128, Error::<Test>::InvalidTargets),
			(|h| h.targets = 0x81, Error::<Test>::InvalidTargets),
			(|h| h.learning_rate_micro = 0, Error::<Test>::LearningRateOutOfRange),
			(|h| h.learning_rate_micro = 100_001, Error::<Test>::LearningRateOutOfRange),
			(|h| h.steps = 0, Error::<Test>::StepsOutOfRange),
			(|h| h.steps = MAX_TRAIN_STEPS + 1, Error::<Test>::StepsOutOfRange),
			(|h| h.warmup_steps = h.steps + 1, Error::<Test>::WarmupTooLong),
			(|h| h.batch_size = 0, Error::<Test>::BatchSizeOutOfRange),
			(|h| h.batch_size = 65, Error::<Test>::BatchSizeOutOfRange),
			(|h| h.grad_accum = 0, Error::<Test>::GradAccumOutOfRange),
			(|h| h.grad_accum = 65, Error::<Test>::GradAccumOutOfRange),
			(|h| h.seq_len = 7, Error::<Test>::SeqLenOutOfRange),
			(|h| h.seq_len = 2049, Error::<Test>::SeqLenOutOfRange),
			(|h| h.heldout_permille = 0, Error::<Test>::HeldoutOutOfRange),
			(|h| h.heldout_permille = 501, Error::<Test>::HeldoutOutOfRange),
		];
		for (change, error) in cases {
			let mut bad = hyper();
			change(&mut bad);
			assert_noop!(
				Models::request_finetune(
					RuntimeOrigin::signed(BOB),
					base,
					snapshot,
					bad,
					Agreement::Exact,
					FEE,
					1,
					TIMEOUT,
					None,
				),
				error
			);
		}
		// Every bound is inclusive.
		let edge = LoraHyperparams {
			rank: 64,
			alpha: 1024,
			dropout_permille: 500,
			targets: targets::ALL,
			learning_rate_micro: 100_000,
			warmup_steps: MAX_TRAIN_STEPS,
			steps: MAX_TRAIN_STEPS,
			batch_size: 64,
			grad_accum: 64,
			seq_len: 2048,
			heldout_permille: 500,
			seed: u64::MAX,
		};
		assert_ok!(Models::request_finetune(
			RuntimeOrigin::signed(BOB),
			base,
			snapshot,
			edge,
			Agreement::Exact,
			FEE,
			1,
			TIMEOUT,
			None,
		));
		let low = LoraHyperparams {
			rank: 1,
			alpha: 1,
			dropout_permille: 0,
			targets: targets::DOWN_PROJ,
			learning_rate_micro: 1,
			warmup_steps: 0,
			steps: 1,
			batch_size: 1,
			grad_accum: 1,
			seq_len: 8,
			heldout_permille: 1,
			seed: 0,
		};
		assert_ok!(Models::check_hyperparams(&low));
	});
}

#[test]
fn refuses_more_pending_finetunes_than_the_bound() {
	run(|| {
		register_workers(&[W1, W2, W3]);
		let base = register_base(0);
		let snapshot = public_snapshot();
		for _ in 0..MAX_PENDING {
			request(BOB, base, snapshot, 1, None);
		}
		assert_noop!(
			Models::request_finetune(
				RuntimeOrigin::signed(BOB),
				base,
				snapshot,
				hyper(),
				Agreement::Exact,
				FEE,
				1,
				TIMEOUT,
				None,
			),
			Error::<Test>::TooManyPendingFinetunes
		);
	});
}

#[test]
fn new_version_request_checks_the_model() {
	run(|| {
		let (base, snapshot, model) = trained_model();
		let other_base = register_base(1);
		let ask = |who, base, model| {
			Models::request_finetune(
				RuntimeOrigin::signed(who),
				base,
				snapshot,
				hyper(),
				Agreement::Exact,
				FEE,
				1,
				TIMEOUT,
				Some(model),
			)
		};
		assert_noop!(ask(ALICE, base, model + 1), Error::<Test>::UnknownModel);
		assert_noop!(ask(BOB, base, model), Error::<Test>::NotOwner);
		assert_noop!(ask(ALICE, other_base, model), Error::<Test>::BaseMismatch);
		add_version(base, snapshot, model, 2);
		add_version(base, snapshot, model, 3);
		assert_eq!(ModelRecords::<Test>::get(model).unwrap().versions, MAX_VERSIONS);
		assert_noop!(ask(ALICE, base, model), Error::<Test>::TooManyVersions);
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(ALICE), model));
		assert_noop!(ask(ALICE, base, model), Error::<Test>::Deprecated);
	});
}

#[test]
fn requests_a_new_version_of_an_owned_model() {
	run(|| {
		let (base, snapshot, model) = trained_model();
		let job = request(ALICE, base, snapshot, 1, Some(model));
		assert_eq!(PendingFinetunes::<Test>::get(job).unwrap().model, Some(model));
	});
}
