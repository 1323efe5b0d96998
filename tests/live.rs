//! Live capture on the loopback interface (root; CI runs as root): counts,
//! signals and interfaces, HTTP with real peers (python3, nginx, curl),
//! how TCP connections end and real loss in a namespace of the test's own,
//! and the timeline on a pseudo-terminal.

mod support;

#[path = "live/capture.rs"]
mod capture;
#[path = "live/http.rs"]
mod http;
#[path = "live/tcp.rs"]
mod tcp;
#[path = "live/terminal.rs"]
mod terminal;
