//! Reading a body with a size cap.

use bytes::Buf;
use http_body_util::BodyExt;
use hyper::body::Body;

/// Why a capped body read stopped.
#[derive(Debug, thiserror::Error)]
pub enum CappedBodyError<E> {
	/// The body is (or announced it would be) longer than the cap.
	#[error("body exceeds the limit of {limit} bytes")]
	TooLarge {
		/// The cap that was exceeded.
		limit: u64,
	},
	/// The body failed while it was being read.
	#[error("reading the body failed: {0}")]
	Body(#[source] E),
}

/// Reads `body` into memory, failing as soon as it exceeds `limit` bytes.
///
/// A body whose declared length (`content-length`) is over the limit is refused before a byte is
/// read, and a body without one is refused at the first frame that would cross the limit: the
/// buffer never holds more than `limit` bytes.
pub async fn collect_capped<B>(
	mut body: B,
	limit: u64,
) -> Result<Vec<u8>, CappedBodyError<B::Error>>
where
	B: Body + Unpin,
{
	let declared = body.size_hint().lower();
	if declared > limit {
		return Err(CappedBodyError::TooLarge { limit });
	}
	let mut out = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
	while let Some(frame) = body.frame().await {
		let frame = frame.map_err(CappedBodyError::Body)?;
		// Trailers carry nothing we store.
		let Ok(mut data) = frame.into_data() else { continue };
		let total = (out.len() as u64).saturating_add(data.remaining() as u64);
		if total > limit {
			return Err(CappedBodyError::TooLarge { limit });
		}
		while data.has_remaining() {
			let chunk = data.chunk();
			out.extend_from_slice(chunk);
			let n = chunk.len();
			data.advance(n);
		}
	}
	Ok(out)
}

#[cfg(test)]
mod tests {
	use super::*;
	use bytes::Bytes;
	use http_body_util::Full;
	use hyper::body::{Frame, SizeHint};
	use std::{
		collections::VecDeque,
		convert::Infallible,
		pin::Pin,
		task::{Context, Poll},
	};

	/// A body that arrives in chunks and declares no length, like a chunked upload.
	struct Chunked(VecDeque<Bytes>);

	impl Body for Chunked {
		type Data = Bytes;
		type Error = Infallible;

		fn poll_frame(
			mut self: Pin<&mut Self>,
			_cx: &mut Context<'_>,
		) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
			Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
		}

		fn size_hint(&self) -> SizeHint {
			SizeHint::default()
		}
	}

	#[tokio::test]
	async fn reads_a_body_at_the_limit() {
		let body = Full::new(Bytes::from_static(b"12345"));
		assert_eq!(collect_capped(body, 5).await.unwrap(), b"12345");
	}

	#[tokio::test]
	async fn refuses_a_declared_length_over_the_limit() {
		let body = Full::new(Bytes::from_static(b"123456"));
		assert!(matches!(
			collect_capped(body, 5).await,
			Err(CappedBodyError::TooLarge { limit: 5 })
		));
	}

	#[tokio::test]
	async fn reads_an_undeclared_stream_within_the_limit() {
		let body = Chunked(VecDeque::from([Bytes::from_static(b"12"), Bytes::from_static(b"345")]));
		assert_eq!(collect_capped(body, 5).await.unwrap(), b"12345");
	}

	#[tokio::test]
	async fn refuses_an_undeclared_stream_once_it_crosses_the_limit() {
		let body =
			Chunked(VecDeque::from([Bytes::from_static(b"123"), Bytes::from_static(b"456")]));
		assert!(matches!(
			collect_capped(body, 5).await,
			Err(CappedBodyError::TooLarge { limit: 5 })
		));
	}
}
