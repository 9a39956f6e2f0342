//! The on-disk store.
//!
//! Layout under the root directory:
//!
//! ```text
//! objects/<first two hex digits>/<64 hex digits>   one file per object, named by its hash
//! tmp/                                             uploads being written
//! ```
//!
//! A write goes to a fresh file in `tmp/`, is flushed to disk, then renamed into `objects/`, so an
//! object file is either absent or complete: a crash never leaves half an object under its name.
//! Every read hashes the file again, so bit rot or a hand-edited file is reported, not served.
//! Calls block on file IO; async callers run them on a blocking thread.

use super::hash::ContentHash;
use std::{
	fs,
	io::{self, Read},
	path::{Path, PathBuf},
};

/// What a successful [`DiskStore::put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
	/// The object was written.
	Created,
	/// A verified copy was already stored; nothing was written.
	AlreadyPresent,
}

/// Why a store operation failed. Failed writes leave the store unchanged.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
	/// The bytes do not hash to the hash they were stored under.
	#[error("hash mismatch: expected {expected}, the bytes hash to {actual}")]
	HashMismatch {
		/// The hash the caller claimed.
		expected: ContentHash,
		/// The hash of the bytes received.
		actual: ContentHash,
	},
	/// The object is larger than the store's limit.
	#[error("object of {size} bytes exceeds the limit of {limit} bytes")]
	TooLarge {
		/// Size of the object (for streamed uploads: at least this many bytes).
		size: u64,
		/// The store's limit.
		limit: u64,
	},
	/// No object with this hash is stored.
	#[error("content {0} not found")]
	NotFound(ContentHash),
	/// The stored file no longer hashes to its name; it is not served.
	#[error("stored content {hash} is corrupted: the file hashes to {actual}")]
	Corrupted {
		/// The object's name.
		hash: ContentHash,
		/// What the file on disk hashes to now.
		actual: ContentHash,
	},
	/// The filesystem failed.
	#[error("store I/O error at {}: {source}", path.display())]
	Io {
		/// The file or directory involved.
		path: PathBuf,
		/// The underlying error.
		#[source]
		source: io::Error,
	},
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
	move |source| StoreError::Io { path: path.to_path_buf(), source }
}

/// A content-addressed object store in a directory.
///
/// Safe to share between threads: writers never modify a file in place, and two writers of the
/// same object race only on an atomic rename of identical bytes.
#[derive(Debug, Clone)]
pub struct DiskStore {
	objects: PathBuf,
	tmp: PathBuf,
	max_bytes: u64,
}

impl DiskStore {
	/// Opens (creating if needed) the store rooted at `root`, accepting objects of at most
	/// `max_bytes` bytes.
	pub fn open(root: impl AsRef<Path>, max_bytes: u64) -> Result<Self, StoreError> {
		let root = root.as_ref();
		let objects = root.join("objects");
		let tmp = root.join("tmp");
		fs::create_dir_all(&objects).map_err(io_err(&objects))?;
		fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
		Ok(Self { objects, tmp, max_bytes })
	}

	/// The largest object this store accepts, in bytes.
	pub fn max_bytes(&self) -> u64 {
		self.max_bytes
	}

	/// Where the object named `hash` lives (whether or not it exists).
	pub fn object_path(&self, hash: &ContentHash) -> PathBuf {
		let hex = hash.to_hex();
		// Two hex digits give 256 shard directories: enough to keep directories small for
		// millions of objects without a deep tree.
		self.objects.join(hex.get(..2).unwrap_or("00")).join(hex)
	}

	/// Refuses sizes over the limit.
	pub fn check_size(&self, size: u64) -> Result<(), StoreError> {
		if size > self.max_bytes {
			Err(StoreError::TooLarge { size, limit: self.max_bytes })
		} else {
			Ok(())
		}
	}

	/// Stores `bytes` under `expected`, which they must hash to.
	///
	/// Idempotent: storing an object that is already present (and intact) writes nothing and
	/// returns [`PutOutcome::AlreadyPresent`]. A present but corrupted copy is replaced.
	pub fn put(&self, expected: &ContentHash, bytes: &[u8]) -> Result<PutOutcome, StoreError> {
		self.check_size(bytes.len() as u64)?;
		expected
			.verify(bytes)
			.map_err(|actual| StoreError::HashMismatch { expected: *expected, actual })?;

		let path = self.object_path(expected);
		let repairing = match self.get(expected) {
			Ok(_) => return Ok(PutOutcome::AlreadyPresent),
			Err(StoreError::NotFound(_)) => false,
			Err(StoreError::Corrupted { .. }) => true,
			Err(e) => return Err(e),
		};
		let shard = path.parent().unwrap_or(&self.objects);
		fs::create_dir_all(shard).map_err(io_err(shard))?;

		let mut file = tempfile::NamedTempFile::new_in(&self.tmp).map_err(io_err(&self.tmp))?;
		io::Write::write_all(&mut file, bytes).map_err(io_err(file.path()))?;
		// Flush before the rename: otherwise a crash could leave the final name pointing at
		// a file whose data never reached the disk.
		file.as_file().sync_all().map_err(io_err(file.path()))?;
		if repairing {
			file.persist(&path)
				.map_err(|e| StoreError::Io { path: path.clone(), source: e.error })?;
		} else {
			match file.persist_noclobber(&path) {
				Ok(_) => {}
				// A concurrent writer stored the same verified bytes first; its copy is as good
				// as ours (our temp file is removed when `e.file` drops).
				Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {
					return Ok(PutOutcome::AlreadyPresent)
				}
				Err(e) => return Err(StoreError::Io { path: path.clone(), source: e.error }),
			}
		}
		sync_dir(shard)?;
		Ok(PutOutcome::Created)
	}

	/// Hashes `bytes` and stores them under that hash.
	pub fn insert(&self, bytes: &[u8]) -> Result<(ContentHash, PutOutcome), StoreError> {
		self.check_size(bytes.len() as u64)?;
		let hash = ContentHash::of(bytes);
		self.put(&hash, bytes).map(|outcome| (hash, outcome))
	}

	/// Reads the object named `hash`, verifying that it still hashes to its name.
	pub fn get(&self, hash: &ContentHash) -> Result<Vec<u8>, StoreError> {
		let path = self.object_path(hash);
		let mut file = match fs::File::open(&path) {
			Ok(f) => f,
			Err(e) if e.kind() == io::ErrorKind::NotFound => {
				return Err(StoreError::NotFound(*hash))
			}
			Err(e) => return Err(StoreError::Io { path, source: e }),
		};
		let mut bytes = Vec::new();
		file.read_to_end(&mut bytes).map_err(io_err(&path))?;
		hash.verify(&bytes).map_err(|actual| StoreError::Corrupted { hash: *hash, actual })?;
		Ok(bytes)
	}
}

/// Makes a rename in `dir` durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
	fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir))
}

/// Directories cannot be opened as files here; the rename is as durable as the platform makes it.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), StoreError> {
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn store(limit: u64) -> (tempfile::TempDir, DiskStore) {
		let dir = tempfile::tempdir().unwrap();
		let store = DiskStore::open(dir.path(), limit).unwrap();
		(dir, store)
	}

	#[test]
	fn stores_and_reads_back_under_a_sharded_path() {
		let (_dir, store) = store(1024);
		let (hash, outcome) = store.insert(b"mixer-funded wallet").unwrap();
		assert_eq!(outcome, PutOutcome::Created);
		assert_eq!(store.get(&hash).unwrap(), b"mixer-funded wallet");
		let path = store.object_path(&hash);
		let hex = hash.to_hex();
		assert!(path.ends_with(format!("{}/{}", &hex[..2], hex)));
		assert!(path.is_file());
	}

	#[test]
	fn second_put_is_already_present() {
		let (_dir, store) = store(1024);
		let hash = ContentHash::of(b"x");
		assert_eq!(store.put(&hash, b"x").unwrap(), PutOutcome::Created);
		assert_eq!(store.put(&hash, b"x").unwrap(), PutOutcome::AlreadyPresent);
	}

	#[test]
	fn refuses_bytes_that_do_not_match_and_writes_nothing() {
		let (_dir, store) = store(1024);
		let claimed = ContentHash::of(b"expected");
		match store.put(&claimed, b"something else") {
			Err(StoreError::HashMismatch { expected, actual }) => {
				assert_eq!(expected, claimed);
				assert_eq!(actual, ContentHash::of(b"something else"));
			}
			other => panic!("expected HashMismatch, got {other:?}"),
		}
		assert!(matches!(store.get(&claimed), Err(StoreError::NotFound(_))));
		assert!(!store.object_path(&claimed).exists());
	}

	#[test]
	fn refuses_objects_over_the_limit() {
		let (_dir, store) = store(4);
		assert!(store.insert(b"1234").is_ok());
		match store.insert(b"12345") {
			Err(StoreError::TooLarge { size: 5, limit: 4 }) => {}
			other => panic!("expected TooLarge, got {other:?}"),
		}
	}

	#[test]
	fn detects_corruption_and_repairs_on_put() {
		let (_dir, store) = store(1024);
		let (hash, _) = store.insert(b"approval phishing").unwrap();
		fs::write(store.object_path(&hash), b"approval phishinG").unwrap();
		match store.get(&hash) {
			Err(StoreError::Corrupted { hash: h, actual }) => {
				assert_eq!(h, hash);
				assert_eq!(actual, ContentHash::of(b"approval phishinG"));
			}
			other => panic!("expected Corrupted, got {other:?}"),
		}
		// Uploading the real bytes again replaces the damaged copy.
		assert_eq!(store.put(&hash, b"approval phishing").unwrap(), PutOutcome::Created);
		assert_eq!(store.get(&hash).unwrap(), b"approval phishing");
	}

	#[test]
	fn leaves_no_temporary_files_behind() {
		let (dir, store) = store(1024);
		store.insert(b"a").unwrap();
		store.insert(b"a").unwrap();
		let _ = store.put(&ContentHash::of(b"b"), b"c");
		assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
	}
}
