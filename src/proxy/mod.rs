//! The HTTP side: accepting connections, the request handler, forwarding, and turning
//! rejections into responses.

pub mod body;
pub mod cgi;
