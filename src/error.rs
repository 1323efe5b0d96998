//! Setup and I/O errors: what failed, on what, and what to do about it.
//!
//! Problems in the traffic itself are never errors; they are annotations on
//! the packets (see `decode::DecodeIssue`, `track`, `dissect`). Everything here
//! ends the run with one line on stderr.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The command line was inconsistent in a way clap could not catch.
    #[error("{0}")]
    Usage(String),

    #[error("cannot open {path}: {}", io_msg(source), path = path.display())]
    OpenInput { path: PathBuf, source: io::Error },

    #[error("cannot read {path}: {}", io_msg(source), path = display_input(path))]
    ReadInput { path: PathBuf, source: io::Error },

    #[error("{path}: {msg}", path = display_input(path))]
    NotACapture { path: PathBuf, msg: String },

    /// The file is damaged at `offset`; every frame before it was delivered.
    #[error("{path}: {msg} (at byte offset {offset}, after frame {frames_read}); the frames before it were read", path = display_input(path))]
    Corrupt {
        path: PathBuf,
        offset: u64,
        frames_read: u64,
        msg: String,
    },

    #[error("invalid filter expression '{expr}': {msg}")]
    Filter { expr: String, msg: String },

    #[error("{0}")]
    Interface(String),

    #[error("{0}")]
    Permission(String),

    #[error("live capture on {iface} failed: {msg}")]
    Capture { iface: String, msg: String },

    #[error("cannot write {path}: {}", io_msg(source), path = display_output(path))]
    Output { path: PathBuf, source: io::Error },

    #[error("{0}")]
    Other(String),
}

impl Error {
    /// The process exit code for this error: 2 for usage errors, 1 otherwise
    /// (as tcpdump does).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }

    /// True when the error is a closed pipe on stdout (`netpeek … | head`),
    /// which ends the run quietly and successfully.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            Error::Output { path, source } => {
                source.kind() == io::ErrorKind::BrokenPipe && path.as_os_str() == "-"
            }
            _ => false,
        }
    }
}

/// An I/O error in words, without Rust's "(os error N)" suffix.
pub fn io_msg(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn display_input(path: &std::path::Path) -> String {
    if path.as_os_str() == "-" {
        "standard input".to_string()
    } else {
        path.display().to_string()
    }
}

fn display_output(path: &std::path::Path) -> String {
    if path.as_os_str() == "-" {
        "standard output".to_string()
    } else {
        path.display().to_string()
    }
}
