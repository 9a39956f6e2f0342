//! The [`JobKind::VerifySnapshot`] job: is a Datanet snapshot what the chain says it is?
//!
//! The worker takes the snapshot's manifest (its recorded root and count, and the contributions
//! at positions `0..count`), fetches every contribution's bytes from its locator, checks them
//! against the registered hash and size, and recomputes the Merkle root with the rules of
//! pallet-datanets' `merkle.rs`:
//!
//! - leaf of contribution `id`: `blake2_256(SCALE(id: u64, content_hash: [u8; 32], size: u64))`;
//! - inner node: `blake2_256(left ++ right)`;
//! - levels pair neighbours left to right; an odd last node is promoted unchanged.
//!
//! The result is a [`VerificationReport`], SCALE-encoded. Everything in it follows from the
//! chain's data and the bytes found, with the id lists sorted, so honest workers that see the
//! same bytes report the same payload byte for byte.
//!
//! [`verify`] is the pure half; [`VerifySnapshotExecutor`] adds the IO (manifest, fetches).

use super::{Executor, JobError, JobOutput};
use crate::{
	chain::types::{AssignedJob, JobKind, SnapshotManifest, VerifySnapshotSpec},
	fetch::{FetchError, Fetcher},
};
use async_trait::async_trait;
use codec::{Decode, DecodeAll, Encode};
use sp_crypto_hashing::blake2_256;
use std::sync::Arc;
use tokio::{sync::Semaphore, task::JoinSet};

/// Contributions fetched at once by default.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// What a verification found; the job's payload, SCALE-encoded in field order.
#[derive(Encode, Decode, Clone, Debug, PartialEq, Eq)]
pub struct VerificationReport {
	/// The snapshot verified.
	pub snapshot: u32,
	/// Whether the root recomputed over the manifest's contributions equals the recorded root,
	/// and the manifest has the recorded count.
	pub root_matches: bool,
	/// How many contributions the manifest lists.
	pub count: u32,
	/// Their total registered size in bytes.
	pub total_bytes: u64,
	/// Contributions whose bytes could not be found, by id, ascending.
	pub missing: Vec<u64>,
	/// Contributions whose bytes differ from the registered hash or size, by id, ascending.
	pub corrupt: Vec<u64>,
}

/// What fetching one contribution gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchOutcome {
	/// Bytes that hash to the registered hash were found; this many.
	Verified(u64),
	/// Nothing was found (not found, unreachable, or a locator this worker cannot follow).
	Missing,
	/// Bytes were found, but not the registered ones.
	Corrupt,
}

impl FetchOutcome {
	/// The outcome of a fetch that checked the hash.
	pub fn of(result: &Result<Vec<u8>, FetchError>) -> Self {
		match result {
			Ok(bytes) => Self::Verified(bytes.len() as u64),
			Err(FetchError::HashMismatch { .. } | FetchError::TooLarge { .. }) => Self::Corrupt,
			Err(_) => Self::Missing,
		}
	}
}

/// The Merkle leaf of contribution `id`.
pub fn leaf_hash(id: u64, content_hash: &[u8; 32], size: u64) -> [u8; 32] {
	(id, content_hash, size).using_encoded(blake2_256)
}

/// The parent of two nodes.
pub fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
	let mut input = [0u8; 64];
	let (l, r) = input.split_at_mut(32);
	l.copy_from_slice(left);
	r.copy_from_slice(right);
	blake2_256(&input)
}

/// The root over `leaves`, `None` for none.
pub fn merkle_root(leaves: &[[u8; 32]]) -> Option<[u8; 32]> {
	let mut level = leaves.to_vec();
	while level.len() > 1 {
		level = level
			.chunks(2)
			.map(|pair| match pair {
				[left, right] => node_hash(left, right),
				// The odd last node goes up unchanged.
				[single] => *single,
				// `chunks(2)` yields one or two nodes.
				_ => [0; 32],
			})
			.collect();
	}
	level.first().copied()
}

/// The smallest read limit per contribution: an HTTP error body fits in it.
const ERROR_BODY_ROOM: u64 = 64 * 1024;

/// Verifies `manifest` given what fetching each of its entries gave (`fetched[i]` for
/// `manifest.entries[i]`; an entry without an outcome counts as missing).
pub fn verify(manifest: &SnapshotManifest, fetched: &[FetchOutcome]) -> VerificationReport {
	let leaves: Vec<[u8; 32]> =
		manifest.entries.iter().map(|e| leaf_hash(e.id, &e.content_hash, e.size)).collect();
	let count = u32::try_from(manifest.entries.len()).unwrap_or(u32::MAX);
	let root_matches =
		count == manifest.count && merkle_root(&leaves).is_some_and(|root| root == manifest.root);
	let mut missing = Vec::new();
	let mut corrupt = Vec::new();
	for (i, entry) in manifest.entries.iter().enumerate() {
		match fetched.get(i).copied().unwrap_or(FetchOutcome::Missing) {
			FetchOutcome::Verified(size) if size == entry.size => {}
			// The hash matched but the chain recorded another size: the leaf is wrong.
			FetchOutcome::Verified(_) | FetchOutcome::Corrupt => corrupt.push(entry.id),
			FetchOutcome::Missing => missing.push(entry.id),
		}
	}
	missing.sort_unstable();
	missing.dedup();
	corrupt.sort_unstable();
	corrupt.dedup();
	VerificationReport {
		snapshot: manifest.snapshot,
		root_matches,
		count,
		total_bytes: manifest.entries.iter().fold(0u64, |sum, e| sum.saturating_add(e.size)),
		missing,
		corrupt,
	}
}

/// Where the verification job gets a snapshot's manifest (the chain, in the service).
#[async_trait]
pub trait ManifestSource: Send + Sync {
	/// The manifest of `snapshot`.
	async fn manifest(
		&self,
		snapshot: u32,
	) -> Result<SnapshotManifest, Box<dyn std::error::Error + Send + Sync>>;
}

/// Runs [`JobKind::VerifySnapshot`] jobs: manifest from `M`, bytes through a [`Fetcher`].
pub struct VerifySnapshotExecutor<M: ?Sized> {
	manifests: Arc<M>,
	fetcher: Fetcher,
	concurrency: usize,
}

impl<M: ManifestSource + ?Sized + 'static> VerifySnapshotExecutor<M> {
	/// An executor reading manifests from `manifests`, fetching 8 contributions at once.
	pub fn new(manifests: Arc<M>) -> Self {
		Self { manifests, fetcher: Fetcher::new(), concurrency: DEFAULT_CONCURRENCY }
	}

	/// Fetches through `fetcher` (its HTTP settings; the size limit is set per contribution).
	pub fn with_fetcher(mut self, fetcher: Fetcher) -> Self {
		self.fetcher = fetcher;
		self
	}

	/// Fetches at most `concurrency` contributions at once (at least 1).
	pub fn with_concurrency(mut self, concurrency: usize) -> Self {
		self.concurrency = concurrency.max(1);
		self
	}

	/// Fetches every entry, at most `concurrency` at once; outcomes in entry order.
	async fn fetch_all(&self, manifest: &SnapshotManifest) -> Vec<FetchOutcome> {
		fetch_contents(&self.fetcher, self.concurrency, manifest)
			.await
			.iter()
			.map(FetchOutcome::of)
			.collect()
	}
}

/// Fetches the bytes of every entry of `manifest` through `fetcher`, each checked against its
/// registered hash, at most `concurrency` at once; results in entry order.
pub async fn fetch_contents(
	fetcher: &Fetcher,
	concurrency: usize,
	manifest: &SnapshotManifest,
) -> Vec<Result<Vec<u8>, FetchError>> {
	let slots = Arc::new(Semaphore::new(concurrency.max(1)));
	let mut tasks = JoinSet::new();
	for (i, entry) in manifest.entries.iter().enumerate() {
		// Longer than the registered size is wrong anyway, so little more is read; the floor
		// leaves room for an error reply (a 404 page) to be read as what it is, a missing
		// object, rather than as oversized content.
		let fetcher = fetcher.clone().with_max_bytes(entry.size.max(ERROR_BODY_ROOM));
		let (locator, hash) = (entry.locator.clone(), entry.content_hash);
		let slots = slots.clone();
		tasks.spawn(async move {
			let _slot = slots.acquire_owned().await;
			(i, fetcher.fetch(&locator, hash).await)
		});
	}
	let mut results: Vec<Result<Vec<u8>, FetchError>> = manifest
		.entries
		.iter()
		.map(|e| {
			Err(FetchError::InvalidLocator {
				locator: e.locator.clone(),
				reason: "the fetch did not finish",
			})
		})
		.collect();
	while let Some(done) = tasks.join_next().await {
		// A fetch task that panicked leaves its entry missing.
		if let Ok((i, result)) = done {
			if let Some(slot) = results.get_mut(i) {
				*slot = result;
			}
		}
	}
	results
}

#[async_trait]
impl<M: ManifestSource + ?Sized + 'static> Executor for VerifySnapshotExecutor<M> {
	fn kind(&self) -> JobKind {
		JobKind::VerifySnapshot
	}

	async fn execute(&self, job: &AssignedJob) -> Result<JobOutput, JobError> {
		let spec = VerifySnapshotSpec::decode_all(&mut job.spec.as_slice())
			.map_err(|e| JobError::InvalidSpec(format!("not a VerifySnapshotSpec: {e}")))?;
		let manifest = self.manifests.manifest(spec.snapshot).await.map_err(|e| {
			JobError::Inputs(format!("manifest of snapshot {}: {e}", spec.snapshot))
		})?;
		let fetched = self.fetch_all(&manifest).await;
		Ok(JobOutput::new(verify(&manifest, &fetched).encode()))
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::chain::types::ManifestEntry;
	use std::collections::HashMap;

	fn from_hex(text: &str) -> [u8; 32] {
		let mut out = [0u8; 32];
		hex::decode_to_slice(text.trim_start_matches("0x"), &mut out).unwrap();
		out
	}

	// Leaves (id, content hash filled with one byte, size); roots of the first n computed
	// independently from merkle.rs's definition (JavaScript, @polkadot/util-crypto's blake2).
	const LEAVES: [(u64, u8, u64); 5] =
		[(0, 0x11, 5), (7, 0x22, 100), (3, 0x33, 1), (42, 0x44, 65536), (9, 0x55, 0)];
	const ROOTS: [&str; 5] = [
		"0x93afff9f5c92ff2f7faa61142170bbe7e67e8e685f2c29db6d7b951ec57d482f",
		"0xb5f2957c81d54fe71b2e67d401f44c72fab466147c9d923ade89dd27ef758930",
		"0x406088d35d6fcfa1e80bff812641442df51abc0dd97059079e69fec62f3f3880",
		"0xcd31e358a7386717d6a89c2b7b4c2af9cbe4829c8dfafd1a1b1c02b98b493c85",
		"0x9772e8193d1b1339bb1817b3eeb328594105e70f4f85516cc639b43afdd745c7",
	];

	fn leaves() -> Vec<[u8; 32]> {
		LEAVES.iter().map(|&(id, fill, size)| leaf_hash(id, &[fill; 32], size)).collect()
	}

	#[test]
	fn merkle_roots_match_independent_vectors() {
		let leaves = leaves();
		for (n, root) in ROOTS.iter().enumerate() {
			assert_eq!(merkle_root(&leaves[..=n]), Some(from_hex(root)), "{} leaves", n + 1);
		}
		assert_eq!(merkle_root(&[]), None);
	}

	#[test]
	fn odd_last_node_is_promoted_not_duplicated() {
		let l = leaves();
		let three = node_hash(&node_hash(&l[0], &l[1]), &l[2]);
		assert_eq!(merkle_root(&l[..3]), Some(three));
		let five = node_hash(&node_hash(&node_hash(&l[0], &l[1]), &node_hash(&l[2], &l[3])), &l[4]);
		assert_eq!(merkle_root(&l), Some(five));
	}

	fn entry(id: u64, bytes: &[u8], locator: String) -> ManifestEntry {
		ManifestEntry { id, content_hash: blake2_256(bytes), size: bytes.len() as u64, locator }
	}

	fn manifest_of(entries: Vec<ManifestEntry>) -> SnapshotManifest {
		let leaves: Vec<[u8; 32]> =
			entries.iter().map(|e| leaf_hash(e.id, &e.content_hash, e.size)).collect();
		SnapshotManifest {
			snapshot: 4,
			datanet: 1,
			root: merkle_root(&leaves).unwrap(),
			count: entries.len() as u32,
			total_bytes: entries.iter().map(|e| e.size).sum(),
			entries,
		}
	}

	#[test]
	fn reports_missing_and_corrupt_contributions_sorted() {
		let manifest = manifest_of(vec![
			entry(30, b"c", String::new()),
			entry(10, b"a", String::new()),
			entry(20, b"bb", String::new()),
			entry(5, b"dd", String::new()),
		]);
		let report = verify(
			&manifest,
			&[
				FetchOutcome::Missing,
				FetchOutcome::Verified(1),
				// Right hash, wrong size: the chain's record is wrong.
				FetchOutcome::Verified(3),
				FetchOutcome::Corrupt,
			],
		);
		assert_eq!(
			report,
			VerificationReport {
				snapshot: 4,
				root_matches: true,
				count: 4,
				total_bytes: 6,
				missing: vec![30],
				corrupt: vec![5, 20],
			}
		);
	}

	#[test]
	fn a_wrong_root_or_count_does_not_match() {
		let mut manifest =
			manifest_of(vec![entry(1, b"a", String::new()), entry(2, b"b", String::new())]);
		let all = [FetchOutcome::Verified(1), FetchOutcome::Verified(1)];
		assert!(verify(&manifest, &all).root_matches);
		manifest.count = 3;
		assert!(!verify(&manifest, &all).root_matches);
		manifest.count = 2;
		manifest.root[0] ^= 1;
		assert!(!verify(&manifest, &all).root_matches);
		// Fewer outcomes than entries: the rest are missing.
		assert_eq!(verify(&manifest, &all[..1]).missing, vec![2]);
		let empty = SnapshotManifest { entries: vec![], count: 0, ..manifest };
		assert!(!verify(&empty, &[]).root_matches);
	}

	#[test]
	fn the_report_encodes_in_field_order() {
		let report = VerificationReport {
			snapshot: 2,
			root_matches: true,
			count: 3,
			total_bytes: 4,
			missing: vec![5],
			corrupt: vec![],
		};
		let mut expected = vec![2, 0, 0, 0, 1, 3, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 4];
		expected.extend([5, 0, 0, 0, 0, 0, 0, 0, 0]);
		assert_eq!(report.encode(), expected);
		assert_eq!(VerificationReport::decode(&mut expected.as_slice()).unwrap(), report);
	}

	struct Manifests(HashMap<u32, SnapshotManifest>);

	#[async_trait]
	impl ManifestSource for Manifests {
		async fn manifest(
			&self,
			snapshot: u32,
		) -> Result<SnapshotManifest, Box<dyn std::error::Error + Send + Sync>> {
			self.0.get(&snapshot).cloned().ok_or_else(|| "no such snapshot".into())
		}
	}

	fn job(spec: Vec<u8>) -> AssignedJob {
		AssignedJob { id: 1, kind: JobKind::VerifySnapshot, spec, round: 0, deadline: 100 }
	}

	/// Real fetches from files: one good, one missing, one altered, one longer than registered.
	#[tokio::test]
	async fn the_executor_fetches_and_verifies() {
		let dir = tempfile::tempdir().unwrap();
		let locator = |name: &str| format!("file://{}", dir.path().join(name).display());
		std::fs::write(dir.path().join("good"), b"good bytes").unwrap();
		std::fs::write(dir.path().join("altered"), b"altered!").unwrap();
		std::fs::write(dir.path().join("long"), b"longer than registered").unwrap();
		let mut long = entry(4, b"longer than registered", locator("long"));
		long.size = 6;
		let manifest = manifest_of(vec![
			entry(1, b"good bytes", locator("good")),
			entry(2, b"gone", locator("gone")),
			entry(3, b"original", locator("altered")),
			long,
			entry(5, b"x", "ipfs://unsupported".into()),
		]);
		let executor =
			VerifySnapshotExecutor::new(Arc::new(Manifests(HashMap::from([(4, manifest)]))))
				.with_concurrency(2);

		let out =
			executor.execute(&job(VerifySnapshotSpec { snapshot: 4 }.encode())).await.unwrap();
		assert_eq!(out.payload_hash, blake2_256(&out.payload));
		let report = VerificationReport::decode(&mut out.payload.as_slice()).unwrap();
		assert!(report.root_matches);
		assert_eq!(report.count, 5);
		assert_eq!(report.missing, vec![2, 5]);
		assert_eq!(report.corrupt, vec![3, 4]);

		// The same job gives the same bytes.
		let again =
			executor.execute(&job(VerifySnapshotSpec { snapshot: 4 }.encode())).await.unwrap();
		assert_eq!(again, out);
	}

	/// A server's 404 page longer than the registered size is a missing object, not content.
	#[tokio::test]
	async fn a_long_not_found_reply_counts_as_missing() {
		use tokio::io::{AsyncReadExt, AsyncWriteExt};
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let addr = listener.local_addr().unwrap();
		tokio::spawn(async move {
			while let Ok((mut socket, _)) = listener.accept().await {
				let mut request = [0u8; 1024];
				let _ = socket.read(&mut request).await;
				let body = "no object with this hash is stored here, sorry".repeat(4);
				let reply = format!(
					"HTTP/1.1 404 Not Found\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
					body.len()
				);
				let _ = socket.write_all(reply.as_bytes()).await;
			}
		});
		let manifest = manifest_of(vec![entry(7, b"tiny", format!("http://{addr}/content/x"))]);
		let executor =
			VerifySnapshotExecutor::new(Arc::new(Manifests(HashMap::from([(4, manifest)]))));
		let out =
			executor.execute(&job(VerifySnapshotSpec { snapshot: 4 }.encode())).await.unwrap();
		let report = VerificationReport::decode(&mut out.payload.as_slice()).unwrap();
		assert_eq!((report.missing, report.corrupt), (vec![7], vec![]));
	}

	#[tokio::test]
	async fn the_executor_refuses_bad_specs_and_reports_unreadable_inputs() {
		let executor = VerifySnapshotExecutor::new(Arc::new(Manifests(HashMap::new())));
		let bad = executor.execute(&job(vec![1, 2])).await.unwrap_err();
		assert!(matches!(bad, JobError::InvalidSpec(_)) && !bad.is_retryable(), "{bad}");
		let trailing = executor.execute(&job(vec![1, 0, 0, 0, 9])).await.unwrap_err();
		assert!(matches!(trailing, JobError::InvalidSpec(_)), "{trailing}");
		let unknown =
			executor.execute(&job(VerifySnapshotSpec { snapshot: 8 }.encode())).await.unwrap_err();
		assert!(matches!(unknown, JobError::Inputs(_)) && unknown.is_retryable(), "{unknown}");
	}
}
