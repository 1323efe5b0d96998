//! What a test needs from the machine (root, tshark, tcpdump, nginx, other
//! programs, an IPv6 loopback), and what happens when it is missing. Under
//! CI (the environment variable `CI` set, as `.ci/run` does) a missing
//! requirement fails the test: CI must assert everything. Elsewhere the
//! test prints `SKIPPED <test>: <why>` on the process's stderr, past
//! libtest's output capture so that it shows even for a passing test, and
//! returns. No test may skip without saying so.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Something a test cannot run without.
#[derive(Clone, Copy, Debug)]
pub enum Need {
    /// Live capture on `lo`, network namespaces, mounts, other users.
    Root,
    /// The oracle for TCP analysis, HTTP, follow and pcapng reading.
    Tshark,
    /// The oracle for packet lines, filters and what libpcap reads.
    Tcpdump,
    /// The HTTP server of the live tests (started on a free port).
    Nginx,
    /// Another program on `PATH` (wrk, script, nft, setcap, curl, …).
    Program(&'static str),
    /// An address on `::1` to listen on.
    Ipv6Loopback,
}

impl Need {
    fn available(self) -> bool {
        match self {
            Need::Root => is_root(),
            Need::Tshark => on_path("tshark").is_some(),
            Need::Tcpdump => on_path("tcpdump").is_some(),
            Need::Nginx => super::nginx::nginx_path().is_some(),
            Need::Program(p) => on_path(p).is_some(),
            Need::Ipv6Loopback => std::net::TcpListener::bind("[::1]:0").is_ok(),
        }
    }

    fn why(self) -> String {
        match self {
            Need::Root => "needs root (live capture)".into(),
            Need::Tshark => "needs tshark (make deps installs it)".into(),
            Need::Tcpdump => "needs tcpdump (make deps installs it)".into(),
            Need::Nginx => "needs nginx (make deps installs it)".into(),
            Need::Program(p) => format!("needs {p} on PATH (make deps installs it)"),
            Need::Ipv6Loopback => "needs an IPv6 loopback address (::1)".into(),
        }
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Where `program` is on `PATH`, if it is there and executable.
pub fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| executable(p))
}

/// True when the test may use `need`. When it is missing: fails the test
/// under CI, otherwise prints `SKIPPED` and returns false (the test then
/// returns).
#[track_caller]
pub fn require(need: Need) -> bool {
    need.available() || {
        unavailable(&need.why());
        false
    }
}

/// [`require`] for one part of a test (the rest of the test has run):
/// the `SKIPPED` line names the part.
#[track_caller]
pub fn require_part(need: Need, part: &str) -> bool {
    need.available() || {
        unavailable(&format!("{part} {}", need.why()));
        false
    }
}

/// Reports that the test (or a part of it) cannot run here, for what only
/// trying shows (mounting a tmpfs, creating a veth pair): fails under CI,
/// otherwise prints `SKIPPED <test>: <why>`.
#[track_caller]
pub fn unavailable(why: &str) {
    let test = current_test();
    if in_ci() {
        panic!("{test}: {why}; CI is set, so this is a failure, not a skip");
    }
    // Straight to the process's stderr: libtest captures only the print
    // macros, and a skip must show although the test passes.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {why} [with CI set, this fails]"
    );
}

/// Whether the environment variable `CI` is set (to anything but "").
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// The running test's name: libtest runs each test on a thread named
/// after it.
fn current_test() -> String {
    std::thread::current()
        .name()
        .unwrap_or("an unnamed test")
        .to_string()
}

/// An executable regular file.
pub fn executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
