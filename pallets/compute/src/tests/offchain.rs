//! The off-chain worker: its pure helpers, and dispatching jobs end to end against a fake HTTP
//! layer.

use super::*;
use crate::offchain::*;
use sp_core::offchain::{
	testing::{PendingRequest, TestOffchainExt},
	OffchainDbExt, OffchainWorkerExt,
};
use sp_runtime::offchain::storage::StorageValueRef;

const URL: &str = "http://127.0.0.1:8091";

/// W1 (account 10) as the 32 bytes a GPU worker reports: the mock's `u64` account decodes from
/// the first 8 (little-endian).
fn w1_hex() -> String {
	let mut bytes = [0u8; 32];
	bytes[..8].copy_from_slice(&W1.to_le_bytes());
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn parses_the_account_from_worker_info() {
	let hex = "ab".repeat(32);
	let body =
		format!(r#"{{"jsonrpc":"2.0","id":1,"result":{{"backend":"cuda","account":"0x{hex}"}}}}"#);
	assert_eq!(parse_account(body.as_bytes()), Some([0xab; 32]));
	let spaced = format!(r#"{{"result":{{"account" :  "0x{}"}}}}"#, "0F".repeat(32));
	assert_eq!(parse_account(spaced.as_bytes()), Some([0x0f; 32]));
}

#[test]
fn rejects_malformed_accounts() {
	for body in [
		r#"{"result":{}}"#.to_string(),
		format!(r#"{{"account":"0x{}"}}"#, "ab".repeat(31)),
		format!(r#"{{"account":"0x{}"}}"#, "ab".repeat(33)),
		format!(r#"{{"account":"{}"}}"#, "ab".repeat(32)),
		format!(r#"{{"account":"0x{}zz"}}"#, "ab".repeat(31)),
	] {
		assert_eq!(parse_account(body.as_bytes()), None, "{body}");
	}
}

#[test]
fn recognises_successful_replies() {
	assert!(is_success(200, br#"{"jsonrpc":"2.0","id":1,"result":true}"#));
	assert!(!is_success(200, br#"{"jsonrpc":"2.0","id":1,"error":{"code":-1}}"#));
	assert!(!is_success(500, br#"{"result":true}"#));
}

#[test]
fn builds_dispatch_bodies() {
	assert_eq!(
		dispatch_body(42),
		br#"{"jsonrpc":"2.0","id":1,"method":"worker_dispatch","params":[42]}"#.to_vec()
	);
}

#[test]
fn backoff_doubles_up_to_32_blocks() {
	let schedule: Vec<u32> = (1..=8).map(backoff_blocks).collect();
	assert_eq!(schedule, vec![2, 4, 8, 16, 32, 32, 32, 32]);
	assert_eq!(backoff_blocks(200), 32);
}

#[test]
fn lock_claims_attempts_until_done_or_given_up() {
	let first = claim::<u64>(None, 10).unwrap();
	assert_eq!(first, DispatchLock { done: false, attempts: 1, next_try: 12 });
	// Backing off.
	assert_eq!(claim(Some(first), 11), None);
	let second = claim(Some(first), 12).unwrap();
	assert_eq!(second, DispatchLock { done: false, attempts: 2, next_try: 16 });
	// Done is final.
	assert_eq!(claim(Some(succeeded(second)), 100), None);
	// Given up after MAX_ATTEMPTS.
	let mut lock = None;
	let mut now: u64 = 0;
	let mut attempts = 0;
	while let Some(next) = claim(lock, now) {
		attempts += 1;
		now = next.next_try;
		lock = Some(next);
	}
	assert_eq!(attempts, MAX_ATTEMPTS);
}

fn request(body: Vec<u8>, response: &str) -> PendingRequest {
	PendingRequest {
		method: "POST".into(),
		uri: URL.into(),
		body,
		headers: vec![("Content-Type".into(), "application/json".into())],
		sent: true,
		response: Some(response.as_bytes().to_vec()),
		..Default::default()
	}
}

/// A test externality with the fake off-chain layer, and a handle to it.
fn offchain_ext() -> (sp_io::TestExternalities, TestOffchainExt) {
	let (offchain, _state) = TestOffchainExt::new();
	let mut ext = new_test_ext();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain.clone()));
	(ext, offchain)
}

/// Lists the worker URL and caches W1 as its account.
fn attach_w1() {
	StorageValueRef::persistent(GPU_WORKERS_KEY).set(&vec![URL.as_bytes().to_vec()]);
	let mut raw = [0u8; 32];
	raw[..8].copy_from_slice(&W1.to_le_bytes());
	StorageValueRef::persistent(&account_cache_key(URL.as_bytes())).set(&raw);
}

fn lock_of(id: JobId, round: u8) -> Option<DispatchLock<u64>> {
	StorageValueRef::persistent(&dispatch_lock_key(id, &W1, round)).get().unwrap()
}

#[test]
fn dispatches_assigned_jobs_once_per_round() {
	let (mut ext, offchain) = offchain_ext();
	ext.execute_with(|| {
		StorageValueRef::persistent(GPU_WORKERS_KEY).set(&vec![URL.as_bytes().to_vec()]);
		register_all(&[W1]);
		let id = create(1);

		{
			let mut s = offchain.0.write();
			s.expect_request(request(
				WORKER_INFO_BODY.to_vec(),
				&format!(r#"{{"jsonrpc":"2.0","id":1,"result":{{"account":"0x{}"}}}}"#, w1_hex()),
			));
			s.expect_request(request(
				dispatch_body(id),
				r#"{"jsonrpc":"2.0","id":1,"result":null}"#,
			));
		}
		crate::offchain::run::<Test>(1);
		let lock: DispatchLock<u64> =
			StorageValueRef::persistent(&dispatch_lock_key(id, &W1, 0)).get().unwrap().unwrap();
		assert!(lock.done);
		assert_eq!(
			StorageValueRef::persistent(&account_cache_key(URL.as_bytes()))
				.get::<[u8; 32]>()
				.unwrap()
				.map(|a| a[0]),
			Some(W1 as u8)
		);

		// The next block asks nothing: the account is cached and the job dispatched.
		crate::offchain::run::<Test>(2);
		assert!(offchain.0.read().requests.values().all(|r| r.response.is_some()));
		submit(W1, id, hash(1));
	});
}

#[test]
fn retries_a_failed_dispatch_after_backoff() {
	let (mut ext, offchain) = offchain_ext();
	ext.execute_with(|| {
		attach_w1();
		register_all(&[W1]);
		let id = create(1);

		offchain.0.write().expect_request(request(
			dispatch_body(id),
			r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"busy"}}"#,
		));
		crate::offchain::run::<Test>(1);
		let key = dispatch_lock_key(id, &W1, 0);
		let lock: DispatchLock<u64> = StorageValueRef::persistent(&key).get().unwrap().unwrap();
		assert_eq!(lock, DispatchLock { done: false, attempts: 1, next_try: 3 });

		// Block 2 is still backing off: no request (an unexpected one would panic).
		crate::offchain::run::<Test>(2);

		offchain.0.write().expect_request(request(
			dispatch_body(id),
			r#"{"jsonrpc":"2.0","id":1,"result":true}"#,
		));
		crate::offchain::run::<Test>(3);
		let lock: DispatchLock<u64> = StorageValueRef::persistent(&key).get().unwrap().unwrap();
		assert_eq!(lock, DispatchLock { done: true, attempts: 2, next_try: 7 });
		submit(W1, id, hash(1));
	});
}

#[test]
fn dispatches_again_after_reassignment() {
	let (mut ext, offchain) = offchain_ext();
	ext.execute_with(|| {
		attach_w1();
		register_all(&[W2]);
		let id = create(1);
		crate::offchain::run::<Test>(1);
		assert_eq!(lock_of(id, 0), None, "W1 holds no job yet");

		// W2 misses the deadline and W1, the only other worker, replaces it in round 1.
		register_all(&[W1]);
		run_to_block(job(id).deadline + 1);
		assert_eq!((assigned(id), job(id).escalations), (vec![W1], 1));

		offchain.0.write().expect_request(request(dispatch_body(id), r#"{"result":1}"#));
		crate::offchain::run::<Test>(System::block_number());
		assert!(lock_of(id, 1).unwrap().done);
		submit(W1, id, hash(1));
	});
}
