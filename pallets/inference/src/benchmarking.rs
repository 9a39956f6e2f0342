//! Benchmarks for every call, each in its worst case: a deposit or withdrawal that updates an
//! existing entry, and a batch of receipts that all settle, each from a different client (so
//! that no storage is shared between them) with a real sr25519 signature to verify.
//!
//! The runtime's `Signature` and `Signer` must come from sr25519 (`MultiSignature`,
//! `MultiSigner` do), and the externalities need a keystore (the benchmark CLI registers one).

#![cfg(feature = "runtime-benchmarks")]

use crate::{traits::BenchmarkHelper, *};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		Get,
	},
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_core::{crypto::KeyTypeId, sr25519, H256};
use sp_runtime::traits::{IdentifyAccount, Saturating};

const SEED: u32 = 0;
/// The keystore slot the benchmark's client keys live in.
const KEY_TYPE: KeyTypeId = KeyTypeId(*b"infr");
/// Tokens each benchmark receipt counts (prompt and completion alike).
const TOKENS: u32 = 1_000;

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

	/// `n` receipts that all settle, from `n` different clients, each signed with sr25519.
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
