//! What a training job's end does: a version with its lineage on agreement, nothing (with the
//! reason as an event) on a bad payload, a failed job, or a model that cannot take a version.

use super::*;
use frame_support::{dispatch::Pays, weights::Weight};
use pallet_compute::JobStatus;
use pallet_datanets::traits::DatanetsInspect;

#[test]
fn agreeing_workers_create_a_model_with_its_first_version_and_lineage() {
	run(|| {
		register_workers(&[W1, W2, W3]);
		let base = register_base(0);
		let snapshot = public_snapshot();
		let job = request(BOB, base, snapshot, 2, None);
		let result = train_result(7);
		complete_with(job, result);

		assert_eq!(pallet_compute::Jobs::<Test>::get(job).unwrap().status, JobStatus::Completed);
		assert!(PendingFinetunes::<Test>::get(job).is_none());
		assert_eq!(PendingFinetunes::<Test>::count(), 0);
		let model = ModelRecords::<Test>::get(0).unwrap();
		assert_eq!(
			model,
			Model {
				owner: BOB,
				base,
				name: None,
				status: ModelStatus::Draft,
				versions: 1,
				active: Some(1),
				created_at: 1,
			}
		);
		let mut workers = assigned(job);
		workers.sort();
		assert_eq!(
			ModelVersions::<Test>::get(0, 1).unwrap(),
			ModelVersion {
				base,
				base_hash: model_file(0),
				snapshot,
				snapshot_root: Datanets::snapshot_root(snapshot).unwrap(),
				adapter_hash: result.adapter_hash,
				config_hash: result.config_hash,
				attribution_index: result.attribution_index,
				hyper: hyper(),
				metrics: TrainMetrics {
					train_examples: 180,
					heldout_examples: 20,
					heldout_loss_before_micro: 3_100_000,
					heldout_loss_after_micro: 2_400_000,
					steps: 100,
				},
				workers: workers.try_into().unwrap(),
				job,
				created_at: 1,
			}
		);
		let events = events();
		assert!(events.contains(&Event::ModelCreated { model: 0, owner: BOB, base }));
		assert_eq!(
			last_event(),
			Event::VersionRecorded {
				model: 0,
				version: 1,
				job,
				snapshot,
				adapter_hash: result.adapter_hash,
				heldout_loss_after_micro: 2_400_000,
			}
		);
	});
}

#[test]
fn later_versions_extend_the_model_and_keep_the_active_one() {
	run(|| {
		let (base, snapshot, model) = trained_model();
		add_version(base, snapshot, model, 2);
		let record = ModelRecords::<Test>::get(model).unwrap();
		assert_eq!((record.versions, record.active), (2, Some(1)));
		assert_eq!(
			ModelVersions::<Test>::get(model, 2).unwrap().adapter_hash,
			H256::repeat_byte(2)
		);
		assert_eq!(NextModelId::<Test>::get(), 1);
	});
}

#[test]
fn lists_at_most_max_version_workers() {
	run(|| {
		register_workers(&[W1, W2, W3]);
		let base = register_base(0);
		let job = request(BOB, base, public_snapshot(), 3, None);
		complete_with(job, train_result(1));
		assert_eq!(
			ModelVersions::<Test>::get(0, 1).unwrap().workers.to_vec(),
			vec![W1, W2],
			"the first MAX_VERSION_WORKERS of the majority, in account order"
		);
	});
}

#[test]
fn payload_that_does_not_hash_to_the_outcome_is_invalid() {
	run(|| {
		register_workers(&[W1]);
		let base = register_base(0);
		let job = request(BOB, base, public_snapshot(), 1, None);
		let payload = train_result(1).encode();
		assert_ok!(Compute::submit_result(
			RuntimeOrigin::signed(W1),
			job,
			H256::repeat_byte(9),
			payload
		));
		assert_eq!(pallet_compute::Jobs::<Test>::get(job).unwrap().status, JobStatus::Completed);
		assert!(PendingFinetunes::<Test>::get(job).is_none());
		assert!(ModelRecords::<Test>::iter().next().is_none());
		assert_eq!(last_event(), Event::FinetuneResultInvalid { job });
	});
}

#[test]
fn payload_that_is_not_a_train_result_is_invalid() {
	run(|| {
		register_workers(&[W1]);
		let base = register_base(0);
		let job = request(BOB, base, public_snapshot(), 1, None);
		// Hashes correctly, but is too short to decode (and trailing bytes are refused too).
		submit_payload(W1, job, vec![1, 2, 3]);
		assert_eq!(last_event(), Event::FinetuneResultInvalid { job });
		let job = request(BOB, base, public_snapshot(), 1, None);
		let mut long = train_result(1).encode();
		long.push(0);
		submit_payload(W1, job, long);
		assert_eq!(last_event(), Event::FinetuneResultInvalid { job });
		assert!(ModelRecords::<Test>::iter().next().is_none());
		assert_eq!(PendingFinetunes::<Test>::count(), 0);
	});
}

#[test]
fn disagreeing_workers_with_no_one_to_escalate_to_fail_the_finetune() {
	run(|| {
		register_workers(&[W1, W2]);
		let base = register_base(0);
		let job = request(BOB, base, public_snapshot(), 2, None);
		submit_payload(W1, job, train_result(1).encode());
		submit_payload(W2, job, train_result(2).encode());
		assert_eq!(pallet_compute::Jobs::<Test>::get(job).unwrap().status, JobStatus::Failed);
		assert!(PendingFinetunes::<Test>::get(job).is_none());
		assert!(ModelRecords::<Test>::iter().next().is_none());
		assert_eq!(last_event(), Event::FinetuneFailed { job });
	});
}

#[test]
fn expired_job_fails_the_finetune_and_refunds_the_fee() {
	run(|| {
		register_workers(&[W1]);
		let base = register_base(0);
		let bob = free(BOB);
		let job = request(BOB, base, public_snapshot(), 1, None);
		run_to_block(2 + TIMEOUT);
		assert_eq!(pallet_compute::Jobs::<Test>::get(job).unwrap().status, JobStatus::Failed);
		assert!(PendingFinetunes::<Test>::get(job).is_none());
		assert_eq!(free(BOB), bob);
		assert_eq!(last_event(), Event::FinetuneFailed { job });
	});
}

#[test]
fn result_for_a_full_or_deprecated_model_is_discarded() {
	run(|| {
		let (base, snapshot, model) = trained_model();
		add_version(base, snapshot, model, 2);
		// Two requests for the last free version: the second to finish is discarded.
		let first = request(ALICE, base, snapshot, 1, Some(model));
		let second = request(ALICE, base, snapshot, 1, Some(model));
		complete_with(first, train_result(3));
		complete_with(second, train_result(4));
		assert_eq!(last_event(), Event::FinetuneDiscarded { job: second, model: Some(model) });
		assert_eq!(ModelRecords::<Test>::get(model).unwrap().versions, MAX_VERSIONS);
		assert!(PendingFinetunes::<Test>::get(second).is_none());

		let other = NextModelId::<Test>::get();
		complete_with(request(BOB, base, snapshot, 1, None), train_result(5));
		let job = request(BOB, base, snapshot, 1, Some(other));
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(BOB), other));
		complete_with(job, train_result(6));
		assert_eq!(last_event(), Event::FinetuneDiscarded { job, model: Some(other) });
		assert_eq!(ModelRecords::<Test>::get(other).unwrap().versions, 1);
	});
}

#[test]
fn ignores_jobs_it_did_not_create() {
	use pallet_compute::traits::JobHooks;
	run(|| {
		register_workers(&[W1]);
		assert_ok!(Compute::create_job(
			RuntimeOrigin::signed(BOB),
			JobKind::Train,
			b"not ours".to_vec(),
			FEE,
			1,
			TIMEOUT,
		));
		submit_payload(W1, 0, train_result(1).encode());
		assert!(events().is_empty());
		let read = <<Test as frame_system::Config>::DbWeight as Get<
			frame_support::weights::RuntimeDbWeight,
		>>::get()
		.reads(1);
		assert_eq!(
			<Models as JobHooks<AccountId>>::on_completed(
				5,
				&BOB,
				JobKind::Train,
				&[],
				H256::zero(),
				&[],
				&[]
			),
			read
		);
		assert_eq!(<Models as JobHooks<AccountId>>::on_failed(5, &BOB, JobKind::Train, &[]), read);
		// Other kinds are not even looked up.
		assert_eq!(
			<Models as JobHooks<AccountId>>::on_failed(5, &BOB, JobKind::Infer, &[]),
			Weight::zero()
		);
	});
}

#[test]
fn settling_result_pays_for_the_hook() {
	use crate::weights::WeightInfo;
	use pallet_compute::traits::JobHooks;
	run(|| {
		register_workers(&[W1]);
		let base = register_base(0);
		let job = request(BOB, base, public_snapshot(), 1, None);
		let payload = train_result(1).encode();
		let hash = H256(sp_io::hashing::blake2_256(&payload));
		let info = Compute::submit_result(RuntimeOrigin::signed(W1), job, hash, payload).unwrap();
		assert_eq!(info.pays_fee, Pays::No);
		assert_eq!(
			info.actual_weight,
			Some(
				<() as pallet_compute::WeightInfo>::submit_result_settle(1)
					.saturating_add(<() as WeightInfo>::on_completed())
			)
		);
		assert_eq!(
			<Models as JobHooks<AccountId>>::max_weight(),
			<() as WeightInfo>::on_completed().max(<() as WeightInfo>::on_failed())
		);
	});
}

/// A result of GPU training: its own adapter bytes, its held-out loss after training.
fn gpu_result(n: u8, after_micro: u64) -> TrainResult {
	TrainResult { heldout_loss_after_micro: after_micro, ..train_result(n) }
}

const TOLERANT: Agreement = Agreement::HeldOutLoss { tolerance_ppm: 10_000 };

#[test]
fn held_out_loss_agreement_accepts_different_adapters_within_the_tolerance() {
	run(|| {
		register_workers(&[W1, W2, W3]);
		let base = register_base(0);
		let job = request_agreeing(BOB, base, public_snapshot(), 3, None, TOLERANT);
		let mut workers = assigned(job);
		workers.sort();
		// 2.400 and 2.420 are within 1% of each other, 2.380 and 2.420 are not (1.65%);
		// the middle result agrees with both and is recorded.
		for (worker, (n, after)) in
			workers.iter().zip([(1, 2_380_000), (2, 2_400_000), (3, 2_420_000)])
		{
			submit_payload(*worker, job, gpu_result(n, after).encode());
		}
		assert_eq!(pallet_compute::Jobs::<Test>::get(job).unwrap().status, JobStatus::Completed);
		let version = ModelVersions::<Test>::get(0, 1).unwrap();
		assert_eq!(version.adapter_hash, H256::repeat_byte(2));
		assert_eq!(version.metrics.heldout_loss_after_micro, 2_400_000);
		// Every worker agreed with it: all were paid, nobody was slashed (the version lists
		// the first `MaxVersionWorkers` of them).
		assert_eq!(version.workers.into_inner(), workers[..MAX_VERSION_WORKERS as usize]);
		assert!(System::events().iter().any(|record| matches!(
			&record.event,
			RuntimeEvent::Compute(pallet_compute::Event::JobCompleted { paid, .. })
				if paid.iter().map(|(who, _)| *who).collect::<Vec<_>>() == workers
		)));
	});
}

#[test]
fn held_out_loss_agreement_refuses_results_outside_the_tolerance_or_split() {
	run(|| {
		register_workers(&[W1, W2, W3]);
		let base = register_base(0);
		let job = request_agreeing(BOB, base, public_snapshot(), 3, None, TOLERANT);
		// 3% apart pairwise: nobody has a majority, so the job does not complete.
		for (worker, (n, after)) in
			assigned(job).into_iter().zip([(1, 2_400_000), (2, 2_472_000), (3, 2_546_000)])
		{
			submit_payload(worker, job, gpu_result(n, after).encode());
		}
		let record = pallet_compute::Jobs::<Test>::get(job);
		assert!(record.is_none_or(|record| record.status != JobStatus::Completed));
		assert!(ModelVersions::<Test>::get(0, 1).is_none());
	});
	// Equal losses but another train/held-out split, or another config, never agree.
	let rule = TOLERANT;
	let a = gpu_result(1, 2_400_000);
	assert!(rule.agree(&a, &gpu_result(2, 2_400_000)));
	assert!(!rule.agree(&a, &TrainResult { heldout_examples: 21, ..a }));
	assert!(!rule.agree(&a, &TrainResult { steps: 99, ..a }));
	assert!(!rule.agree(&a, &TrainResult { config_hash: H256::repeat_byte(1), ..a }));
	assert!(!rule.agree(&a, &TrainResult { heldout_loss_before_micro: 3_200_000, ..a }));
	// Bit-for-bit agreement wants the same result.
	assert!(!Agreement::Exact.agree(&a, &gpu_result(2, 2_400_000)));
	assert!(Agreement::Exact.agree(&a, &a));
}

#[test]
fn exact_agreement_refuses_close_but_different_adapters() {
	run(|| {
		register_workers(&[W1, W2]);
		let base = register_base(0);
		let job = request(BOB, base, public_snapshot(), 2, None);
		submit_payload(W1, job, gpu_result(1, 2_400_000).encode());
		submit_payload(W2, job, gpu_result(2, 2_400_001).encode());
		assert_eq!(pallet_compute::Jobs::<Test>::get(job).unwrap().status, JobStatus::Failed);
		assert_eq!(last_event(), Event::FinetuneFailed { job });
	});
}

#[test]
fn a_payload_that_is_not_its_hash_agrees_with_nothing_under_a_tolerance() {
	use pallet_compute::traits::JobHooks;
	let spec = TrainSpec {
		base: 0,
		base_hash: H256::zero(),
		snapshot: 0,
		snapshot_root: H256::zero(),
		hyper: hyper(),
		agreement: TOLERANT,
	}
	.encode();
	let (a, b) = (gpu_result(1, 2_400_000).encode(), gpu_result(2, 2_400_000).encode());
	let hash = |bytes: &[u8]| H256(sp_io::hashing::blake2_256(bytes));
	assert!(Models::agree(JobKind::Train, &spec, (hash(&a), &a), (hash(&b), &b)));
	assert!(!Models::agree(JobKind::Train, &spec, (hash(&a), &a), (H256::repeat_byte(9), &b)));
	assert!(!Models::agree(JobKind::Train, &spec, (hash(&a), &a), (hash(b"x"), b"x")));
	assert!(!Models::agree(JobKind::Infer, &spec, (hash(&a), &a), (hash(&b), &b)));
}

#[test]
fn tolerance_must_be_within_bounds() {
	run(|| {
		register_workers(&[W1]);
		let base = register_base(0);
		let snapshot = public_snapshot();
		for tolerance_ppm in [0, bounds::MAX_LOSS_TOLERANCE_PPM + 1] {
			frame_support::assert_noop!(
				Models::request_finetune(
					RuntimeOrigin::signed(BOB),
					base,
					snapshot,
					hyper(),
					Agreement::HeldOutLoss { tolerance_ppm },
					FEE,
					1,
					TIMEOUT,
					None,
				),
				Error::<Test>::ToleranceOutOfRange
			);
		}
		request_agreeing(
			BOB,
			base,
			snapshot,
			1,
			None,
			Agreement::HeldOutLoss { tolerance_ppm: bounds::MAX_LOSS_TOLERANCE_PPM },
		);
	});
}
