//! The content hash: blake2-256 of the bytes, written `0x` + 64 lowercase hex digits.

use std::{fmt, str::FromStr};

/// blake2-256 of some bytes: the name of those bytes in the store and on-chain.
///
/// Computed with `sp_crypto_hashing::blake2_256`, the function the runtime uses, so a hash from
/// here equals the `H256` that pallet-datanets stores for the same contribution.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash(pub [u8; 32]);

impl ContentHash {
	/// Hashes `bytes`.
	pub fn of(bytes: &[u8]) -> Self {
		Self(sp_crypto_hashing::blake2_256(bytes))
	}

	/// The 32 raw bytes.
	pub fn as_bytes(&self) -> &[u8; 32] {
		&self.0
	}

	/// The 64 lowercase hex digits, without the `0x` prefix (the on-disk file name).
	pub fn to_hex(&self) -> String {
		hex::encode(self.0)
	}

	/// `Ok` if `bytes` hash to `self`, otherwise the hash they do have.
	pub fn verify(&self, bytes: &[u8]) -> Result<(), ContentHash> {
		let actual = Self::of(bytes);
		if actual == *self {
			Ok(())
		} else {
			Err(actual)
		}
	}
}

impl From<[u8; 32]> for ContentHash {
	fn from(bytes: [u8; 32]) -> Self {
		Self(bytes)
	}
}

impl From<ContentHash> for [u8; 32] {
	fn from(hash: ContentHash) -> Self {
		hash.0
	}
}

impl fmt::Display for ContentHash {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "0x{}", self.to_hex())
	}
}

impl fmt::Debug for ContentHash {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		fmt::Display::fmt(self, f)
	}
}

/// Why a string is not a content hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseHashError {
	/// The `0x` prefix is required, as in Polkadot.js and the chain's JSON-RPC.
	#[error("a content hash starts with 0x")]
	MissingPrefix,
	/// Not 64 hex digits after the prefix.
	#[error("a content hash has 64 hex digits after 0x, found {0} characters")]
	WrongLength(usize),
	/// A character that is not a hex digit.
	#[error("a content hash has only hex digits after 0x")]
	NotHex,
}

impl FromStr for ContentHash {
	type Err = ParseHashError;

	/// Parses `0x` + 64 hex digits; upper case is accepted, the display form is lower case.
	fn from_str(s: &str) -> Result<Self, Self::Err> {
		let digits = s
			.strip_prefix("0x")
			.or_else(|| s.strip_prefix("0X"))
			.ok_or(ParseHashError::MissingPrefix)?;
		if digits.len() != 64 {
			return Err(ParseHashError::WrongLength(digits.len()));
		}
		let mut out = [0u8; 32];
		hex::decode_to_slice(digits, &mut out).map_err(|_| ParseHashError::NotHex)?;
		Ok(Self(out))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	// blake2b with a 32-byte digest of the empty input: the reference value every blake2-256
	// implementation (and the chain's `BlakeTwo256`) agrees on.
	const EMPTY: &str = "0x0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8";

	#[test]
	fn hashes_like_the_chain() {
		assert_eq!(ContentHash::of(b"").to_string(), EMPTY);
	}

	#[test]
	fn round_trips_through_text() {
		let h = ContentHash::of(b"wallet risk note");
		let parsed: ContentHash = h.to_string().parse().unwrap();
		assert_eq!(parsed, h);
		let upper = format!("0x{}", h.to_hex().to_uppercase());
		assert_eq!(upper.parse::<ContentHash>().unwrap(), h);
	}

	#[test]
	fn rejects_malformed_text() {
		assert_eq!(EMPTY[2..].parse::<ContentHash>(), Err(ParseHashError::MissingPrefix));
		assert_eq!("0xabc".parse::<ContentHash>(), Err(ParseHashError::WrongLength(3)));
		let bad = format!("0x{}", "g".repeat(64));
		assert_eq!(bad.parse::<ContentHash>(), Err(ParseHashError::NotHex));
	}

	#[test]
	fn verify_reports_the_actual_hash() {
		let h = ContentHash::of(b"a");
		assert_eq!(h.verify(b"a"), Ok(()));
		assert_eq!(h.verify(b"b"), Err(ContentHash::of(b"b")));
	}
}
