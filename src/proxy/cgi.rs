//! The built-in Git backend: `git http-backend` run as a CGI process per request (to be written).
