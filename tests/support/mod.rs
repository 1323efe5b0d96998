//! The one helper module of every integration-test binary: running
//! netpeek and the oracles (tcpdump, tshark), the in-repository capture
//! corpus, what a test needs from the machine ([`require`]), live-capture
//! plumbing, generated captures ([`capture`]), nginx ([`nginx`]), the TCP
//! parity harness ([`tcp`]) and the library paths the tests use ([`api`]).
#![allow(dead_code)]

pub mod api;
pub mod capture;
pub mod nginx;
mod require;
pub mod tcp;

// Each binary uses some of these.
#[allow(unused_imports)]
pub use require::{in_ci, is_root, on_path, require, require_part, unavailable, Need};

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub fn netpeek_bin() -> &'static str {
    env!("CARGO_BIN_EXE_netpeek")
}

pub fn netpeek() -> Command {
    let mut c = Command::new(netpeek_bin());
    c.env("TZ", "UTC").env_remove("NO_COLOR");
    c
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The capture corpus the tests own (`tests/fixtures/corpus`: public
/// captures, their MANIFEST, licences and the tshark/tcpdump oracles). It
/// is part of the repository, so its absence is a broken checkout and
/// fails the test everywhere.
pub fn corpus_dir() -> PathBuf {
    let d = repo().join("tests/fixtures/corpus");
    assert!(
        d.join("oracle").is_dir(),
        "{} is missing: the corpus is part of the repository",
        d.display()
    );
    d
}

/// The capture files of the corpus, sorted: exactly the files its
/// MANIFEST.tsv lists.
pub fn corpus_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("read corpus dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            n.ends_with(".pcap") || n.ends_with(".pcapng")
        })
        .collect();
    v.sort();
    let manifest = std::fs::read_to_string(corpus_dir().join("MANIFEST.tsv")).unwrap();
    let mut listed: Vec<&str> = manifest
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .filter(|f| !f.is_empty())
        .collect();
    listed.sort_unstable();
    let names: Vec<String> = v.iter().map(|p| name(p)).collect();
    assert_eq!(names, listed, "corpus files and MANIFEST.tsv disagree");
    v
}

/// The shipped captures in `captures/`.
pub fn shipped_captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("captures"))
        .expect("captures dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            n.ends_with(".pcap") || n.ends_with(".pcapng")
        })
        .collect();
    v.sort();
    v
}

pub fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"))
}

/// tshark with default preferences (as the oracles were made).
pub fn tshark() -> Command {
    let mut c = Command::new("tshark");
    let dir = std::env::temp_dir().join("netpeek-tshark-empty-config");
    std::fs::create_dir_all(&dir).unwrap();
    c.env("LC_ALL", "C")
        .env("TZ", "UTC")
        .env("WIRESHARK_CONFIG_DIR", &dir);
    c
}

/// Lines of tshark's stderr that are not its "running as root" warning.
pub fn tshark_warnings(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| !l.contains("Running as user") && !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills (SIGKILL) and reaps the child when dropped.
pub struct ChildGuard(pub Option<Child>);

impl ChildGuard {
    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().unwrap()
    }

    pub fn take(&mut self) -> Child {
        self.0.take().unwrap()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn send_signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on a child we own.
    unsafe {
        libc::kill(child.id() as i32, sig);
    }
}

/// Starts `python3 -m http.server` on 127.0.0.1:port serving `dir`, and
/// waits until it accepts connections.
pub fn python_http_server(port: u16, dir: &Path) -> ChildGuard {
    let child = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 http.server");
    let guard = ChildGuard(Some(child));
    wait_for_port(port);
    guard
}

pub fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on 127.0.0.1:{port}");
}

/// Starts netpeek on `lo` for the UDP traffic of a fresh local port:
/// `-i lo`, then `args`, then the filter. Returns netpeek, a socket bound to
/// that port (traffic sent to it is what netpeek captures) and the port.
pub fn start_udp_capture(
    args: &[&str],
    stdout_path: &Path,
) -> (LiveNetpeek, std::net::UdpSocket, u16) {
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rx.local_addr().unwrap().port();
    let port_text = port.to_string();
    let mut all = vec!["-i", "lo"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["udp", "port", &port_text]);
    (LiveNetpeek::start(&all, stdout_path), rx, port)
}

/// A running live netpeek whose stderr is read on a thread.
pub struct LiveNetpeek {
    pub guard: ChildGuard,
    stderr_lines: mpsc::Receiver<String>,
    pub stderr_seen: Vec<String>,
}

impl LiveNetpeek {
    /// Starts netpeek with `args`, stdout to `stdout_path`, and waits until
    /// it says it is listening.
    pub fn start(args: &[&str], stdout_path: &Path) -> Self {
        Self::start_with(args, stdout_path, |_| {})
    }

    /// [`LiveNetpeek::start`], with the command adjusted by `configure`
    /// before it is spawned.
    pub fn start_with(
        args: &[&str],
        stdout_path: &Path,
        configure: impl FnOnce(&mut Command),
    ) -> Self {
        let mut cmd = netpeek();
        configure(&mut cmd);
        cmd.args(args);
        Self::start_cmd(cmd, stdout_path)
    }

    /// Starts a prepared command (netpeek, or something that execs it)
    /// and waits until it says it is listening.
    pub fn start_cmd(mut cmd: Command, stdout_path: &Path) -> Self {
        let out = std::fs::File::create(stdout_path).unwrap();
        let mut child = cmd
            .stdout(out)
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn netpeek");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut me = Self {
            guard: ChildGuard(Some(child)),
            stderr_lines: rx,
            stderr_seen: Vec::new(),
        };
        me.wait_stderr("listening on", Duration::from_secs(10));
        me
    }

    pub fn wait_stderr(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(l) => {
                    self.stderr_seen.push(l.clone());
                    if l.contains(needle) {
                        return l;
                    }
                }
                Err(_) => panic!(
                    "netpeek never printed {needle:?}; stderr so far: {:?}",
                    self.stderr_seen
                ),
            }
        }
    }

    /// Sends `sig`, waits for exit (bounded), returns the exit status and
    /// the rest of stderr.
    pub fn stop(mut self, sig: i32) -> (std::process::ExitStatus, Vec<String>) {
        let mut child = self.guard.take();
        send_signal(&child, sig);
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("netpeek did not stop within 20 s of signal {sig}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(l) = self.stderr_lines.recv_timeout(Duration::from_millis(500)) {
            self.stderr_seen.push(l);
        }
        (status, self.stderr_seen)
    }
}

/// Parses NDJSON output into values.
pub fn json_lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

pub fn packets(lines: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    lines.iter().filter(|v| v["type"] == "packet").collect()
}

/// Records of a classic pcap file as (ts_ns, caplen, len, data). A
/// deliberately separate, minimal reader (not netpeek's), lenient about
/// header fields so that what libpcap wrote is always read back.
pub fn pcap_records(path: &Path) -> Vec<(i128, u32, u32, Vec<u8>)> {
    let mut b = Vec::new();
    std::fs::File::open(path)
        .unwrap()
        .read_to_end(&mut b)
        .unwrap();
    if b.len() < 24 {
        return Vec::new();
    }
    let magic = u32::from_le_bytes(b[0..4].try_into().unwrap());
    let (le, nanos) = match magic {
        0xa1b2c3d4 => (true, false),
        0xa1b23c4d => (true, true),
        0xd4c3b2a1 => (false, false),
        0x4d3cb2a1 => (false, true),
        m => panic!("not a pcap file: magic {m:08x}"),
    };
    let u32at = |o: usize| {
        let a: [u8; 4] = b[o..o + 4].try_into().unwrap();
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let mut out = Vec::new();
    let mut o = 24;
    while o + 16 <= b.len() {
        let (sec, frac, cap, len) = (u32at(o), u32at(o + 4), u32at(o + 8), u32at(o + 12));
        let end = o + 16 + cap as usize;
        if end > b.len() {
            break;
        }
        let ns = i128::from(sec) * 1_000_000_000 + i128::from(frac) * if nanos { 1 } else { 1000 };
        out.push((ns, cap, len, b[o + 16..end].to_vec()));
        o = end;
    }
    out
}

/// What tcpdump (libpcap) read from a file.
pub struct TcpdumpRead {
    pub records: Vec<(i128, u32, u32, Vec<u8>)>,
    pub success: bool,
    /// tcpdump's error message, if it failed ("tcpdump: …" stripped).
    pub error: Option<String>,
}

/// Asks tcpdump (libpcap) to read `file` with `filter` and write what it
/// read as a nanosecond pcap; returns the records.
pub fn tcpdump_read(file: &Path, filter: Option<&str>) -> TcpdumpRead {
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = Command::new("tcpdump");
    cmd.args(["--time-stamp-precision=nano", "-n", "-r"])
        .arg(file)
        .arg("-w")
        .arg(out.path());
    if let Some(f) = filter {
        cmd.arg(f);
    }
    let o = run(&mut cmd);
    let error = String::from_utf8_lossy(&o.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("tcpdump: ").map(str::to_string));
    TcpdumpRead {
        records: pcap_records(out.path()),
        success: o.status.success(),
        error,
    }
}

pub fn tcpdump_records(file: &Path, filter: Option<&str>) -> Vec<(i128, u32, u32, Vec<u8>)> {
    tcpdump_read(file, filter).records
}

/// Seconds.nanoseconds from an RFC 3339 timestamp netpeek printed.
pub fn rfc3339_to_ns(s: &str) -> i128 {
    // YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ
    let (date, rest) = s.split_once('T').unwrap();
    let mut dp = date.split('-').map(|x| x.parse::<i64>().unwrap());
    let (y, m, d) = (dp.next().unwrap(), dp.next().unwrap(), dp.next().unwrap());
    let rest = rest.trim_end_matches('Z');
    let (hms, frac) = rest.split_once('.').unwrap();
    let mut tp = hms.split(':').map(|x| x.parse::<i64>().unwrap());
    let (hh, mm, ss) = (tp.next().unwrap(), tp.next().unwrap(), tp.next().unwrap());
    // Days from civil (Howard Hinnant).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    i128::from(secs) * 1_000_000_000 + frac.parse::<i128>().unwrap()
}

/// tshark's frame.time_epoch ("1362692526.869344000") in nanoseconds.
pub fn epoch_to_ns(s: &str) -> Option<i128> {
    let (a, b) = s.split_once('.')?;
    let frac = format!("{b:0<9}");
    Some(a.parse::<i128>().ok()? * 1_000_000_000 + frac.get(..9)?.parse::<i128>().ok()?)
}
