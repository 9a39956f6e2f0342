//! A model version's attribution index, as one blob: the span index over the training
//! contributions' tokens and the influence index of their gradient sketches. The trainer builds
//! it, keeps it next to the adapter and uploads it to the content store; its blake2-256 goes
//! on-chain in the version's lineage (`TrainResult::attribution_index`). Serving workers load
//! it by that hash and attribute answers with an [`Attributor`].
//!
//! Layout (little-endian): `b"OLATTRIX"`, format version `u32`, then the span index and the
//! influence index, each as a `u64` byte length and its bytes (an influence length of zero: no
//! influence index).

use super::{
	combine::{combine, CombineParams},
	influence::InfluenceIndex,
	spans::{SpanIndex, SpanParams},
	Attribution, ContributionId,
};

/// What a serialized index starts with.
pub const MAGIC: [u8; 8] = *b"OLATTRIX";
/// The format's version.
pub const VERSION: u32 = 1;

/// Why bytes are not an attribution index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
	/// Not this format.
	#[error("not an attribution index (bad magic)")]
	BadMagic,
	/// A version this code does not read.
	#[error("unsupported attribution index version {0}")]
	UnsupportedVersion(u32),
	/// The bytes end early, or continue after the index.
	#[error("attribution index truncated or with trailing bytes")]
	Length,
	/// The span part is bad.
	#[error("span index: {0}")]
	Spans(#[from] super::spans::SpanIndexError),
	/// The influence part is bad.
	#[error("influence index: {0}")]
	Influence(String),
}

/// The attribution index of one model version.
#[derive(Debug, Clone)]
pub struct AttributionIndex {
	/// Verbatim spans of the training contributions.
	pub spans: SpanIndex,
	/// Their gradient sketches, when the trainer recorded them.
	pub influence: Option<InfluenceIndex>,
}

impl AttributionIndex {
	/// The blob (see the module docs).
	pub fn to_bytes(&self) -> Vec<u8> {
		let spans = self.spans.to_bytes();
		let influence = self.influence.as_ref().map(InfluenceIndex::to_bytes).unwrap_or_default();
		let mut out = Vec::with_capacity(8 + 4 + 16 + spans.len() + influence.len());
		out.extend_from_slice(&MAGIC);
		out.extend_from_slice(&VERSION.to_le_bytes());
		for part in [&spans, &influence] {
			out.extend_from_slice(&(part.len() as u64).to_le_bytes());
			out.extend_from_slice(part);
		}
		out
	}

	/// Reads a blob, checking every part.
	pub fn from_bytes(bytes: &[u8]) -> Result<Self, IndexError> {
		let rest = bytes.strip_prefix(&MAGIC[..]).ok_or(IndexError::BadMagic)?;
		let (version, rest) = rest.split_first_chunk::<4>().ok_or(IndexError::Length)?;
		let version = u32::from_le_bytes(*version);
		if version != VERSION {
			return Err(IndexError::UnsupportedVersion(version));
		}
		let (spans, rest) = part(rest)?;
		let (influence, rest) = part(rest)?;
		if !rest.is_empty() {
			return Err(IndexError::Length);
		}
		let spans = SpanIndex::from_bytes(spans)?;
		let influence = if influence.is_empty() {
			None
		} else {
			Some(
				InfluenceIndex::from_bytes(influence)
					.map_err(|e| IndexError::Influence(e.to_string()))?,
			)
		};
		Ok(Self { spans, influence })
	}

	/// blake2-256 of [`Self::to_bytes`]: the hash the chain records.
	pub fn hash(&self) -> [u8; 32] {
		sp_crypto_hashing::blake2_256(&self.to_bytes())
	}
}

/// A `u64` length and that many bytes.
fn part(bytes: &[u8]) -> Result<(&[u8], &[u8]), IndexError> {
	let (len, rest) = bytes.split_first_chunk::<8>().ok_or(IndexError::Length)?;
	let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| IndexError::Length)?;
	if rest.len() < len {
		return Err(IndexError::Length);
	}
	Ok(rest.split_at(len))
}

/// One answer to attribute.
#[derive(Debug, Clone, Default)]
pub struct AnswerTrace {
	/// The prompt's tokens (the chat template included).
	pub prompt: Vec<u32>,
	/// The generated tokens.
	pub answer: Vec<u32>,
	/// The answer's gradient sketch under its adapter, when the engine captured it.
	pub sketch: Option<Vec<f32>>,
}

/// How answers are attributed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttributorParams {
	/// Mixing and top-k.
	pub combine: CombineParams,
	/// Span matching.
	pub spans: SpanParams,
	/// How much a span of the prompt counts against one of the answer. A question that quotes a
	/// contribution is answered in its context, so it counts, but less than what the model
	/// wrote itself.
	pub prompt_span_weight: f64,
}

impl Default for AttributorParams {
	/// Top-4 (the chain's `MAX_ATTRIBUTION`), spans and influence mixed evenly, prompt spans at
	/// a quarter.
	fn default() -> Self {
		Self {
			combine: CombineParams {
				top_k: crate::chain::inference::MAX_ATTRIBUTION,
				..CombineParams::default()
			},
			spans: SpanParams::default(),
			prompt_span_weight: 0.25,
		}
	}
}

/// Attributes answers of one model version against its index.
#[derive(Debug)]
pub struct Attributor {
	index: AttributionIndex,
	params: AttributorParams,
}

impl Attributor {
	/// An attributor over `index`.
	pub fn new(index: AttributionIndex, params: AttributorParams) -> Self {
		Self { index, params }
	}

	/// The index.
	pub fn index(&self) -> &AttributionIndex {
		&self.index
	}

	/// Attributes a whole batch at once: span queries in parallel, one scoring of every
	/// captured sketch against the influence index, then [`combine`] per answer.
	pub fn attribute_batch(&self, answers: &[AnswerTrace]) -> Vec<Attribution> {
		let texts: Vec<&[u32]> =
			answers.iter().flat_map(|a| [a.answer.as_slice(), a.prompt.as_slice()]).collect();
		let span_scores = self.index.spans.scores_batch(&texts, &self.params.spans);
		let mut influence: Vec<Vec<(ContributionId, f64)>> = vec![Vec::new(); answers.len()];
		if let Some(index) = &self.index.influence {
			let (rows, sketches): (Vec<usize>, Vec<Vec<f32>>) = answers
				.iter()
				.enumerate()
				.filter_map(|(i, a)| a.sketch.clone().map(|s| (i, s)))
				.unzip();
			for (i, scores) in rows.into_iter().zip(index.score_batch(&sketches)) {
				if let Some(slot) = influence.get_mut(i) {
					*slot = scores;
				}
			}
		}
		span_scores
			.chunks(2)
			.zip(&influence)
			.map(|(pair, influence)| {
				let mut spans = pair.first().cloned().unwrap_or_default();
				if let Some(prompt) = pair.get(1) {
					let w = self.params.prompt_span_weight;
					spans.extend(prompt.iter().map(|&(c, s)| (c, s * w)));
				}
				combine(&spans, influence, &self.params.combine)
			})
			.collect()
	}
}
