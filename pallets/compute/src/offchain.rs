//! The off-chain worker that hands jobs to the GPU workers attached to this node.
//!
//! The node writes the URLs of its attached GPU workers into persistent off-chain storage under
//! [`GPU_WORKERS_KEY`] (SCALE `Vec<Vec<u8>>`). Each block, for each URL:
//!
//! 1. the worker's account is learned once with the JSON-RPC call `worker_info` (its reply's
//!    `result.account` is the 32-byte public key in hex) and cached under
//!    `openledger/gpu-worker-account/<url>`;
//! 2. each pending job assigned to that account that it has not reported on is announced with
//!    `worker_dispatch(job_id)`, once per job round (`Job::escalations`). A per-(job, account,
//!    round) [`DispatchLock`] records attempts; a failed attempt is retried after
//!    [`backoff_blocks`] blocks, and after [`MAX_ATTEMPTS`] the job is left alone.
//!
//! The worker then runs the job and submits its result on chain itself. URL, JSON and retry
//! logic are pure functions, tested apart from the HTTP calls.

use alloc::{format, vec::Vec};
use codec::{Decode, Encode};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	offchain::{http, storage::StorageValueRef, Duration},
	Saturating,
};

use crate::{Config, JobId, Jobs, Results, WorkerJobs};

/// Persistent off-chain storage key under which the node lists its GPU workers' URLs.
pub const GPU_WORKERS_KEY: &[u8] = b"openledger/gpu-workers";
/// Prefix of the per-URL cache of a worker's account.
pub const ACCOUNT_CACHE_PREFIX: &[u8] = b"openledger/gpu-worker-account/";
/// Prefix of the per-(job, account, round) dispatch locks.
pub const DISPATCH_LOCK_PREFIX: &[u8] = b"openledger/gpu-dispatch/";
/// Attempts after which a dispatch is given up.
pub const MAX_ATTEMPTS: u8 = 8;
/// The longest wait between attempts, in blocks.
pub const MAX_BACKOFF_BLOCKS: u32 = 32;
/// How long one HTTP call may take.
pub const HTTP_TIMEOUT_MS: u64 = 2_000;
/// Most worker URLs served per block.
pub const MAX_URLS: usize = 16;
/// Most bytes read from one HTTP reply.
pub const MAX_REPLY_BYTES: usize = 64 * 1024;

/// The body of a `worker_info` call.
pub const WORKER_INFO_BODY: &[u8] =
	br#"{"jsonrpc":"2.0","id":1,"method":"worker_info","params":[]}"#;

/// Progress of dispatching one job round to one worker.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct DispatchLock<BlockNumber> {
	/// The worker accepted the job.
	pub done: bool,
	/// Attempts started so far.
	pub attempts: u8,
	/// The first block the next attempt may start in.
	pub next_try: BlockNumber,
}

/// Blocks to wait after the `attempts`-th failed attempt: `min(2^attempts, 32)`.
pub fn backoff_blocks(attempts: u8) -> u32 {
	1u32.checked_shl(u32::from(attempts)).unwrap_or(MAX_BACKOFF_BLOCKS).min(MAX_BACKOFF_BLOCKS)
}

/// Claims an attempt at block `now`: `Some(new lock)` if one may start, recorded pessimistically
/// as failed (attempts + 1, next try after the backoff) so that a concurrent off-chain worker
/// does not start the same attempt; `None` if the dispatch is done, given up, or backing off.
pub fn claim<B: Copy + PartialOrd + Saturating + From<u32>>(
	lock: Option<DispatchLock<B>>,
	now: B,
) -> Option<DispatchLock<B>> {
	let lock = lock.unwrap_or(DispatchLock { done: false, attempts: 0, next_try: now });
	if lock.done || lock.attempts >= MAX_ATTEMPTS || now < lock.next_try {
		return None;
	}
	let attempts = lock.attempts.saturating_add(1);
	Some(DispatchLock {
		done: false,
		attempts,
		next_try: now.saturating_add(B::from(backoff_blocks(attempts))),
	})
}

/// The lock after a claimed attempt succeeded.
pub fn succeeded<B>(lock: DispatchLock<B>) -> DispatchLock<B> {
	DispatchLock { done: true, ..lock }
}

/// The body of a `worker_dispatch` call for `job`.
pub fn dispatch_body(job: JobId) -> Vec<u8> {
	format!(r#"{{"jsonrpc":"2.0","id":1,"method":"worker_dispatch","params":[{job}]}}"#)
		.into_bytes()
}

/// Whether a JSON-RPC reply reports success: HTTP 200 and a `"result"` member.
pub fn is_success(code: u16, body: &[u8]) -> bool {
	code == 200 && contains(body, br#""result""#)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
	find(haystack, needle).is_some()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
	if needle.is_empty() {
		return Some(0);
	}
	haystack.windows(needle.len()).position(|w| w == needle)
}

fn hex_value(c: u8) -> Option<u8> {
	match c {
		b'0'..=b'9' => c.checked_sub(b'0'),
		b'a'..=b'f' => c.checked_sub(b'a').and_then(|v| v.checked_add(10)),
		b'A'..=b'F' => c.checked_sub(b'A').and_then(|v| v.checked_add(10)),
		_ => None,
	}
}

/// Reads the 32-byte account from a `worker_info` reply: the 64 hex digits after
/// `"account":"0x` (whitespace around the colon allowed). `None` if absent or malformed.
pub fn parse_account(body: &[u8]) -> Option<[u8; 32]> {
	let key = br#""account""#;
	let start = find(body, key)?.checked_add(key.len())?;
	let mut rest = body.get(start..)?;
	rest = trim_start(rest);
	rest = rest.strip_prefix(b":")?;
	rest = trim_start(rest);
	rest = rest.strip_prefix(b"\"0x")?;
	let digits = rest.get(..64)?;
	if rest.get(64) != Some(&b'"') {
		return None;
	}
	let mut account = [0u8; 32];
	for (byte, pair) in account.iter_mut().zip(digits.chunks_exact(2)) {
		let (hi, lo) = match pair {
			[hi, lo] => (hex_value(*hi)?, hex_value(*lo)?),
			_ => return None,
		};
		*byte = hi.checked_mul(16)?.checked_add(lo)?;
	}
	Some(account)
}

fn trim_start(mut bytes: &[u8]) -> &[u8] {
	while let Some((first, rest)) = bytes.split_first() {
		if !first.is_ascii_whitespace() {
			break;
		}
		bytes = rest;
	}
	bytes
}

/// The local-storage key of the account cache for `url`.
pub fn account_cache_key(url: &[u8]) -> Vec<u8> {
	[ACCOUNT_CACHE_PREFIX, url].concat()
}

/// The local-storage key of the dispatch lock for `(job, account, round)`.
pub fn dispatch_lock_key<AccountId: Encode>(job: JobId, account: &AccountId, round: u8) -> Vec<u8> {
	let mut key = DISPATCH_LOCK_PREFIX.to_vec();
	(job, account, round).encode_to(&mut key);
	key
}

/// POSTs a JSON body and returns the status code and (at most [`MAX_REPLY_BYTES`] of) the reply.
fn post_json(url: &str, body: Vec<u8>) -> Option<(u16, Vec<u8>)> {
	let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(HTTP_TIMEOUT_MS));
	let pending = http::Request::post(url, alloc::vec![body])
		.add_header("Content-Type", "application/json")
		.deadline(deadline)
		.send()
		.ok()?;
	let response = pending.try_wait(deadline).ok()?.ok()?;
	let reply: Vec<u8> = response.body().take(MAX_REPLY_BYTES).collect();
	Some((response.code, reply))
}

/// The account of the worker at `url`, from the cache or asked once with `worker_info`.
fn worker_account<T: Config>(url: &str) -> Option<T::AccountId> {
	let key = account_cache_key(url.as_bytes());
	let cache = StorageValueRef::persistent(&key);
	let raw = match cache.get::<[u8; 32]>() {
		Ok(Some(raw)) => raw,
		_ => {
			let (code, reply) = post_json(url, WORKER_INFO_BODY.to_vec())?;
			if code != 200 {
				return None;
			}
			let raw = parse_account(&reply)?;
			cache.set(&raw);
			raw
		}
	};
	T::AccountId::decode(&mut &raw[..]).ok()
}

/// Announces to the worker at `url` each of its pending jobs not yet dispatched this round.
fn dispatch_jobs<T: Config>(url: &str, account: &T::AccountId, now: BlockNumberFor<T>) {
	for id in WorkerJobs::<T>::get(account) {
		let Some(job) = Jobs::<T>::get(id) else { continue };
		if !job.is_pending() || Results::<T>::contains_key(id, account) {
			continue;
		}
		let key = dispatch_lock_key(id, account, job.escalations);
		let lock = StorageValueRef::persistent(&key);
		let claimed = lock.mutate(|current: Result<Option<DispatchLock<BlockNumberFor<T>>>, _>| {
			claim(current.ok().flatten(), now).ok_or(())
		});
		let Ok(claimed) = claimed else { continue };
		if post_json(url, dispatch_body(id)).is_some_and(|(code, body)| is_success(code, &body)) {
			log::info!(
				target: "runtime::compute",
				"dispatched job {id} (round {}) to {url}", job.escalations
			);
			lock.set(&succeeded(claimed));
		} else {
			log::warn!(
				target: "runtime::compute",
				"dispatching job {id} to {url} failed (attempt {}); retrying later", claimed.attempts
			);
		}
	}
}

/// The off-chain worker's entry point (see the module docs).
pub fn run<T: Config>(now: BlockNumberFor<T>) {
	let Ok(Some(urls)) = StorageValueRef::persistent(GPU_WORKERS_KEY).get::<Vec<Vec<u8>>>() else {
		return;
	};
	for url in urls.iter().take(MAX_URLS) {
		let Ok(url) = core::str::from_utf8(url) else { continue };
		if let Some(account) = worker_account::<T>(url) {
			dispatch_jobs::<T>(url, &account, now);
		}
	}
}
