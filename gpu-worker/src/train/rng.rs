//! A small seeded random stream (SplitMix64) for adapter initialization, dropout masks and data
//! order. Its output depends only on the seed, on every platform and backend, which is what
//! byte-identical adapters across replicated workers need.

/// SplitMix64: a 64-bit state advanced by a constant and mixed.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
	state: u64,
}

impl SplitMix64 {
	/// A stream starting from `seed`.
	pub fn new(seed: u64) -> Self {
		Self { state: seed }
	}

	/// A stream for a sub-task, so that its draws do not depend on how many other sub-tasks drew.
	pub fn derive(seed: u64, parts: &[u64]) -> Self {
		let mut s = Self::new(seed);
		for p in parts {
			s.state ^= p.wrapping_mul(0x9E37_79B9_7F4A_7C15);
			s.next_u64();
		}
		s
	}

	/// The next 64 random bits.
	pub fn next_u64(&mut self) -> u64 {
		self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.state;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}

	/// Uniform in `[0, 1)` with 24 bits of precision.
	pub fn unit(&mut self) -> f32 {
		(self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
	}

	/// Uniform in `[low, high)`.
	pub fn uniform(&mut self, low: f32, high: f32) -> f32 {
		low + (high - low) * self.unit()
	}

	/// A uniform index below `n` (`0` when `n` is 0).
	pub fn below(&mut self, n: usize) -> usize {
		match n {
			0 => 0,
			n => (self.next_u64() % n as u64) as usize,
		}
	}

	/// Shuffles `items` in place (Fisher-Yates).
	pub fn shuffle<T>(&mut self, items: &mut [T]) {
		for i in (1..items.len()).rev() {
			let j = self.below(i + 1);
			items.swap(i, j);
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn streams_are_reproducible_and_seed_dependent() {
		let a: Vec<u64> = (0..4)
			.map({
				let mut r = SplitMix64::new(7);
				move |_| r.next_u64()
			})
			.collect();
		let b: Vec<u64> = (0..4)
			.map({
				let mut r = SplitMix64::new(7);
				move |_| r.next_u64()
			})
			.collect();
		assert_eq!(a, b);
		assert_ne!(SplitMix64::new(8).next_u64(), a[0]);
		assert_ne!(SplitMix64::derive(7, &[1]).next_u64(), SplitMix64::derive(7, &[2]).next_u64());
		let mut r = SplitMix64::new(1);
		assert!((0..1000).map(|_| r.unit()).all(|u| (0.0..1.0).contains(&u)));
		let mut v: Vec<u32> = (0..50).collect();
		r.shuffle(&mut v);
		let mut sorted = v.clone();
		sorted.sort();
		assert_eq!(sorted, (0..50).collect::<Vec<_>>());
		assert_ne!(v, sorted);
	}
}
