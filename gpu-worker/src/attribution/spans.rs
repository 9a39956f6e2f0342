//! Verbatim spans (infini-gram style): which contributions contain long, rare stretches of an
//! answer's tokens.
//!
//! [`SpanIndex::build`] concatenates the snapshot's contributions (token ids, each document
//! followed by [`SEPARATOR`]) and sorts every suffix of that text into a suffix array. For an
//! answer, [`SpanIndex::spans`] computes, for every answer position, the longest match starting
//! there (binary search over the suffix array, narrowing the range one token at a time), keeps
//! the maximal ones (a span is dropped when a span starting earlier ends at or after its end) of
//! at least [`SpanParams::min_len`] tokens, and reads the contributions containing each span off
//! its suffix-array range.
//!
//! [`SpanIndex::scores`] turns spans into per-contribution scores. With `N` the number of
//! distinct contributions in the index and `df` the number of distinct contributions containing
//! a span of `len` tokens, the span is worth
//!
//! ```text
//! score(span) = len² · ln(1 + N / df)
//! ```
//!
//! split equally among its `df` contributions; a contribution's score is the sum over spans.
//! Long spans dominate (quadratically) and rare ones more than common ones (inverse document
//! frequency). A span found more than [`SpanParams::max_occurrences`] times is *common*: its
//! occurrences are not enumerated and it credits nobody (split that many ways it would be noise,
//! and enumerating it would make a query cost grow with the snapshot).
//!
//! The suffix array is built here by prefix doubling with a counting sort per round
//! (`O(n log L)` for `L` the longest repeated stretch, at most `O(n log n)`). Suffix-array
//! crates such as `suffix` work on bytes and `str`, not on `u32` token ids, and re-encoding
//! tokens as bytes would let matches start or end inside a token; the construction is short
//! enough to own.
//!
//! Token id [`SEPARATOR`] (`u32::MAX`, far above any vocabulary) is reserved: in a contribution
//! it splits the document, in an answer it matches nothing. Matches therefore never cross a
//! document boundary.
//!
//! The index serializes for the content store with [`SpanIndex::to_bytes`] and
//! [`SpanIndex::from_bytes`] (format described on [`SpanIndex::to_bytes`]).

use super::ContributionId;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// The reserved token id that ends every document in the concatenated text.
pub const SEPARATOR: u32 = u32::MAX;

/// What a serialized index starts with.
pub const MAGIC: [u8; 8] = *b"OLSPANIX";

/// The serialization format's version.
pub const VERSION: u32 = 1;

/// Knobs of a span query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanParams {
	/// Shortest span that counts, in tokens (default 4).
	pub min_len: usize,
	/// A span found more often than this is common and credits nobody (default 64).
	pub max_occurrences: usize,
}

impl Default for SpanParams {
	fn default() -> Self {
		Self { min_len: 4, max_occurrences: 64 }
	}
}

/// A maximal span of an answer found in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
	/// Its first token's position in the answer.
	pub start: usize,
	/// Its length in tokens.
	pub len: usize,
	/// How many times it occurs in the index.
	pub occurrences: usize,
	/// The distinct contributions containing it, ascending; empty when it is common (more than
	/// [`SpanParams::max_occurrences`] occurrences).
	pub contributions: Vec<ContributionId>,
}

/// Why serialized bytes are not a span index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpanIndexError {
	/// The bytes do not start with [`MAGIC`].
	#[error("not a span index (bad magic)")]
	BadMagic,
	/// A format version this code does not read.
	#[error("unsupported span index version {0}")]
	UnsupportedVersion(u32),
	/// The bytes end before the index does.
	#[error("span index truncated")]
	Truncated,
	/// Bytes left over after the index.
	#[error("{0} trailing bytes after the span index")]
	TrailingBytes(usize),
	/// A length that does not fit this machine or the format.
	#[error("span index too large")]
	TooLarge,
	/// Inconsistent contents.
	#[error("malformed span index: {0}")]
	Malformed(&'static str),
}

/// A suffix array over the concatenated tokens of a snapshot's contributions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanIndex {
	/// Every document's tokens, each followed by [`SEPARATOR`].
	text: Vec<u32>,
	/// The positions of `text` in the lexicographic order of their suffixes (the end of the text
	/// sorts before every token).
	sa: Vec<u32>,
	/// Where each document starts in `text` (ascending).
	starts: Vec<u32>,
	/// Each document's contribution.
	ids: Vec<ContributionId>,
	/// How many distinct contributions there are.
	contributions: usize,
}

impl SpanIndex {
	/// Indexes `docs`. A contribution may appear in several documents; a [`SEPARATOR`] token
	/// inside a document splits it in two.
	///
	/// # Panics
	///
	/// When the documents hold `u32::MAX - 1` tokens or more in all (16 GiB of token ids).
	pub fn build(docs: &[(ContributionId, Vec<u32>)]) -> SpanIndex {
		let total: usize = docs.iter().map(|(_, d)| d.len().saturating_add(1)).sum();
		assert!(total < u32::MAX as usize, "span index: too many tokens");
		let mut text = Vec::with_capacity(total);
		let mut starts = Vec::with_capacity(docs.len());
		let mut ids = Vec::with_capacity(docs.len());
		for (id, tokens) in docs {
			for piece in tokens.split(|t| *t == SEPARATOR) {
				starts.push(text.len() as u32);
				ids.push(*id);
				text.extend_from_slice(piece);
				text.push(SEPARATOR);
			}
		}
		let sa = suffix_array(&text);
		let contributions = distinct(&ids);
		SpanIndex { text, sa, starts, ids, contributions }
	}

	/// How many distinct contributions are indexed (`N` of the score).
	pub fn contributions(&self) -> usize {
		self.contributions
	}

	/// How many tokens are indexed, separators included.
	pub fn len(&self) -> usize {
		self.text.len()
	}

	/// Whether no token is indexed.
	pub fn is_empty(&self) -> bool {
		self.text.is_empty()
	}

	/// The token `depth` after suffix `sa[j]`'s start, `None` past the end of the text.
	fn token_at(&self, j: usize, depth: usize) -> Option<u32> {
		let start = *self.sa.get(j)? as usize;
		self.text.get(start.checked_add(depth)?).copied()
	}

	/// Narrows the suffix-array range `lo..hi`, whose suffixes share their first `depth` tokens,
	/// to those whose next token is `token`.
	fn narrow(&self, lo: usize, hi: usize, depth: usize, token: u32) -> (usize, usize) {
		let (mut a, mut b) = (lo, hi);
		// First j with token_at(j) >= token.
		while a < b {
			let mid = a + (b - a) / 2;
			if self.token_at(mid, depth) < Some(token) {
				a = mid + 1;
			} else {
				b = mid;
			}
		}
		let first = a;
		let mut b = hi;
		// First j with token_at(j) > token.
		while a < b {
			let mid = a + (b - a) / 2;
			if self.token_at(mid, depth) <= Some(token) {
				a = mid + 1;
			} else {
				b = mid;
			}
		}
		(first, a)
	}

	/// The longest match of `tokens` (from its start) in the index: its length and the
	/// suffix-array range of its occurrences (`0..len()` for length 0).
	fn longest_match(&self, tokens: &[u32]) -> (usize, usize, usize) {
		let (mut lo, mut hi) = (0, self.sa.len());
		let mut depth = 0;
		for &token in tokens {
			if token == SEPARATOR {
				break;
			}
			let (a, b) = self.narrow(lo, hi, depth, token);
			if a == b {
				break;
			}
			(lo, hi) = (a, b);
			depth += 1;
		}
		(depth, lo, hi)
	}

	/// For each position of `answer`, the length of the longest match in the index starting
	/// there (matching statistics).
	pub fn matching_statistics(&self, answer: &[u32]) -> Vec<usize> {
		(0..answer.len()).map(|i| self.longest_match(answer.get(i..).unwrap_or(&[])).0).collect()
	}

	/// The document containing text position `pos`.
	fn document_of(&self, pos: u32) -> Option<usize> {
		self.starts.partition_point(|s| *s <= pos).checked_sub(1)
	}

	/// The maximal spans of `answer` of at least `min_len` tokens, by start.
	pub fn spans(&self, answer: &[u32], params: &SpanParams) -> Vec<Span> {
		let min_len = params.min_len.max(1);
		let mut spans = Vec::new();
		let mut covered_to = 0usize;
		for start in 0..answer.len() {
			let (len, lo, hi) = self.longest_match(answer.get(start..).unwrap_or(&[]));
			let end = start + len;
			if end <= covered_to {
				continue;
			}
			covered_to = end;
			if len < min_len {
				continue;
			}
			let occurrences = hi - lo;
			let contributions = if occurrences > params.max_occurrences {
				Vec::new()
			} else {
				let mut ids: Vec<ContributionId> = self
					.sa
					.get(lo..hi)
					.unwrap_or(&[])
					.iter()
					.filter_map(|p| self.document_of(*p).and_then(|d| self.ids.get(d)).copied())
					.collect();
				ids.sort_unstable();
				ids.dedup();
				ids
			};
			spans.push(Span { start, len, occurrences, contributions });
		}
		spans
	}

	/// Per-contribution span scores of `answer` (see the module documentation for the formula),
	/// the highest first, ties by id; contributions scoring nothing are left out.
	pub fn scores(&self, answer: &[u32], params: &SpanParams) -> Vec<(ContributionId, f64)> {
		let n = self.contributions as f64;
		let mut totals: BTreeMap<ContributionId, f64> = BTreeMap::new();
		for span in self.spans(answer, params) {
			if span.contributions.is_empty() {
				continue;
			}
			let df = span.contributions.len() as f64;
			let len = span.len as f64;
			let share = len * len * (1.0 + n / df).ln() / df;
			for id in span.contributions {
				*totals.entry(id).or_insert(0.0) += share;
			}
		}
		let mut scores: Vec<(ContributionId, f64)> =
			totals.into_iter().filter(|(_, s)| *s > 0.0).collect();
		scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
		scores
	}

	/// [`SpanIndex::scores`] of several answers, in parallel (rayon).
	pub fn scores_batch(
		&self,
		answers: &[&[u32]],
		params: &SpanParams,
	) -> Vec<Vec<(ContributionId, f64)>> {
		answers.par_iter().map(|a| self.scores(a, params)).collect()
	}

	/// Serializes the index, all integers little-endian:
	///
	/// ```text
	/// magic "OLSPANIX" | version u32 (1) | documents u64 | tokens u64 (separators included)
	/// | per document: contribution u64, length u64 (tokens before its separator)
	/// | text: tokens × u32 | suffix array: tokens × u32
	/// ```
	pub fn to_bytes(&self) -> Vec<u8> {
		let mut out =
			Vec::with_capacity(28 + self.ids.len() * 16 + self.text.len() * 4 + self.sa.len() * 4);
		out.extend_from_slice(&MAGIC);
		out.extend_from_slice(&VERSION.to_le_bytes());
		out.extend_from_slice(&(self.ids.len() as u64).to_le_bytes());
		out.extend_from_slice(&(self.text.len() as u64).to_le_bytes());
		for (d, id) in self.ids.iter().enumerate() {
			let start = self.starts.get(d).copied().unwrap_or(0) as usize;
			let end = self.starts.get(d + 1).map(|s| *s as usize).unwrap_or(self.text.len());
			let len = end.saturating_sub(start).saturating_sub(1);
			out.extend_from_slice(&id.to_le_bytes());
			out.extend_from_slice(&(len as u64).to_le_bytes());
		}
		for t in &self.text {
			out.extend_from_slice(&t.to_le_bytes());
		}
		for p in &self.sa {
			out.extend_from_slice(&p.to_le_bytes());
		}
		out
	}

	/// Reads an index written by [`SpanIndex::to_bytes`], checking that the documents tile the
	/// text exactly (a separator after each, none inside), that the suffix array is a
	/// permutation of the text's positions, and that it is sorted by first token. Never panics;
	/// the suffix array's deeper order is trusted (checking it costs a sort).
	pub fn from_bytes(bytes: &[u8]) -> Result<SpanIndex, SpanIndexError> {
		let mut r = Reader { bytes };
		if r.take(8)? != MAGIC {
			return Err(SpanIndexError::BadMagic);
		}
		let version = r.u32()?;
		if version != VERSION {
			return Err(SpanIndexError::UnsupportedVersion(version));
		}
		let documents = usize::try_from(r.u64()?).map_err(|_| SpanIndexError::TooLarge)?;
		let tokens = usize::try_from(r.u64()?).map_err(|_| SpanIndexError::TooLarge)?;
		if tokens >= u32::MAX as usize {
			return Err(SpanIndexError::TooLarge);
		}
		if documents > tokens {
			return Err(SpanIndexError::Malformed("more documents than tokens"));
		}
		// Everything that follows has a known size: check it before allocating.
		let expected = documents
			.checked_mul(16)
			.and_then(|d| tokens.checked_mul(8).and_then(|t| t.checked_add(d)))
			.ok_or(SpanIndexError::TooLarge)?;
		if r.bytes.len() < expected {
			return Err(SpanIndexError::Truncated);
		}
		if r.bytes.len() > expected {
			return Err(SpanIndexError::TrailingBytes(r.bytes.len() - expected));
		}
		let mut ids = Vec::with_capacity(documents);
		let mut starts = Vec::with_capacity(documents);
		let mut next = 0usize;
		for _ in 0..documents {
			ids.push(r.u64()?);
			let len = usize::try_from(r.u64()?).map_err(|_| SpanIndexError::TooLarge)?;
			starts.push(u32::try_from(next).map_err(|_| SpanIndexError::TooLarge)?);
			next = next
				.checked_add(len)
				.and_then(|n| n.checked_add(1))
				.ok_or(SpanIndexError::Malformed("document lengths overflow"))?;
			if next > tokens {
				return Err(SpanIndexError::Malformed("documents longer than the text"));
			}
		}
		if next != tokens {
			return Err(SpanIndexError::Malformed("documents do not cover the text"));
		}
		let mut text = Vec::with_capacity(tokens);
		for _ in 0..tokens {
			text.push(r.u32()?);
		}
		// A separator exactly at each document's end, and nowhere else.
		let separators = text.iter().filter(|t| **t == SEPARATOR).count();
		let ends_ok = starts.iter().skip(1).chain(std::iter::once(&(tokens as u32))).all(|end| {
			(*end as usize).checked_sub(1).and_then(|e| text.get(e)) == Some(&SEPARATOR)
		});
		if separators != documents || (documents > 0 && !ends_ok) {
			return Err(SpanIndexError::Malformed("separators do not end the documents"));
		}
		let mut sa = Vec::with_capacity(tokens);
		let mut seen = vec![false; tokens];
		let mut previous: Option<u32> = None;
		for _ in 0..tokens {
			let p = r.u32()?;
			let slot = seen
				.get_mut(p as usize)
				.ok_or(SpanIndexError::Malformed("suffix array entry out of range"))?;
			if *slot {
				return Err(SpanIndexError::Malformed("suffix array repeats a position"));
			}
			*slot = true;
			let first = text.get(p as usize).copied();
			if previous.is_some() && first < previous {
				return Err(SpanIndexError::Malformed("suffix array not sorted"));
			}
			previous = first;
			sa.push(p);
		}
		let contributions = distinct(&ids);
		Ok(SpanIndex { text, sa, starts, ids, contributions })
	}
}

/// How many distinct values `ids` holds.
fn distinct(ids: &[ContributionId]) -> usize {
	let mut sorted = ids.to_vec();
	sorted.sort_unstable();
	sorted.dedup();
	sorted.len()
}

/// A cursor over serialized bytes.
struct Reader<'a> {
	bytes: &'a [u8],
}

impl<'a> Reader<'a> {
	fn take(&mut self, n: usize) -> Result<&'a [u8], SpanIndexError> {
		if self.bytes.len() < n {
			return Err(SpanIndexError::Truncated);
		}
		let (head, tail) = self.bytes.split_at(n);
		self.bytes = tail;
		Ok(head)
	}

	fn u32(&mut self) -> Result<u32, SpanIndexError> {
		let mut b = [0u8; 4];
		b.copy_from_slice(self.take(4)?);
		Ok(u32::from_le_bytes(b))
	}

	fn u64(&mut self) -> Result<u64, SpanIndexError> {
		let mut b = [0u8; 8];
		b.copy_from_slice(self.take(8)?);
		Ok(u64::from_le_bytes(b))
	}
}

/// The suffix array of `text`: its positions ordered by the suffixes starting there, a suffix
/// that is a prefix of another sorting first.
///
/// Prefix doubling: after the round for `k`, `rank[i]` orders suffix `i` by its first `k`
/// tokens; the next round sorts by the pair `(rank[i], rank[i + k])` (the second missing, and
/// smallest, past the end) with one stable counting sort by the first key over the order of
/// the second, which is read off the previous round's array. It stops once all ranks differ.
/// `text.len()` must be below `u32::MAX`.
fn suffix_array(text: &[u32]) -> Vec<u32> {
	let n = text.len();
	let mut sa: Vec<u32> = (0..n as u32).collect();
	if n == 0 {
		return sa;
	}
	sa.sort_unstable_by_key(|&i| text[i as usize]);
	let mut rank = vec![0u32; n];
	let mut classes = 0u32;
	for j in 1..n {
		if text[sa[j] as usize] != text[sa[j - 1] as usize] {
			classes += 1;
		}
		rank[sa[j] as usize] = classes;
	}
	let mut classes = classes as usize + 1;
	let mut by_second = vec![0u32; n];
	let mut new_rank = vec![0u32; n];
	let mut count = vec![0u32; n + 1];
	let mut k = 1usize;
	while classes < n {
		// Positions ordered by their second key: those with none first, then by rank[i + k].
		let mut w = 0;
		for i in n.saturating_sub(k)..n {
			by_second[w] = i as u32;
			w += 1;
		}
		for &p in &sa {
			if p as usize >= k {
				by_second[w] = p - k as u32;
				w += 1;
			}
		}
		// Stable counting sort by the first key.
		count[..=classes].fill(0);
		for &p in &by_second {
			count[rank[p as usize] as usize + 1] += 1;
		}
		for c in 1..=classes {
			count[c] += count[c - 1];
		}
		for &p in &by_second {
			let slot = &mut count[rank[p as usize] as usize];
			sa[*slot as usize] = p;
			*slot += 1;
		}
		let key = |p: u32| {
			let p = p as usize;
			(rank[p], if p + k < n { rank[p + k] + 1 } else { 0 })
		};
		let mut c = 0u32;
		new_rank[sa[0] as usize] = 0;
		for j in 1..n {
			if key(sa[j]) != key(sa[j - 1]) {
				c += 1;
			}
			new_rank[sa[j] as usize] = c;
		}
		std::mem::swap(&mut rank, &mut new_rank);
		classes = c as usize + 1;
		k = k.saturating_mul(2);
	}
	sa
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
	use super::*;
	use crate::train::rng::SplitMix64;

	fn naive_sa(text: &[u32]) -> Vec<u32> {
		let mut sa: Vec<u32> = (0..text.len() as u32).collect();
		sa.sort_by(|a, b| text[*a as usize..].cmp(&text[*b as usize..]));
		sa
	}

	#[test]
	fn suffix_array_equals_naive_sort() {
		let mut rng = SplitMix64::new(42);
		for round in 0..300 {
			let n = rng.below(120);
			let alphabet = [1, 2, 3, 5, 1000][round % 5];
			let text: Vec<u32> = (0..n)
				.map(|_| match rng.below(alphabet + 1) {
					0 if round % 3 == 0 => SEPARATOR,
					v => v as u32,
				})
				.collect();
			assert_eq!(suffix_array(&text), naive_sa(&text), "text {text:?}");
		}
		// Degenerate inputs: one repeated token, a period-3 text.
		let same = vec![7u32; 200];
		assert_eq!(suffix_array(&same), naive_sa(&same));
		let periodic: Vec<u32> = (0..301).map(|i| i % 3).collect();
		assert_eq!(suffix_array(&periodic), naive_sa(&periodic));
		assert!(suffix_array(&[]).is_empty());
	}

	#[test]
	fn index_suffix_array_is_sorted_over_documents() {
		let mut rng = SplitMix64::new(3);
		let docs: Vec<(ContributionId, Vec<u32>)> = (0..20u64)
			.map(|id| (id % 7, (0..rng.below(40)).map(|_| rng.below(4) as u32).collect()))
			.collect();
		let index = SpanIndex::build(&docs);
		assert_eq!(index.sa, naive_sa(&index.text));
		assert_eq!(index.contributions(), 7);
		assert_eq!(index.len(), docs.iter().map(|(_, d)| d.len() + 1).sum::<usize>());
	}

	#[test]
	fn matching_statistics_and_no_match_crosses_documents() {
		let index = SpanIndex::build(&[(1, vec![1, 2, 3, 4]), (2, vec![5, 6, 7, 8])]);
		// 3 4 | 5 6: the match from 3 stops at the document's end.
		assert_eq!(index.matching_statistics(&[3, 4, 5, 6]), vec![2, 1, 2, 1]);
		assert_eq!(index.matching_statistics(&[1, 2, 3, 4, 9]), vec![4, 3, 2, 1, 0]);
		// The separator token matches nothing, even though it is in the text.
		assert_eq!(index.matching_statistics(&[4, SEPARATOR, 5]), vec![1, 0, 1]);
		// A separator inside a document splits it.
		let split = SpanIndex::build(&[(1, vec![1, 2, SEPARATOR, 3, 4])]);
		assert_eq!(split.matching_statistics(&[1, 2, 3, 4]), vec![2, 1, 2, 1]);
		assert_eq!(split.contributions(), 1);
		let params = SpanParams { min_len: 2, ..Default::default() };
		let spans = split.spans(&[1, 2, 3, 4], &params);
		assert_eq!(spans.len(), 2);
		assert!(spans.iter().all(|s| s.len == 2 && s.contributions == vec![1]));
		// Random documents: no reported span is longer than the longest document.
		let mut rng = SplitMix64::new(9);
		let docs: Vec<(ContributionId, Vec<u32>)> =
			(0..30u64).map(|id| (id, (0..5).map(|_| rng.below(3) as u32).collect())).collect();
		let index = SpanIndex::build(&docs);
		let answer: Vec<u32> = (0..200).map(|_| rng.below(3) as u32).collect();
		let stats = index.matching_statistics(&answer);
		assert!(stats.iter().all(|l| *l <= 5));
		assert!(stats.contains(&5));
		for (i, len) in stats.iter().enumerate() {
			let piece = &answer[i..i + len];
			assert!(docs.iter().any(|(_, d)| d.windows(*len).any(|w| w == piece)));
			if i + len < answer.len() {
				let longer = &answer[i..=i + len];
				assert!(!docs.iter().any(|(_, d)| d.windows(len + 1).any(|w| w == longer)));
			}
		}
	}

	#[test]
	fn maximal_spans_only() {
		let index = SpanIndex::build(&[(1, vec![10, 11, 12, 13, 14, 15]), (2, vec![20, 21, 22])]);
		let params = SpanParams { min_len: 3, ..Default::default() };
		let spans = index.spans(&[9, 11, 12, 13, 14, 20, 21, 22, 23], &params);
		assert_eq!(
			spans,
			vec![
				Span { start: 1, len: 4, occurrences: 1, contributions: vec![1] },
				Span { start: 5, len: 3, occurrences: 1, contributions: vec![2] },
			]
		);
	}

	#[test]
	fn rare_long_span_beats_common_short_one() {
		// Contribution 0 alone holds the long span 100..108; contributions 1..=5 all hold the
		// short span 1 2 3 4; 6..=9 hold neither.
		let mut docs: Vec<(ContributionId, Vec<u32>)> =
			vec![(0, vec![50, 100, 101, 102, 103, 104, 105, 106, 107, 51])];
		for id in 1..=5 {
			docs.push((id, vec![60 + id as u32, 1, 2, 3, 4, 70]));
		}
		for id in 6..=9 {
			docs.push((id, vec![80, 81, 82, 83, 84]));
		}
		let index = SpanIndex::build(&docs);
		let answer = [1, 2, 3, 4, 9, 100, 101, 102, 103, 104, 105, 106, 107];
		let scores = index.scores(&answer, &SpanParams::default());
		assert_eq!(scores[0].0, 0);
		assert_eq!(scores.len(), 6);
		let expected_rare = 64.0 * (1.0 + 10.0f64).ln();
		assert!((scores[0].1 - expected_rare).abs() < 1e-9);
		let expected_common = 16.0 * (1.0 + 10.0f64 / 5.0).ln() / 5.0;
		for (id, s) in &scores[1..] {
			assert!((1..=5).contains(id));
			assert!((s - expected_common).abs() < 1e-9);
		}
		// Ties are ordered by id.
		let ids: Vec<_> = scores[1..].iter().map(|(id, _)| *id).collect();
		assert_eq!(ids, vec![1, 2, 3, 4, 5]);
		// Too short: nothing.
		assert!(index.scores(&[1, 2, 3], &SpanParams::default()).is_empty());
		// Common beyond the cap: credited to nobody.
		let capped = SpanParams { max_occurrences: 4, ..Default::default() };
		let spans = index.spans(&[1, 2, 3, 4], &capped);
		assert_eq!(spans.len(), 1);
		assert_eq!(spans[0].occurrences, 5);
		assert!(spans[0].contributions.is_empty());
		assert!(index.scores(&[1, 2, 3, 4], &capped).is_empty());
	}

	#[test]
	fn empty_answer_and_empty_index() {
		let empty = SpanIndex::build(&[]);
		assert!(empty.is_empty());
		assert_eq!(empty.contributions(), 0);
		assert!(empty.scores(&[1, 2, 3, 4, 5], &SpanParams::default()).is_empty());
		assert_eq!(empty.matching_statistics(&[1, 2]), vec![0, 0]);
		let index = SpanIndex::build(&[(1, vec![1, 2, 3, 4]), (2, vec![])]);
		assert_eq!(index.contributions(), 2);
		assert!(index.scores(&[], &SpanParams::default()).is_empty());
		let batch = index.scores_batch(&[&[], &[1, 2, 3, 4], &[5]], &SpanParams::default());
		assert_eq!(batch.len(), 3);
		assert!(batch[0].is_empty() && batch[2].is_empty());
		assert_eq!(batch[1], index.scores(&[1, 2, 3, 4], &SpanParams::default()));
		assert_eq!(batch[1][0].0, 1);
		for index in [empty, index] {
			assert_eq!(SpanIndex::from_bytes(&index.to_bytes()).unwrap(), index);
		}
	}

	#[test]
	fn bytes_round_trip_and_corruption_is_rejected() {
		let mut rng = SplitMix64::new(5);
		let docs: Vec<(ContributionId, Vec<u32>)> = (0..12u64)
			.map(|id| (id * 3, (0..rng.below(30)).map(|_| rng.below(6) as u32).collect()))
			.collect();
		let index = SpanIndex::build(&docs);
		let bytes = index.to_bytes();
		let back = SpanIndex::from_bytes(&bytes).unwrap();
		assert_eq!(back, index);
		let answer: Vec<u32> = (0..50).map(|_| rng.below(6) as u32).collect();
		let params = SpanParams { min_len: 2, ..Default::default() };
		assert_eq!(back.scores(&answer, &params), index.scores(&answer, &params));

		let mut bad = bytes.clone();
		bad[0] ^= 1;
		assert_eq!(SpanIndex::from_bytes(&bad), Err(SpanIndexError::BadMagic));
		let mut bad = bytes.clone();
		bad[8] = 2;
		assert_eq!(SpanIndex::from_bytes(&bad), Err(SpanIndexError::UnsupportedVersion(2)));
		assert_eq!(
			SpanIndex::from_bytes(&bytes[..bytes.len() - 1]),
			Err(SpanIndexError::Truncated)
		);
		assert_eq!(SpanIndex::from_bytes(&bytes[..5]), Err(SpanIndexError::Truncated));
		let mut long = bytes.clone();
		long.push(0);
		assert_eq!(SpanIndex::from_bytes(&long), Err(SpanIndexError::TrailingBytes(1)));
		// A huge token count must not allocate.
		let mut bad = bytes.clone();
		bad[20..28].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
		assert_eq!(SpanIndex::from_bytes(&bad), Err(SpanIndexError::TooLarge));
		let sa_start = bytes.len() - index.len() * 4;
		// A suffix-array entry out of range, then a repeated one.
		let mut bad = bytes.clone();
		bad[sa_start..sa_start + 4].copy_from_slice(&(index.len() as u32).to_le_bytes());
		assert!(matches!(SpanIndex::from_bytes(&bad), Err(SpanIndexError::Malformed(_))));
		let mut bad = bytes.clone();
		let second = bad[sa_start + 4..sa_start + 8].to_vec();
		bad[sa_start..sa_start + 4].copy_from_slice(&second);
		assert!(matches!(SpanIndex::from_bytes(&bad), Err(SpanIndexError::Malformed(_))));
		// A document length that does not tile the text.
		let mut bad = bytes.clone();
		bad[28 + 8] ^= 1;
		assert!(matches!(SpanIndex::from_bytes(&bad), Err(SpanIndexError::Malformed(_))));
		// A separator removed from the text.
		let text_start = 28 + 16 * 12;
		let first_len = docs[0].1.len();
		let mut bad = bytes.clone();
		bad[text_start + first_len * 4..text_start + first_len * 4 + 4]
			.copy_from_slice(&0u32.to_le_bytes());
		assert!(matches!(SpanIndex::from_bytes(&bad), Err(SpanIndexError::Malformed(_))));
		// Every single-byte flip and every truncation is an error or a valid index: no panic.
		for i in 0..bytes.len() {
			let mut b = bytes.clone();
			b[i] = b[i].wrapping_add(0x55);
			let _ = SpanIndex::from_bytes(&b);
			let _ = SpanIndex::from_bytes(&bytes[..i]);
		}
	}

	#[test]
	fn builds_a_million_tokens_quickly() {
		// Text with long repeats (shared filler), the slow case for prefix doubling.
		let mut rng = SplitMix64::new(11);
		let filler: Vec<u32> = (0..2000).map(|_| rng.below(5000) as u32).collect();
		let docs: Vec<(ContributionId, Vec<u32>)> = (0..1000u64)
			.map(|id| {
				let mut d = filler[rng.below(1000)..][..500].to_vec();
				d.extend((0..500).map(|_| rng.below(5000) as u32));
				(id, d)
			})
			.collect();
		let start = std::time::Instant::now();
		let index = SpanIndex::build(&docs);
		let seconds = start.elapsed().as_secs_f64();
		assert_eq!(index.len(), 1_001_000);
		// Generous for a debug build on a loaded machine; release takes well under a second.
		assert!(seconds < 60.0, "{seconds} s");
		let answer = docs[7].1[400..700].to_vec();
		let scores = index.scores(&answer, &SpanParams::default());
		assert_eq!(scores[0].0, 7);
	}
}
