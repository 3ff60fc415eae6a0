//! The HTTP side: accepting connections, the request handler, forwarding, and turning
//! rejections into responses.

pub mod admission;
pub mod body;
pub mod cgi;
pub mod first_byte;
pub mod framing;
pub mod gate;
pub mod headers;
pub mod log;
pub mod rejection;
pub mod route;
pub mod server;
pub mod settle;
pub mod upstream;
