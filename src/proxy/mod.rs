//! The HTTP side: accepting connections, the request handler, forwarding, and turning
//! rejections into responses.

pub mod admission;
pub mod backend;
pub mod body;
pub mod cgi;
pub mod first_byte;
pub mod framing;
pub mod gate;
pub mod headers;
pub mod http1;
pub mod lfs;
pub mod log;
pub mod measure;
pub mod prepare;
pub mod refcheck;
pub mod rejection;
mod reserved;
pub mod served;
pub mod server;
pub mod settle;
pub mod upstream;
