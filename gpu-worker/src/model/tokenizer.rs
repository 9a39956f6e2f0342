//! Byte-level BPE, the GPT-2 tokenizer family, built from a GGUF file's `tokenizer.ggml.*` keys.
//!
//! Encoding a text:
//!
//! 1. Special tokens (those of type control or user-defined, e.g. `<|im_start|>`) are cut out
//!    wherever they appear and become their own id; they never take part in merges.
//! 2. The text between them is split into words by the [`PreTokenizer`] named by
//!    `tokenizer.ggml.pre`.
//! 3. Each word's UTF-8 bytes are mapped to printable characters with the GPT-2 byte table
//!    ([`byte_to_char`]), so every byte is a token of the vocabulary, and adjacent symbols are
//!    merged, lowest merge rank first (`tokenizer.ggml.merges` is in rank order), until no pair
//!    of neighbours has a merge.
//!
//! A byte without a token of its own is dropped, as llama.cpp does. SmolLM2's vocabulary lacks
//! 21 bytes, none of them in ordinary text: the control characters 0x04, 0x06, 0x13, 0x14, 0x16
//! and 0x1d, the lead bytes 0xf1 and 0xf2 (rare planes beyond the emoji), and bytes that never
//! occur in UTF-8 (0xc0, 0xc1, 0xf5 to 0xff).
//!
//! Decoding maps each token's characters back to bytes and reads them as UTF-8.
//!
//! [`Tokenizer::from_hf_tokenizer_json`] builds the same tokenizer from a Hugging Face
//! `tokenizer.json` (a `BPE` model with `ByteLevel` pre-tokenization, optionally preceded by
//! `Digits(individual_digits)` as in SmolLM2); its `added_tokens` are matched whole.

use super::gguf::{Gguf, MetadataValue};
use std::collections::HashMap;

/// The tokenizer model this module implements.
pub const MODEL: &str = "gpt2";

/// Why a [`Tokenizer`] could not be built from a GGUF file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenizerError {
	/// A required key is absent.
	#[error("metadata key {0:?} is missing")]
	Missing(&'static str),
	/// A key holds a value of the wrong type.
	#[error("metadata key {key:?} should hold {expected}")]
	WrongType {
		/// The key.
		key: &'static str,
		/// What it should hold.
		expected: &'static str,
	},
	/// `tokenizer.ggml.model` is not `gpt2`.
	#[error("tokenizer model {0:?} is not supported (expected \"gpt2\")")]
	UnsupportedModel(String),
	/// `tokenizer.ggml.pre` names a pre-tokenizer this module does not implement.
	#[error("pre-tokenizer {0:?} is not supported (known: \"gpt2\", \"smollm\")")]
	UnsupportedPreTokenizer(String),
	/// There are no tokens, or more than a `u32` can number.
	#[error("the vocabulary has {0} tokens")]
	BadVocabularySize(usize),
	/// The token types do not match the tokens, or one is not a known type.
	#[error("token types: {0}")]
	BadTokenTypes(String),
	/// A merge is not two tokens separated by a space, or names something not in the vocabulary.
	#[error("merge #{rank} {merge:?}: {reason}")]
	BadMerge {
		/// Its position in `tokenizer.ggml.merges`.
		rank: usize,
		/// The merge text.
		merge: String,
		/// What is wrong.
		reason: &'static str,
	},
	/// A `tokenizer.json` is not JSON, or lacks or mistypes a field this module reads.
	#[error("tokenizer.json: {0}")]
	InvalidJson(String),
	/// A `tokenizer.json` normalizer, or a BPE option, that this module does not implement.
	#[error("tokenizer.json: {0} is not supported")]
	UnsupportedOption(String),
	/// A `tokenizer.json` vocabulary whose ids are not exactly `0..n`, or name two tokens.
	#[error("tokenizer.json vocabulary: {0}")]
	BadVocabulary(String),
	/// A special token id (bos, eos, ...) beyond the vocabulary.
	#[error("{key} = {id} is not a token id")]
	BadTokenId {
		/// The key.
		key: &'static str,
		/// The id found.
		id: u64,
	},
}

/// What a token is, from `tokenizer.ggml.token_type` (llama.cpp's numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
	/// 0: no type recorded.
	Undefined,
	/// 1: an ordinary piece of text.
	Normal,
	/// 2: the unknown token.
	Unknown,
	/// 3: a control token such as `<|im_start|>`.
	Control,
	/// 4: a token added by the user; matched whole, like control tokens.
	UserDefined,
	/// 5: reserved, never produced.
	Unused,
	/// 6: a raw byte.
	Byte,
}

impl TokenKind {
	/// The kind for a type id, if it is one llama.cpp defines.
	pub fn from_id(id: i64) -> Option<Self> {
		Some(match id {
			0 => Self::Undefined,
			1 => Self::Normal,
			2 => Self::Unknown,
			3 => Self::Control,
			4 => Self::UserDefined,
			5 => Self::Unused,
			6 => Self::Byte,
			_ => return None,
		})
	}

	/// Whether encode matches this token as a whole in the input text.
	pub fn is_special(self) -> bool {
		matches!(self, Self::Control | Self::UserDefined)
	}
}

/// How text is split into words before BPE, from `tokenizer.ggml.pre`.
///
/// Both follow the GPT-2 pattern
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`:
/// the English contractions (case-sensitive), then runs of letters, of numbers, or of other
/// non-space characters, each optionally led by one space; a run of whitespace before a word
/// leaves its last character to that word (a space joins the word, other whitespace stands
/// alone); whitespace at the end of the text stays together.
///
/// Letters are `char::is_alphabetic` and not numeric, numbers `char::is_numeric`, whitespace
/// `char::is_whitespace`; this matches `\p{L}` and `\p{N}` except for combining marks that
/// Unicode counts as alphabetic (e.g. Devanagari vowel signs), which join letter runs here but
/// are "other" in the regex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreTokenizer {
	/// `gpt2` (also used when the key is absent): the pattern above.
	Gpt2,
	/// `smollm`: every numeric character (`char::is_numeric`, `\p{N}`: digits of any script,
	/// `½`, `²`) is its own word first, then the pattern above on the text between them. This is
	/// Hugging Face's `Digits(individual_digits)` followed by `ByteLevel`, the tokenizer SmolLM2
	/// was trained with, and llama.cpp's `smollm` pre-tokenizer; checked against the former on
	/// mixed-script text.
	SmolLm,
}

impl PreTokenizer {
	/// The pre-tokenizer called `name` in `tokenizer.ggml.pre`.
	pub fn from_name(name: &str) -> Option<Self> {
		match name {
			"gpt2" | "default" => Some(Self::Gpt2),
			"smollm" => Some(Self::SmolLm),
			_ => None,
		}
	}

	/// Splits `text` into words; concatenated, they are `text` again.
	pub fn split(self, text: &str) -> Vec<&str> {
		let mut words = Vec::new();
		match self {
			Self::Gpt2 => split_gpt2(text, &mut words),
			Self::SmolLm => {
				let mut rest = text;
				while let Some((at, digit)) = rest.char_indices().find(|(_, c)| c.is_numeric()) {
					let (before, digit_and_after) = rest.split_at(at);
					split_gpt2(before, &mut words);
					let (digit, after) = digit_and_after.split_at(digit.len_utf8());
					words.push(digit);
					rest = after;
				}
				split_gpt2(rest, &mut words);
			}
		}
		words
	}
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CharClass {
	Letter,
	Number,
	Space,
	Other,
}

fn class(c: char) -> CharClass {
	if c.is_whitespace() {
		CharClass::Space
	} else if c.is_numeric() {
		CharClass::Number
	} else if c.is_alphabetic() {
		CharClass::Letter
	} else {
		CharClass::Other
	}
}

/// Appends the GPT-2 pattern's words of `text` to `words`.
fn split_gpt2<'a>(text: &'a str, words: &mut Vec<&'a str>) {
	let chars: Vec<(usize, char)> = text.char_indices().collect();
	let char_at = |i: usize| chars.get(i).map(|&(_, c)| c);
	let byte_at = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
	let mut i = 0;
	while let Some(c) = char_at(i) {
		let end = word_end(c, i, &char_at);
		if let Some(word) = text.get(byte_at(i)..byte_at(end)) {
			words.push(word);
		}
		i = end;
	}
}

/// Where the word starting with character `c` at index `i` ends (exclusive, in characters).
fn word_end(c: char, i: usize, char_at: &impl Fn(usize) -> Option<char>) -> usize {
	let next = char_at(i + 1);
	if c == '\'' {
		match (next, char_at(i + 2)) {
			(Some('s' | 't' | 'm' | 'd'), _) => return i + 2,
			(Some('r' | 'v'), Some('e')) | (Some('l'), Some('l')) => return i + 3,
			_ => {}
		}
	}
	// A single space may lead a run of letters, numbers or other characters.
	let start = match next {
		Some(n) if c == ' ' && class(n) != CharClass::Space => i + 1,
		_ => i,
	};
	match char_at(start).map(class) {
		Some(run) if run != CharClass::Space => {
			let mut end = start + 1;
			while char_at(end).map(class) == Some(run) {
				end += 1;
			}
			end
		}
		_ => {
			let mut end = i + 1;
			while char_at(end).is_some_and(char::is_whitespace) {
				end += 1;
			}
			// Before a word, the run gives up its last character (`\s+(?!\S)`), unless that is
			// all it has (`\s+`).
			if char_at(end).is_some() && end - i > 1 {
				end - 1
			} else {
				end
			}
		}
	}
}

/// The GPT-2 byte table: printable Latin-1 bytes (`!`..`~`, `¡`..`¬`, `®`..`ÿ`) stand for
/// themselves; the other 68 bytes, in order, become U+0100 onwards (so a space is `Ġ`, U+0120).
pub fn byte_to_char(byte: u8) -> char {
	let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xa1..=0xac | 0xae..=0xff);
	if printable(byte) {
		return char::from(byte);
	}
	let rank = (0..byte).filter(|&b| !printable(b)).count();
	// rank < 256, so 256 + rank is a valid scalar value.
	char::from_u32(256 + rank as u32).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// A byte-level BPE tokenizer.
#[derive(Debug, Clone)]
pub struct Tokenizer {
	tokens: Vec<String>,
	kinds: Vec<TokenKind>,
	ids: HashMap<String, u32>,
	/// (left, right) -> (rank, merged token).
	merges: HashMap<(u32, u32), (u32, u32)>,
	/// The token of each byte, `None` where the vocabulary has none.
	byte_tokens: Vec<Option<u32>>,
	char_bytes: HashMap<char, u8>,
	/// Special tokens, longest first so that the longest match wins.
	specials: Vec<(String, u32)>,
	pre: PreTokenizer,
	bos: Option<u32>,
	eos: Option<u32>,
}

impl Tokenizer {
	/// Builds the tokenizer stored in `gguf`'s metadata.
	pub fn from_gguf(gguf: &Gguf) -> Result<Self, TokenizerError> {
		let meta = gguf.metadata();
		let model = meta
			.get("tokenizer.ggml.model")
			.ok_or(TokenizerError::Missing("tokenizer.ggml.model"))?
			.as_str()
			.ok_or(TokenizerError::WrongType {
				key: "tokenizer.ggml.model",
				expected: "a string",
			})?;
		if model != MODEL {
			return Err(TokenizerError::UnsupportedModel(model.into()));
		}
		let pre = match meta.get("tokenizer.ggml.pre") {
			None => PreTokenizer::Gpt2,
			Some(v) => {
				let name = v.as_str().ok_or(TokenizerError::WrongType {
					key: "tokenizer.ggml.pre",
					expected: "a string",
				})?;
				PreTokenizer::from_name(name)
					.ok_or_else(|| TokenizerError::UnsupportedPreTokenizer(name.into()))?
			}
		};
		let tokens = string_array(gguf, "tokenizer.ggml.tokens")?
			.ok_or(TokenizerError::Missing("tokenizer.ggml.tokens"))?;
		let merges = string_array(gguf, "tokenizer.ggml.merges")?.unwrap_or_default();
		let kinds = match meta.get("tokenizer.ggml.token_type") {
			None => vec![TokenKind::Normal; tokens.len()],
			Some(v) => {
				let types = v.as_array().ok_or(TokenizerError::WrongType {
					key: "tokenizer.ggml.token_type",
					expected: "an array of integers",
				})?;
				if types.len() != tokens.len() {
					return Err(TokenizerError::BadTokenTypes(format!(
						"{} types for {} tokens",
						types.len(),
						tokens.len()
					)));
				}
				types
					.iter()
					.map(|t| {
						t.as_i64().and_then(TokenKind::from_id).ok_or_else(|| {
							TokenizerError::BadTokenTypes(format!("unknown token type {t:?}"))
						})
					})
					.collect::<Result<_, _>>()?
			}
		};
		let mut tokenizer = Self::new(tokens, kinds, &merges, pre)?;
		tokenizer.bos = tokenizer.token_id_key(gguf, "tokenizer.ggml.bos_token_id")?;
		tokenizer.eos = tokenizer.token_id_key(gguf, "tokenizer.ggml.eos_token_id")?;
		Ok(tokenizer)
	}

	/// Builds a tokenizer from its vocabulary (token strings in GPT-2 byte-table form, one kind
	/// each), its merges in rank order ("left right"), and its pre-tokenizer.
	pub fn new(
		tokens: Vec<String>,
		kinds: Vec<TokenKind>,
		merges: &[String],
		pre: PreTokenizer,
	) -> Result<Self, TokenizerError> {
		if tokens.is_empty() || u32::try_from(tokens.len()).is_err() {
			return Err(TokenizerError::BadVocabularySize(tokens.len()));
		}
		if kinds.len() != tokens.len() {
			return Err(TokenizerError::BadTokenTypes(format!(
				"{} types for {} tokens",
				kinds.len(),
				tokens.len()
			)));
		}
		let mut ids = HashMap::with_capacity(tokens.len());
		for (id, token) in (0u32..).zip(&tokens) {
			// A repeated token string keeps its first id.
			ids.entry(token.clone()).or_insert(id);
		}

		let pairs = merges
			.iter()
			.enumerate()
			.map(|(rank, merge)| {
				merge.split_once(' ').ok_or_else(|| TokenizerError::BadMerge {
					rank,
					merge: merge.clone(),
					reason: "no space",
				})
			})
			.collect::<Result<Vec<_>, _>>()?;
		Self::from_parts(tokens, kinds, ids, &pairs, pre)
	}

	/// [`Tokenizer::new`] past the checks of the vocabulary, with the merges as pairs.
	fn from_parts(
		tokens: Vec<String>,
		kinds: Vec<TokenKind>,
		ids: HashMap<String, u32>,
		merges: &[(&str, &str)],
		pre: PreTokenizer,
	) -> Result<Self, TokenizerError> {
		let mut byte_tokens = Vec::with_capacity(256);
		let mut char_bytes = HashMap::with_capacity(256);
		for byte in 0..=u8::MAX {
			let c = byte_to_char(byte);
			char_bytes.insert(c, byte);
			byte_tokens.push(ids.get(c.encode_utf8(&mut [0; 4]) as &str).copied());
		}

		let mut merge_map = HashMap::with_capacity(merges.len());
		for (rank, &(left, right)) in merges.iter().enumerate() {
			let bad = |reason| TokenizerError::BadMerge {
				rank,
				merge: format!("{left} {right}"),
				reason,
			};
			let left_id = *ids.get(left).ok_or_else(|| bad("left side is not a token"))?;
			let right_id = *ids.get(right).ok_or_else(|| bad("right side is not a token"))?;
			let merged =
				*ids.get(&format!("{left}{right}")).ok_or_else(|| bad("result is not a token"))?;
			let rank_u32 = u32::try_from(rank).map_err(|_| bad("too many merges"))?;
			// A repeated pair keeps its first (best) rank.
			merge_map.entry((left_id, right_id)).or_insert((rank_u32, merged));
		}

		let mut specials: Vec<(String, u32)> = (0u32..)
			.zip(tokens.iter().zip(&kinds))
			.filter(|(_, (token, kind))| kind.is_special() && !token.is_empty())
			.map(|(id, (token, _))| (token.clone(), id))
			.collect();
		specials.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));

		Ok(Self {
			tokens,
			kinds,
			ids,
			merges: merge_map,
			byte_tokens,
			char_bytes,
			specials,
			pre,
			bos: None,
			eos: None,
		})
	}

	/// Builds the tokenizer described by the text of a Hugging Face `tokenizer.json`.
	///
	/// `model.type` must be `BPE`, with `model.vocab` (token → id) and `model.merges` in rank
	/// order, each either `"left right"` or `["left", "right"]`. The pre-tokenizer must be
	/// `ByteLevel` (without `add_prefix_space`, with the GPT-2 regex), alone, in a `Sequence`,
	/// or after `Digits` with `individual_digits` (→ [`PreTokenizer::SmolLm`]). The normalizer
	/// must be null. Each of `added_tokens` is matched whole: a `special` one becomes
	/// [`TokenKind::Control`], another [`TokenKind::UserDefined`]; its id may be in the
	/// vocabulary already (with the same text) or extend it. The ids together must be exactly
	/// `0..n`. The file names no bos or eos token (that is `tokenizer_config.json`'s), so
	/// [`Tokenizer::bos_id`] and [`Tokenizer::eos_id`] are `None`.
	pub fn from_hf_tokenizer_json(json: &str) -> Result<Self, TokenizerError> {
		use serde_json::Value;
		let invalid = |what: String| TokenizerError::InvalidJson(what);
		let root: Value = serde_json::from_str(json).map_err(|e| invalid(e.to_string()))?;
		let model = root.get("model").ok_or_else(|| invalid("no \"model\"".into()))?;
		let model_type = model
			.get("type")
			.and_then(Value::as_str)
			.ok_or_else(|| invalid("no string \"model.type\"".into()))?;
		if model_type != "BPE" {
			return Err(TokenizerError::UnsupportedModel(model_type.into()));
		}
		match root.get("normalizer") {
			None | Some(Value::Null) => {}
			Some(n) => return Err(TokenizerError::UnsupportedOption(format!("normalizer {n}"))),
		}
		for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
			match model.get(key) {
				None | Some(Value::Null) => {}
				Some(Value::String(s)) if s.is_empty() => {}
				Some(v) => {
					return Err(TokenizerError::UnsupportedOption(format!("model.{key} {v}")))
				}
			}
		}
		for key in ["ignore_merges", "byte_fallback"] {
			if model.get(key).and_then(Value::as_bool) == Some(true) {
				return Err(TokenizerError::UnsupportedOption(format!("model.{key}")));
			}
		}
		let pre = hf_pre_tokenizer(root.get("pre_tokenizer").unwrap_or(&Value::Null))?;

		let vocab = model
			.get("vocab")
			.and_then(Value::as_object)
			.ok_or_else(|| invalid("no object \"model.vocab\"".into()))?;
		let added = match root.get("added_tokens") {
			None | Some(Value::Null) => &[][..],
			Some(v) => v
				.as_array()
				.map(Vec::as_slice)
				.ok_or_else(|| invalid("\"added_tokens\" is not an array".into()))?,
		};
		// Dense ids cannot go past the number of entries, which bounds the table.
		let entries = vocab.len().saturating_add(added.len());
		let mut by_id: Vec<Option<(String, TokenKind)>> = vec![None; entries];
		let mut place = |id: u64, token: &str, kind: TokenKind| -> Result<(), TokenizerError> {
			let slot =
				usize::try_from(id).ok().and_then(|i| by_id.get_mut(i)).ok_or_else(|| {
					TokenizerError::BadVocabulary(format!(
						"id {id} is beyond the {entries} entries"
					))
				})?;
			match slot {
				Some((existing, old_kind)) if existing.as_str() == token => {
					// An added token repeating its vocabulary entry takes the added kind.
					*old_kind = kind;
				}
				Some((existing, _)) => {
					return Err(TokenizerError::BadVocabulary(format!(
						"id {id} names both {existing:?} and {token:?}"
					)))
				}
				None => *slot = Some((token.to_string(), kind)),
			}
			Ok(())
		};
		for (token, id) in vocab {
			let id = id
				.as_u64()
				.ok_or_else(|| invalid(format!("model.vocab[{token:?}] is not a token id")))?;
			place(id, token, TokenKind::Normal)?;
		}
		for (i, token) in added.iter().enumerate() {
			let bad = || invalid(format!("added_tokens[{i}] lacks an id or content"));
			let id = token.get("id").and_then(Value::as_u64).ok_or_else(bad)?;
			let content = token.get("content").and_then(Value::as_str).ok_or_else(bad)?;
			let special = token.get("special").and_then(Value::as_bool).unwrap_or(false);
			let kind = if special { TokenKind::Control } else { TokenKind::UserDefined };
			place(id, content, kind)?;
		}
		// Added tokens that repeat vocabulary entries leave unused room at the end.
		while by_id.last().is_some_and(Option::is_none) {
			by_id.pop();
		}
		let mut tokens = Vec::with_capacity(by_id.len());
		let mut kinds = Vec::with_capacity(by_id.len());
		for (id, slot) in by_id.into_iter().enumerate() {
			let (token, kind) =
				slot.ok_or_else(|| TokenizerError::BadVocabulary(format!("no token has id {id}")))?;
			tokens.push(token);
			kinds.push(kind);
		}
		if tokens.is_empty() {
			return Err(TokenizerError::BadVocabularySize(0));
		}

		let merges = match model.get("merges") {
			None | Some(Value::Null) => &[][..],
			Some(v) => v
				.as_array()
				.map(Vec::as_slice)
				.ok_or_else(|| invalid("\"model.merges\" is not an array".into()))?,
		};
		let pairs = merges
			.iter()
			.enumerate()
			.map(|(rank, merge)| match merge {
				Value::String(s) => s.split_once(' ').ok_or_else(|| TokenizerError::BadMerge {
					rank,
					merge: s.clone(),
					reason: "no space",
				}),
				Value::Array(pair) => match pair.as_slice() {
					[Value::String(l), Value::String(r)] => Ok((l.as_str(), r.as_str())),
					_ => Err(TokenizerError::BadMerge {
						rank,
						merge: merge.to_string(),
						reason: "not a pair of strings",
					}),
				},
				_ => Err(TokenizerError::BadMerge {
					rank,
					merge: merge.to_string(),
					reason: "neither a string nor a pair",
				}),
			})
			.collect::<Result<Vec<_>, _>>()?;

		let mut ids = HashMap::with_capacity(tokens.len());
		for (id, token) in (0u32..).zip(&tokens) {
			ids.entry(token.clone()).or_insert(id);
		}
		Self::from_parts(tokens, kinds, ids, &pairs, pre)
	}

	fn token_id_key(&self, gguf: &Gguf, key: &'static str) -> Result<Option<u32>, TokenizerError> {
		let Some(value) = gguf.metadata().get(key) else { return Ok(None) };
		let id = value
			.as_u64()
			.ok_or(TokenizerError::WrongType { key, expected: "a non-negative integer" })?;
		match u32::try_from(id) {
			Ok(id) if self.token(id).is_some() => Ok(Some(id)),
			_ => Err(TokenizerError::BadTokenId { key, id }),
		}
	}

	/// Sets the beginning- and end-of-sequence tokens (a tokenizer read from a file sets them
	/// from its metadata). Ids outside the vocabulary are ignored.
	pub fn set_special_ids(&mut self, bos: Option<u32>, eos: Option<u32>) {
		let known = |id: Option<u32>| id.filter(|i| (*i as usize) < self.vocab_size());
		(self.bos, self.eos) = (known(bos), known(eos));
	}

	/// How many tokens the vocabulary has.
	pub fn vocab_size(&self) -> usize {
		self.tokens.len()
	}

	/// The beginning-of-sequence token, if the file names one.
	pub fn bos_id(&self) -> Option<u32> {
		self.bos
	}

	/// The end-of-sequence token, if the file names one.
	pub fn eos_id(&self) -> Option<u32> {
		self.eos
	}

	/// The pre-tokenizer in use.
	pub fn pre_tokenizer(&self) -> PreTokenizer {
		self.pre
	}

	/// The vocabulary string of token `id` (in byte-table form: a leading space is `Ġ`).
	pub fn token(&self, id: u32) -> Option<&str> {
		self.tokens.get(usize::try_from(id).ok()?).map(String::as_str)
	}

	/// The kind of token `id`.
	pub fn kind(&self, id: u32) -> Option<TokenKind> {
		self.kinds.get(usize::try_from(id).ok()?).copied()
	}

	/// The id of the token whose vocabulary string is `token`.
	pub fn token_id(&self, token: &str) -> Option<u32> {
		self.ids.get(token).copied()
	}

	/// Encodes `text`: special tokens whole, the rest by pre-tokenizing and merging.
	pub fn encode(&self, text: &str) -> Vec<u32> {
		let mut ids = Vec::new();
		let mut rest = text;
		while !rest.is_empty() {
			let (before, special) = self.next_special(rest);
			for word in self.pre.split(before) {
				self.encode_word(word, &mut ids);
			}
			match special {
				Some((id, len)) => {
					ids.push(id);
					rest = rest.get(before.len().saturating_add(len)..).unwrap_or("");
				}
				None => break,
			}
		}
		ids
	}

	/// The text before the first special token in `text`, and that token's id and byte length.
	fn next_special<'a>(&self, text: &'a str) -> (&'a str, Option<(u32, usize)>) {
		if self.specials.is_empty() {
			return (text, None);
		}
		for (at, _) in text.char_indices() {
			let tail = text.get(at..).unwrap_or("");
			if let Some((token, id)) =
				self.specials.iter().find(|(s, _)| tail.starts_with(s.as_str()))
			{
				return (text.get(..at).unwrap_or(""), Some((*id, token.len())));
			}
		}
		(text, None)
	}

	/// Appends the BPE tokens of one pre-tokenized word.
	fn encode_word(&self, word: &str, out: &mut Vec<u32>) {
		let mut symbols: Vec<u32> = word
			.bytes()
			.filter_map(|b| self.byte_tokens.get(usize::from(b)).copied().flatten())
			.collect();
		// Merge the best-ranked adjacent pair, every occurrence of it left to right, until no
		// pair has a merge. Words are short, so the quadratic scan is cheap.
		loop {
			let best = symbols
				.windows(2)
				.filter_map(|pair| match pair {
					[l, r] => {
						self.merges.get(&(*l, *r)).map(|&(rank, merged)| (rank, *l, *r, merged))
					}
					_ => None,
				})
				.min_by_key(|&(rank, ..)| rank);
			let Some((_, left, right, merged)) = best else { break };
			let mut next = Vec::with_capacity(symbols.len());
			let mut iter = symbols.iter().copied().peekable();
			while let Some(s) = iter.next() {
				if s == left && iter.peek() == Some(&right) {
					iter.next();
					next.push(merged);
				} else {
					next.push(s);
				}
			}
			symbols = next;
		}
		out.extend(symbols);
	}

	/// The bytes `ids` stand for. Special tokens give their text; ids outside the vocabulary
	/// give nothing.
	pub fn decode_bytes(&self, ids: &[u32]) -> Vec<u8> {
		let mut bytes = Vec::new();
		for &id in ids {
			let (Some(token), Some(kind)) = (self.token(id), self.kind(id)) else { continue };
			if kind.is_special() {
				bytes.extend_from_slice(token.as_bytes());
				continue;
			}
			for c in token.chars() {
				match self.char_bytes.get(&c) {
					Some(&b) => bytes.push(b),
					// Not from the byte table: the character is its own text.
					None => bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
				}
			}
		}
		bytes
	}

	/// The text `ids` stand for; bytes that are not valid UTF-8 (a character cut between
	/// tokens) become U+FFFD.
	pub fn decode(&self, ids: &[u32]) -> String {
		String::from_utf8_lossy(&self.decode_bytes(ids)).into_owned()
	}
}

/// The [`PreTokenizer`] a `tokenizer.json` `pre_tokenizer` describes.
fn hf_pre_tokenizer(value: &serde_json::Value) -> Result<PreTokenizer, TokenizerError> {
	let unsupported = || TokenizerError::UnsupportedPreTokenizer(value.to_string());
	fn kind(v: &serde_json::Value) -> Option<&str> {
		v.get("type").and_then(serde_json::Value::as_str)
	}
	let is_byte_level = |v: &serde_json::Value| {
		kind(v) == Some("ByteLevel")
			&& v.get("add_prefix_space").and_then(serde_json::Value::as_bool) != Some(true)
			&& v.get("use_regex").and_then(serde_json::Value::as_bool) != Some(false)
	};
	let is_digits = |v: &serde_json::Value| {
		kind(v) == Some("Digits")
			&& v.get("individual_digits").and_then(serde_json::Value::as_bool) == Some(true)
	};
	if is_byte_level(value) {
		return Ok(PreTokenizer::Gpt2);
	}
	if kind(value) != Some("Sequence") {
		return Err(unsupported());
	}
	let steps =
		value.get("pretokenizers").and_then(serde_json::Value::as_array).ok_or_else(unsupported)?;
	match steps.as_slice() {
		[byte_level] if is_byte_level(byte_level) => Ok(PreTokenizer::Gpt2),
		[digits, byte_level] if is_digits(digits) && is_byte_level(byte_level) => {
			Ok(PreTokenizer::SmolLm)
		}
		_ => Err(unsupported()),
	}
}

/// The strings of array `key`, `None` when the key is absent.
fn string_array(gguf: &Gguf, key: &'static str) -> Result<Option<Vec<String>>, TokenizerError> {
	let Some(value) = gguf.metadata().get(key) else { return Ok(None) };
	let wrong = TokenizerError::WrongType { key, expected: "an array of strings" };
	let items = value.as_array().ok_or(wrong.clone())?;
	items
		.iter()
		.map(|v| match v {
			MetadataValue::String(s) => Ok(s.clone()),
			_ => Err(wrong.clone()),
		})
		.collect::<Result<Vec<_>, _>>()
		.map(Some)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
	use super::*;
	use crate::model::testing::{GgufWriter, Value};

	fn words(pre: PreTokenizer, text: &str) -> Vec<&str> {
		let words = pre.split(text);
		assert_eq!(words.concat(), text, "words must cover the text");
		words
	}

	#[test]
	fn splits_words_the_gpt2_way() {
		let gpt2 = PreTokenizer::Gpt2;
		assert_eq!(words(gpt2, "Hello, world!"), ["Hello", ",", " world", "!"]);
		assert_eq!(
			words(gpt2, "It's we'll I'd you're"),
			["It", "'s", " we", "'ll", " I", "'d", " you", "'re"]
		);
		// Upper-case contractions are not contractions in GPT-2's pattern.
		assert_eq!(words(gpt2, "IT'S"), ["IT", "'", "S"]);
		assert_eq!(words(gpt2, "abc 123 4x"), ["abc", " 123", " 4", "x"]);
		assert_eq!(words(gpt2, "a...b ?!"), ["a", "...", "b", " ?!"]);
		// A run of spaces leaves its last one to the next word; trailing whitespace stays whole.
		assert_eq!(words(gpt2, "a   b  "), ["a", "  ", " b", "  "]);
		assert_eq!(words(gpt2, "a\n\nb"), ["a", "\n", "\n", "b"]);
		assert_eq!(words(gpt2, "a \n b"), ["a", " \n", " b"]);
		assert_eq!(words(gpt2, "\tx"), ["\t", "x"]);
		assert_eq!(words(gpt2, "héllo wörld 你好"), ["héllo", " wörld", " 你好"]);
		assert_eq!(words(gpt2, ""), Vec::<&str>::new());
	}

	#[test]
	fn smollm_splits_every_digit() {
		let smol = PreTokenizer::SmolLm;
		assert_eq!(words(smol, "in 2024, x1"), ["in", " ", "2", "0", "2", "4", ",", " x", "1"]);
		assert_eq!(words(smol, "3.14"), ["3", ".", "1", "4"]);
		assert_eq!(words(smol, "x ½²٣"), ["x", " ", "½", "²", "٣"]);
	}

	#[test]
	fn maps_bytes_to_printable_characters_and_back() {
		assert_eq!(byte_to_char(b'A'), 'A');
		assert_eq!(byte_to_char(b' '), 'Ġ');
		assert_eq!(byte_to_char(b'\n'), 'Ċ');
		assert_eq!(byte_to_char(0), '\u{100}');
		assert_eq!(byte_to_char(0xad), '\u{143}');
		assert_eq!(byte_to_char(0xff), 'ÿ');
		let mut seen: Vec<char> = (0..=255).map(byte_to_char).collect();
		seen.sort();
		seen.dedup();
		assert_eq!(seen.len(), 256, "the table is one-to-one");
	}

	/// A tiny vocabulary: the 256 byte tokens, a few merges, and two specials.
	fn tiny() -> Tokenizer {
		let mut tokens: Vec<String> = vec!["<|im_start|>".into(), "<|im_end|>".into()];
		tokens.extend((0..=255).map(|b| byte_to_char(b).to_string()));
		let merged = ["he", "ll", "hell", "hello", "Ġw", "or", "Ġwor", "Ġworld", "ld"];
		tokens.extend(merged.iter().map(|s| s.to_string()));
		let mut kinds = vec![TokenKind::Control; 2];
		kinds.resize(tokens.len(), TokenKind::Normal);
		let merges: Vec<String> =
			["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"]
				.iter()
				.map(|s| s.to_string())
				.collect();
		Tokenizer::new(tokens, kinds, &merges, PreTokenizer::Gpt2).unwrap()
	}

	#[test]
	fn merges_lowest_rank_first() {
		let t = tiny();
		let id = |s: &str| t.token_id(s).unwrap();
		assert_eq!(t.encode("hello world"), [id("hello"), id("Ġworld")]);
		// "wor" without its space: only "o r" applies.
		assert_eq!(t.encode("wor"), [id("w"), id("or")]);
		// "hel": "h e" (rank 0) before anything else; "l" stays.
		assert_eq!(t.encode("hel"), [id("he"), id("l")]);
		assert_eq!(t.encode("hellhello"), [id("hell"), id("hello")]);
	}

	#[test]
	fn matches_special_tokens_whole() {
		let t = tiny();
		let ids = t.encode("<|im_start|>hello<|im_end|>\n");
		assert_eq!(ids, [0, t.token_id("hello").unwrap(), 1, t.token_id("Ċ").unwrap()]);
		assert_eq!(t.decode(&ids), "<|im_start|>hello<|im_end|>\n");
		// A broken special is plain text.
		let ids = t.encode("<|im_start|");
		assert!(!ids.contains(&0));
		assert_eq!(t.decode(&ids), "<|im_start|");
	}

	#[test]
	fn round_trips_any_text() {
		let t = tiny();
		for text in [
			"hello world",
			"  leading and trailing  ",
			"tabs\tand\nnewlines\r\n",
			"unicode: héllo, 你好, emoji 🦀, combining é",
			"\u{0}\u{7f} control bytes",
			"<|im_start|>user\nhi<|im_end|><|im_end|>",
		] {
			assert_eq!(t.decode(&t.encode(text)), text);
		}
	}

	#[test]
	fn decode_skips_unknown_ids_and_marks_cut_characters() {
		let t = tiny();
		let crab = t.encode("🦀");
		assert_eq!(crab.len(), 4);
		assert_eq!(t.decode(&crab[..2]), "\u{fffd}");
		assert_eq!(t.decode(&[u32::MAX, t.token_id("hello").unwrap()]), "hello");
	}

	fn gguf_tokenizer(w: &GgufWriter) -> Result<Tokenizer, TokenizerError> {
		Tokenizer::from_gguf(&Gguf::from_bytes(&w.to_bytes()).unwrap())
	}

	fn tiny_gguf() -> GgufWriter {
		let mut tokens = vec![Value::Str("<|endoftext|>".into())];
		tokens.extend((0..=255).map(|b| Value::Str(byte_to_char(b).to_string())));
		tokens.push(Value::Str("Ġ1".into()));
		let mut types = vec![Value::I32(3)];
		types.resize(tokens.len(), Value::I32(1));
		let mut w = GgufWriter::new();
		w.kv("tokenizer.ggml.model", Value::Str("gpt2".into()))
			.kv("tokenizer.ggml.pre", Value::Str("smollm".into()))
			.kv("tokenizer.ggml.tokens", Value::Array(tokens))
			.kv("tokenizer.ggml.token_type", Value::Array(types))
			.kv("tokenizer.ggml.merges", Value::Array(vec![Value::Str("Ġ 1".into())]))
			.kv("tokenizer.ggml.bos_token_id", Value::U32(0))
			.kv("tokenizer.ggml.eos_token_id", Value::U32(0));
		w
	}

	#[test]
	fn reads_the_tokenizer_from_gguf_metadata() {
		let t = gguf_tokenizer(&tiny_gguf()).unwrap();
		assert_eq!(t.vocab_size(), 258);
		assert_eq!(t.bos_id(), Some(0));
		assert_eq!(t.eos_id(), Some(0));
		assert_eq!(t.pre_tokenizer(), PreTokenizer::SmolLm);
		assert_eq!(t.kind(0), Some(TokenKind::Control));
		// smollm keeps the space apart from the digit, so "Ġ1" is never formed.
		let ids = t.encode(" 1<|endoftext|>");
		assert_eq!(ids, [t.token_id("Ġ").unwrap(), t.token_id("1").unwrap(), 0]);
	}

	#[test]
	fn rejects_tokenizers_it_cannot_run() {
		let mut w = tiny_gguf();
		w.kv("tokenizer.ggml.model", Value::Str("llama".into()));
		assert_eq!(
			gguf_tokenizer(&w).unwrap_err(),
			TokenizerError::UnsupportedModel("llama".into())
		);

		let mut w = tiny_gguf();
		w.kv("tokenizer.ggml.pre", Value::Str("qwen2".into()));
		assert!(matches!(gguf_tokenizer(&w), Err(TokenizerError::UnsupportedPreTokenizer(_))));

		let mut w = tiny_gguf();
		w.kv("tokenizer.ggml.merges", Value::Array(vec![Value::Str("Ġ1".into())]));
		assert!(matches!(gguf_tokenizer(&w), Err(TokenizerError::BadMerge { rank: 0, .. })));

		let mut w = tiny_gguf();
		w.kv("tokenizer.ggml.eos_token_id", Value::U32(258));
		assert_eq!(
			gguf_tokenizer(&w).unwrap_err(),
			TokenizerError::BadTokenId { key: "tokenizer.ggml.eos_token_id", id: 258 }
		);

		let mut w = tiny_gguf();
		w.kv("tokenizer.ggml.tokens", Value::Array(vec![Value::Str("a".into())]));
		assert!(matches!(gguf_tokenizer(&w), Err(TokenizerError::BadTokenTypes(_))));
	}

	#[test]
	fn drops_bytes_the_vocabulary_lacks() {
		let tokens = vec!["a".to_string(), "b".to_string(), "ab".to_string()];
		let kinds = vec![TokenKind::Normal; 3];
		let t = Tokenizer::new(tokens, kinds, &["a b".to_string()], PreTokenizer::Gpt2).unwrap();
		assert_eq!(t.encode("abc"), [2]);
		assert_eq!(t.encode("cab"), [2]);
		assert_eq!(t.decode(&t.encode("a\u{4}b")), "ab");
	}

	/// `tiny()`'s vocabulary and merges as a Hugging Face `tokenizer.json`, the merges in both
	/// spellings, the specials both in the vocabulary and in `added_tokens`.
	fn tiny_json() -> serde_json::Value {
		let t = tiny();
		let vocab: serde_json::Map<String, serde_json::Value> = (0..t.vocab_size() as u32)
			.map(|id| (t.token(id).unwrap().to_string(), id.into()))
			.collect();
		serde_json::json!({
			"version": "1.0",
			"added_tokens": [
				{"id": 0, "content": "<|im_start|>", "special": true},
				{"id": 1, "content": "<|im_end|>", "special": true}
			],
			"normalizer": null,
			"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
			"decoder": {"type": "ByteLevel"},
			"model": {
				"type": "BPE",
				"dropout": null,
				"unk_token": null,
				"continuing_subword_prefix": null,
				"end_of_word_suffix": null,
				"fuse_unk": false,
				"byte_fallback": false,
				"vocab": vocab,
				"merges": ["h e", ["l", "l"], "he ll", ["hell", "o"], "Ġ w", "o r", ["Ġw", "or"], "l d", "Ġwor ld"]
			}
		})
	}

	fn from_json(json: &serde_json::Value) -> Result<Tokenizer, TokenizerError> {
		Tokenizer::from_hf_tokenizer_json(&json.to_string())
	}

	const TEXTS: [&str; 6] = [
		"hello world",
		"<|im_start|>user\nhello<|im_end|>\n",
		"  hellhello   worldly  ",
		"unicode: héllo, 你好, emoji 🦀",
		"It's 2024; we'll see.",
		"",
	];

	#[test]
	fn reads_a_hugging_face_tokenizer_json() {
		let t = from_json(&tiny_json()).unwrap();
		let reference = tiny();
		assert_eq!(t.vocab_size(), reference.vocab_size());
		assert_eq!(t.kind(0), Some(TokenKind::Control));
		assert_eq!(t.kind(2), Some(TokenKind::Normal));
		assert_eq!(t.bos_id(), None);
		assert_eq!(t.pre_tokenizer(), PreTokenizer::Gpt2);
		let id = |s: &str| t.token_id(s).unwrap();
		assert_eq!(t.encode("hello world"), [id("hello"), id("Ġworld")]);
		for text in TEXTS {
			assert_eq!(t.encode(text), reference.encode(text), "{text:?}");
			assert_eq!(t.decode(&t.encode(text)), text);
		}
	}

	#[test]
	fn the_gguf_and_json_constructors_agree() {
		let json = tiny_json();
		let reference = tiny();
		let mut tokens = Vec::new();
		let mut types = Vec::new();
		for id in 0..reference.vocab_size() as u32 {
			tokens.push(Value::Str(reference.token(id).unwrap().into()));
			types.push(Value::I32(if id < 2 { 3 } else { 1 }));
		}
		let merges: Vec<Value> = json["model"]["merges"]
			.as_array()
			.unwrap()
			.iter()
			.map(|m| match m {
				serde_json::Value::String(s) => Value::Str(s.clone()),
				pair => Value::Str(format!(
					"{} {}",
					pair[0].as_str().unwrap(),
					pair[1].as_str().unwrap()
				)),
			})
			.collect();
		for (pre_name, pre_json, pre) in [
			("gpt2", json["pre_tokenizer"].clone(), PreTokenizer::Gpt2),
			(
				"smollm",
				serde_json::json!({"type": "Sequence", "pretokenizers": [
					{"type": "Digits", "individual_digits": true},
					{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}
				]}),
				PreTokenizer::SmolLm,
			),
		] {
			let mut w = GgufWriter::new();
			w.kv("tokenizer.ggml.model", Value::Str("gpt2".into()))
				.kv("tokenizer.ggml.pre", Value::Str(pre_name.into()))
				.kv("tokenizer.ggml.tokens", Value::Array(tokens.clone()))
				.kv("tokenizer.ggml.token_type", Value::Array(types.clone()))
				.kv("tokenizer.ggml.merges", Value::Array(merges.clone()));
			let from_gguf = gguf_tokenizer(&w).unwrap();
			let mut json = json.clone();
			json["pre_tokenizer"] = pre_json;
			let from_json = from_json(&json).unwrap();
			assert_eq!(from_json.pre_tokenizer(), pre);
			assert_eq!(from_gguf.pre_tokenizer(), pre);
			for text in TEXTS.iter().chain(&["in 2024, x1 hello12world"]) {
				assert_eq!(from_json.encode(text), from_gguf.encode(text), "{pre_name} {text:?}");
			}
		}
	}

	#[test]
	fn added_tokens_may_extend_the_vocabulary() {
		let mut json = tiny_json();
		let n = tiny().vocab_size();
		json["added_tokens"].as_array_mut().unwrap().extend([
			serde_json::json!({"id": n, "content": "<tool>", "special": false}),
			serde_json::json!({"id": n + 1, "content": "<|eot|>", "special": true}),
		]);
		let t = from_json(&json).unwrap();
		assert_eq!(t.vocab_size(), n + 2);
		assert_eq!(t.kind(n as u32), Some(TokenKind::UserDefined));
		assert_eq!(t.kind(n as u32 + 1), Some(TokenKind::Control));
		let ids = t.encode("hello<tool>world<|eot|>");
		assert_eq!(ids[0], t.token_id("hello").unwrap());
		assert_eq!(ids[1], n as u32);
		assert_eq!(*ids.last().unwrap(), n as u32 + 1);
		assert_eq!(t.decode(&ids), "hello<tool>world<|eot|>");
	}

	#[test]
	fn hugging_face_tokenizer_errors() {
		let edit = |f: &dyn Fn(&mut serde_json::Value)| {
			let mut json = tiny_json();
			f(&mut json);
			from_json(&json)
		};
		assert!(matches!(
			Tokenizer::from_hf_tokenizer_json("{"),
			Err(TokenizerError::InvalidJson(_))
		));
		type Edit = fn(&mut serde_json::Value);
		let invalid: Vec<Edit> = vec![
			|j| j["model"] = serde_json::Value::Null,
			|j| {
				j["model"].as_object_mut().unwrap().remove("type");
			},
			|j| j["model"]["vocab"] = serde_json::json!([1]),
			|j| j["model"]["vocab"]["h"] = serde_json::json!("x"),
			|j| j["added_tokens"] = serde_json::json!({}),
			|j| j["added_tokens"][0] = serde_json::json!({"content": "<|im_start|>"}),
			|j| j["model"]["merges"] = serde_json::json!("h e"),
		];
		for f in invalid {
			assert!(matches!(edit(&f), Err(TokenizerError::InvalidJson(_))));
		}
		assert_eq!(
			edit(&|j| j["model"]["type"] = "WordPiece".into()).unwrap_err(),
			TokenizerError::UnsupportedModel("WordPiece".into())
		);
		let unsupported: Vec<Edit> = vec![
			|j| j["normalizer"] = serde_json::json!({"type": "NFC"}),
			|j| j["model"]["continuing_subword_prefix"] = "##".into(),
			|j| j["model"]["end_of_word_suffix"] = "</w>".into(),
			|j| j["model"]["ignore_merges"] = true.into(),
			|j| j["model"]["byte_fallback"] = true.into(),
		];
		for f in unsupported {
			assert!(matches!(edit(&f), Err(TokenizerError::UnsupportedOption(_))));
		}
		for pre in [
			serde_json::Value::Null,
			serde_json::json!({"type": "Whitespace"}),
			serde_json::json!({"type": "ByteLevel", "add_prefix_space": true}),
			serde_json::json!({"type": "ByteLevel", "use_regex": false}),
			serde_json::json!({"type": "Sequence"}),
			serde_json::json!({"type": "Sequence", "pretokenizers": [
				{"type": "Digits", "individual_digits": false}, {"type": "ByteLevel"}
			]}),
		] {
			assert!(matches!(
				edit(&|j| j["pre_tokenizer"] = pre.clone()),
				Err(TokenizerError::UnsupportedPreTokenizer(_))
			));
		}
		// Ids: a gap, a clash, one beyond any dense numbering, none at all.
		let bad_ids: Vec<Edit> = vec![
			|j| {
				j["model"]["vocab"].as_object_mut().unwrap().remove("h");
			},
			|j| j["added_tokens"][0]["content"] = "<|other|>".into(),
			|j| j["model"]["vocab"]["h"] = u32::MAX.into(),
		];
		for f in bad_ids {
			assert!(matches!(edit(&f), Err(TokenizerError::BadVocabulary(_))));
		}
		assert_eq!(
			edit(&|j| {
				j["model"]["vocab"] = serde_json::json!({});
				j["model"]["merges"] = serde_json::json!([]);
				j["added_tokens"] = serde_json::json!([]);
			})
			.unwrap_err(),
			TokenizerError::BadVocabularySize(0)
		);
		for (merge, reason) in [
			(serde_json::json!("he"), "no space"),
			(serde_json::json!(["h", 1]), "not a pair of strings"),
			(serde_json::json!(["h", "e", "l"]), "not a pair of strings"),
			(serde_json::json!(7), "neither a string nor a pair"),
			(serde_json::json!(["q", "z"]), "result is not a token"),
			(serde_json::json!("xx e"), "left side is not a token"),
		] {
			assert!(
				matches!(
					edit(&|j| j["model"]["merges"][0] = merge.clone()),
					Err(TokenizerError::BadMerge { rank: 0, reason: r, .. }) if r == reason
				),
				"{merge}"
			);
		}
	}
}
