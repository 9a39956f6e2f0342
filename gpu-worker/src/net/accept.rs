//! The accept loop of the worker's HTTP services (the content store, the OpenAI-compatible API).

use std::{future::Future, sync::Arc, time::Duration};
use tokio::{
	net::{TcpListener, TcpStream},
	sync::Semaphore,
};

/// Accepts connections on `listener` until `shutdown` completes, serving each on its own task
/// with `serve`; at most `max_connections` at once. A slot is taken before accepting, so when
/// all are in use new clients wait in the kernel's backlog instead of costing memory here.
/// Connections already accepted finish on their own tasks. `name` labels accept errors.
pub async fn accept_loop<F, Fut>(
	listener: &TcpListener,
	max_connections: usize,
	name: &str,
	shutdown: impl Future<Output = ()>,
	serve: F,
) where
	F: Fn(TcpStream) -> Fut,
	Fut: Future<Output = ()> + Send + 'static,
{
	let slots = Arc::new(Semaphore::new(max_connections.max(1)));
	tokio::pin!(shutdown);
	loop {
		let permit = tokio::select! {
			() = &mut shutdown => return,
			permit = slots.clone().acquire_owned() => match permit {
				Ok(permit) => permit,
				// The semaphore is never closed; stop rather than spin if it were.
				Err(_) => return,
			},
		};
		let stream = tokio::select! {
			() = &mut shutdown => return,
			accepted = listener.accept() => match accepted {
				Ok((stream, _peer)) => stream,
				Err(e) => {
					// Out of file descriptors and the like: back off briefly rather than spin
					// on an error that persists until some connection closes.
					eprintln!("{name}: accept failed: {e}");
					tokio::time::sleep(Duration::from_millis(100)).await;
					continue;
				},
			},
		};
		let connection = serve(stream);
		tokio::spawn(async move {
			connection.await;
			drop(permit);
		});
	}
}
