//! The command line as a user meets it: errors and exit codes, everyday
//! conveniences (compressed input, rotation, logging, progress), capture
//! and input checked against tcpdump and tshark, and hostile input and
//! faults during capture.

mod support;

#[path = "cli/errors.rs"]
mod errors;
#[path = "cli/everyday.rs"]
mod everyday;
#[path = "cli/foundation.rs"]
mod foundation;
#[path = "cli/robustness.rs"]
mod robustness;
