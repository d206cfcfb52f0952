//! A byte stream that shows every byte it reads to an ear and passes everything through: how
//! the TLS check keeps the first bytes a server sends, and how the close sniffer reads the
//! peer's close frame off the wire beneath the WebSocket library.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What hears the bytes a `Tapped` stream reads, in order, however they are chunked.
pub(crate) trait Ear: Send {
    fn hear(&mut self, bytes: &[u8]);
}

/// `inner`, with its reads also given to the shared ear, which others keep to ask it later.
pub(crate) struct Tapped<S, E> {
    inner: S,
    ear: Arc<Mutex<E>>,
}

impl<S, E> Tapped<S, E> {
    pub(crate) fn new(inner: S, ear: Arc<Mutex<E>>) -> Self {
        Self { inner, ear }
    }
}

impl<S: AsyncRead + Unpin, E: Ear> AsyncRead for Tapped<S, E> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Ok(mut ear) = self.ear.lock() {
            ear.hear(&buf.filled()[before..]);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin, E: Ear> AsyncWrite for Tapped<S, E> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
