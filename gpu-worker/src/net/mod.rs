//! Networking shared by the store service, the store client and the fetcher.
//!
//! - [`body`]: reads an HTTP body into memory with a hard size cap.
//! - [`client`]: a small one-request-per-connection HTTP/1.1 client over TCP or TLS (rustls with
//!   the `ring` provider; trust roots from the operating system unless given explicitly).

pub mod body;
pub mod client;

pub use body::{collect_capped, CappedBodyError};
pub use client::{CertificateDer, HttpClient, HttpError, HttpResponse};
