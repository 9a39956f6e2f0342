//! Networking shared by the HTTP services, the store client and the fetcher.
//!
//! - [`accept`]: the accept loop of the HTTP services, with a bound on connections.
//! - [`body`]: reads an HTTP body into memory with a hard size cap.
//! - [`client`]: a small one-request-per-connection HTTP/1.1 client over TCP or TLS (rustls with
//!   the `ring` provider; trust roots from the operating system unless given explicitly).

pub mod accept;
pub mod body;
pub mod client;

pub use accept::accept_loop;
pub use body::{collect_capped, CappedBodyError};
pub use client::{CertificateDer, HttpClient, HttpError, HttpResponse};
