//! Benchmarks for every call, each in its worst case: a deposit or withdrawal that updates an
//! existing entry, and a batch of receipts that all settle, each from a different client (so
//! that no storage is shared between them) with a real sr25519 signature to verify; an
//! on-chain inference with the longest prompt, compute drawing its most workers, and its
//! completion (a valid result of about 4,000 bytes that pays the owner and releases the rest)
//! or failure.
//!
//! The runtime's `Signature` and `Signer` must come from sr25519 (`MultiSignature`,
//! `MultiSigner` do), and the externalities need a keystore (the benchmark CLI registers one).

#![cfg(feature = "runtime-benchmarks")]

use crate::{traits::BenchmarkHelper, *};
use alloc::vec::Vec;
use codec::Encode;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		Get,
	},
	BoundedVec,
};
use frame_system::RawOrigin;
use pallet_compute::{
	traits::{JobCreator, JobHooks},
	JobKind,
};
use pallet_models::traits::Inspect as ModelsInspect;
use sp_core::{crypto::KeyTypeId, sr25519, H256};
use sp_runtime::traits::{IdentifyAccount, Saturating};

const SEED: u32 = 0;
/// The keystore slot the benchmark's client keys live in.
const KEY_TYPE: KeyTypeId = KeyTypeId(*b"infr");
/// Tokens each benchmark receipt counts (prompt and completion alike).
const TOKENS: u32 = 1_000;

/// `MaxAttribution` entries sharing the whole, for contributions that need not exist.
fn full_attribution<T: Config>() -> Vec<AttributionEntry> {
	let n = T::MaxAttribution::get();
	(0..n)
		.map(|i| AttributionEntry {
			contribution: u64::from(i),
			weight: sp_runtime::Perbill::from_rational(1, n.max(1)),
		})
		.collect()
}

fn assert_last_event<T: Config>(event: Event<T>) {
	let event: <T as Config>::RuntimeEvent = event.into();
	frame_system::Pallet::<T>::assert_last_event(event.into());
}

/// Enough for any deposit and fee a benchmark asks for.
fn plenty<T: Config>() -> BalanceOf<T> {
	T::Currency::minimum_balance()
		.saturating_mul(1_000_000u32.into())
		.saturating_add(1_000_000_000u32.into())
}

/// A deposit that pays many receipts; two of them fit in [`plenty`].
fn deposit_amount<T: Config>() -> BalanceOf<T> {
	T::Currency::minimum_balance()
		.saturating_mul(100_000u32.into())
		.saturating_add(100_000_000u32.into())
}

fn fund<T: Config>(who: &T::AccountId) {
	T::Currency::set_balance(who, plenty::<T>());
}

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who = account(name, index, SEED);
	fund::<T>(&who);
	who
}

/// A funded client with a deposit and a pending withdrawal of part of it.
fn depositor<T: Config>(name: &'static str) -> Result<T::AccountId, BenchmarkError> {
	let who = funded::<T>(name, 0);
	Pallet::<T>::do_deposit(who.clone(), deposit_amount::<T>())?;
	Pallet::<T>::do_request_withdrawal(who.clone(), 1u32.into())?;
	Ok(who)
}

/// A funded owner's model with a price; returns `(model, version, price)`.
fn priced_model<T: Config>() -> Result<(ModelId, VersionIndex, BalanceOf<T>), BenchmarkError> {
	let owner = funded::<T>("owner", 0);
	let (model, version) = T::BenchmarkHelper::create_model(&owner);
	let price: BalanceOf<T> = 1_000u32.into();
	Pallet::<T>::do_set_price(owner, model, price)?;
	Ok((model, version, price))
}

/// Bytes of the completion in the `on_completed` benchmark: with its length prefix and token
/// counts the payload is 4,010 bytes, within compute's `MaxResultLen` of 4,096.
const COMPLETION_LEN: usize = 4_000;

/// A funded requester with an on-chain inference pending for a priced model, at the longest
/// prompt and most tokens; returns `(requester, job, model, version)`.
fn pending_infer<T: Config>() -> Result<(T::AccountId, JobId, ModelId, VersionIndex), BenchmarkError>
{
	let (model, version, _) = priced_model::<T>()?;
	let requester = infer_requester::<T>();
	T::Jobs::benchmark_register_workers(u32::MAX)?;
	let (fee, replication, timeout) = T::Jobs::benchmark_job_terms();
	let job = Pallet::<T>::do_request_inference(
		requester.clone(),
		model,
		Some(version),
		prompt::<T>(),
		T::MaxInferTokens::get(),
		fee,
		replication,
		timeout,
	)?;
	Ok((requester, job, model, version))
}

/// A requester funded for the job's fee and its token fee.
fn infer_requester<T: Config>() -> T::AccountId {
	let who = account("requester", 0, SEED);
	let (fee, _, _) = T::Jobs::benchmark_job_terms();
	T::Currency::set_balance(&who, plenty::<T>().saturating_add(fee.saturating_mul(2u32.into())));
	who
}

/// The longest prompt, two-byte UTF-8 characters (the slowest to validate) and an ASCII byte
/// if the length is odd.
fn prompt<T: Config>() -> Vec<u8> {
	let len = T::MaxPromptLen::get() as usize;
	let mut prompt = "é".repeat(len / 2).into_bytes();
	if prompt.len() < len {
		prompt.push(b'x');
	}
	prompt
}

#[benchmarks(
	where
		T::Signature: From<sr25519::Signature>,
		T::Signer: From<sr25519::Public>,
)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn deposit() -> Result<(), BenchmarkError> {
		let who = depositor::<T>("client")?;
		let amount = deposit_amount::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), amount);

		let held = deposit_amount::<T>().saturating_add(amount);
		assert_last_event::<T>(Event::Deposited { who, amount, held });
		Ok(())
	}

	#[benchmark]
	fn request_withdrawal() -> Result<(), BenchmarkError> {
		let who = depositor::<T>("client")?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), 1u32.into());

		assert!(Deposits::<T>::get(&who)
			.and_then(|d| d.withdrawal)
			.is_some_and(|w| w.amount == 2u32.into()));
		Ok(())
	}

	/// Releases part of the deposit (the entry stays and is written back).
	#[benchmark]
	fn withdraw() -> Result<(), BenchmarkError> {
		let who = depositor::<T>("client")?;
		let now = frame_system::Pallet::<T>::block_number();
		frame_system::Pallet::<T>::set_block_number(now.saturating_add(T::WithdrawDelay::get()));

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		let held = deposit_amount::<T>().saturating_sub(1u32.into());
		assert_last_event::<T>(Event::Withdrawn { who, amount: 1u32.into(), held });
		Ok(())
	}

	#[benchmark]
	fn set_price() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let (model, _) = T::BenchmarkHelper::create_model(&owner);
		let price: BalanceOf<T> = 1_000u32.into();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), model, price);

		assert_last_event::<T>(Event::PriceSet { model, price_per_1k_tokens: price });
		Ok(())
	}

	#[benchmark]
	fn clear_price() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let (model, _) = T::BenchmarkHelper::create_model(&owner);
		Pallet::<T>::do_set_price(owner.clone(), model, 1_000u32.into())?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), model);

		assert_last_event::<T>(Event::PriceCleared { model });
		Ok(())
	}

	/// `n` receipts that all settle, from `n` different clients, each signed with sr25519 and
	/// carrying `MaxAttribution` entries (the payout's own work is charged on top, by
	/// `Payout::max_weight`).
	#[benchmark]
	fn submit_receipts(n: Linear<1, { T::MaxReceipts::get() }>) -> Result<(), BenchmarkError> {
		let worker = funded::<T>("worker", 0);
		T::BenchmarkHelper::register_worker(&worker);
		let (model, version, _) = priced_model::<T>()?;
		let max_fee = plenty::<T>();
		let mut receipts = Vec::new();
		let mut clients = Vec::new();
		for i in 0..n {
			let public = sp_io::crypto::sr25519_generate(KEY_TYPE, None);
			let client = T::Signer::from(public).into_account();
			fund::<T>(&client);
			Pallet::<T>::do_deposit(client.clone(), deposit_amount::<T>())?;
			Pallet::<T>::do_request_withdrawal(client.clone(), 1u32.into())?;
			let request_hash = H256(sp_io::hashing::blake2_256(&i.to_le_bytes()));
			let nonce = 1;
			let payload = Pallet::<T>::signing_payload(
				&worker,
				model,
				version,
				&request_hash,
				nonce,
				&max_fee,
			);
			let signature = sp_io::crypto::sr25519_sign(KEY_TYPE, &public, &payload)
				.ok_or(BenchmarkError::Stop("the keystore cannot sign"))?;
			receipts.push(Receipt {
				client: client.clone(),
				model,
				version,
				request_hash,
				nonce,
				max_fee,
				prompt_tokens: TOKENS,
				completion_tokens: TOKENS,
				signature: signature.into(),
				attribution: full_attribution::<T>()
					.try_into()
					.map_err(|_| BenchmarkError::Stop("the attribution is over MaxAttribution"))?,
			});
			clients.push(client);
		}
		let receipts: BoundedVec<_, T::MaxReceipts> =
			receipts.try_into().map_err(|_| BenchmarkError::Stop("batch over MaxReceipts"))?;

		#[extrinsic_call]
		_(RawOrigin::Signed(worker.clone()), receipts);

		for client in clients {
			assert_eq!(Nonces::<T>::get(&client, &worker), 1);
		}
		Ok(())
	}

	/// The longest prompt, the model's active version looked up, compute drawing its most
	/// workers with its costliest terms.
	#[benchmark]
	fn request_inference() -> Result<(), BenchmarkError> {
		let (model, version, _) = priced_model::<T>()?;
		let requester = infer_requester::<T>();
		T::Jobs::benchmark_register_workers(u32::MAX)?;
		let (fee, replication, timeout) = T::Jobs::benchmark_job_terms();
		// The active version costs a read more than a named one, if the model has one.
		let named = T::Models::active_version(model).map_or(Some(version), |_| None);
		let max_tokens = T::MaxInferTokens::get();

		#[extrinsic_call]
		_(
			RawOrigin::Signed(requester),
			model,
			named,
			prompt::<T>(),
			max_tokens,
			fee,
			replication,
			timeout,
		);

		assert_eq!(PendingInfers::<T>::count(), 1);
		Ok(())
	}

	/// A valid result of about 4,000 bytes (two-byte characters) whose fee goes to the owner
	/// and leaves the rest to release.
	#[benchmark]
	fn on_completed() -> Result<(), BenchmarkError> {
		let (requester, job, model, version) = pending_infer::<T>()?;
		let completion = "é".repeat(COMPLETION_LEN / 2).into_bytes();
		let payload = InferResult {
			completion: completion.clone(),
			prompt_tokens: 1,
			completion_tokens: 1,
			attribution: full_attribution::<T>(),
		}
		.encode();
		let outcome = H256(sp_io::hashing::blake2_256(&payload));
		let workers: Vec<T::AccountId> = (0..16).map(|i| account("worker", i, SEED)).collect();

		#[block]
		{
			<Pallet<T> as JobHooks<T::AccountId>>::on_completed(
				job,
				&requester,
				JobKind::Infer,
				&[],
				outcome,
				&payload,
				&workers,
			);
		}

		// Two tokens at 1,000 per 1,000 tokens.
		assert_last_event::<T>(Event::InferenceCompleted {
			job,
			model,
			version,
			completion,
			prompt_tokens: 1,
			completion_tokens: 1,
			fee: 2u32.into(),
			workers: 16,
		});
		Ok(())
	}

	#[benchmark]
	fn on_failed() -> Result<(), BenchmarkError> {
		let (requester, job, _, _) = pending_infer::<T>()?;

		#[block]
		{
			<Pallet<T> as JobHooks<T::AccountId>>::on_failed(job, &requester, JobKind::Infer, &[]);
		}

		assert_last_event::<T>(Event::InferenceFailed { job });
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);

	/// Times each benchmark's call in the mock runtime (native, in-memory storage), the basis
	/// of the ref-time figures in `weights.rs` until the node's benchmark CLI runs.
	#[cfg(test)]
	#[allow(clippy::indexing_slicing, clippy::expect_used, clippy::arithmetic_side_effects)]
	mod timing {
		use super::*;
		use crate::mock::{new_test_ext, Test};
		use frame_benchmarking::{BenchmarkingSetup, Recording};
		use std::time::{Duration, Instant};

		/// Measures the span between the benchmark's `start` and `stop`: the call alone.
		#[derive(Default)]
		struct Clock {
			since: Option<Instant>,
			took: Duration,
		}

		impl Recording for Clock {
			fn start(&mut self) {
				self.since = Some(Instant::now());
			}

			fn stop(&mut self) {
				if let Some(since) = self.since.take() {
					self.took = since.elapsed();
				}
			}
		}

		/// The median of `runs` timings of `benchmark` with `components`, in nanoseconds.
		fn median_ns(
			benchmark: &SelectedBenchmark,
			components: &[(BenchmarkParameter, u32)],
			runs: usize,
		) -> u128 {
			let mut samples: std::vec::Vec<u128> = (0..runs)
				.map(|_| {
					new_test_ext().execute_with(|| {
						let mut clock = Clock::default();
						<SelectedBenchmark as BenchmarkingSetup<Test>>::instance(
							benchmark, &mut clock, components, true,
						)
						.expect("the benchmark runs");
						clock.took.as_nanos()
					})
				})
				.collect();
			samples.sort_unstable();
			samples[runs / 2]
		}

		#[test]
		#[ignore = "prints timings for weights.rs: cargo test --release --features \
		            runtime-benchmarks -- --ignored --nocapture print_call_timings"]
		fn print_call_timings() {
			let calls = [
				("deposit", SelectedBenchmark::deposit),
				("request_withdrawal", SelectedBenchmark::request_withdrawal),
				("withdraw", SelectedBenchmark::withdraw),
				("set_price", SelectedBenchmark::set_price),
				("clear_price", SelectedBenchmark::clear_price),
				("request_inference", SelectedBenchmark::request_inference),
				("on_completed", SelectedBenchmark::on_completed),
				("on_failed", SelectedBenchmark::on_failed),
			];
			println!("{:<24} {:>12}", "call", "median ns");
			for (name, benchmark) in &calls {
				println!("{name:<24} {:>12}", median_ns(benchmark, &[], 101));
			}
			for n in [1, crate::mock::MAX_RECEIPTS] {
				let ns = median_ns(
					&SelectedBenchmark::submit_receipts,
					&[(BenchmarkParameter::n, n)],
					101,
				);
				println!("{:<24} {ns:>12}", format!("submit_receipts(n = {n})"));
			}
		}
	}
}
