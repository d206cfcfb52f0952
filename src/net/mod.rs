//! The ground floor of the network pieces both sides use: where a URL points (`target`), TLS
//! for clients and servers (`tls`), opening a connection (`connect`), the client's upgrade
//! exchange (`upgrade`), the server's side of HTTP (`http`), how a WebSocket ended (`close`),
//! and a stream that shows what it reads (`tap`). It judges nothing: the checks above it do.

pub mod close;
pub mod connect;
pub mod http;
pub mod tap;
pub mod target;
pub mod tls;
pub mod upgrade;
