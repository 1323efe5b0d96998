//! An nginx started by a test: a configuration written to a temporary
//! directory, serving files from it on 127.0.0.1 (and ::1) at a free high
//! port, stopped (and its files removed) on drop.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::ChildGuard;

/// Where nginx is installed, if it is.
pub fn nginx_path() -> Option<PathBuf> {
    for p in [
        "/usr/sbin/nginx",
        "/usr/local/sbin/nginx",
        "/usr/local/nginx/sbin/nginx",
    ] {
        if Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    let out = Command::new("sh")
        .args(["-c", "command -v nginx"])
        .output()
        .ok()?;
    let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!p.is_empty()).then(|| PathBuf::from(p))
}

pub struct Nginx {
    _child: ChildGuard,
    pub port: u16,
    pub www: PathBuf,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// Starts nginx (also on [::1] when `v6`). A test first checks
    /// `require(Need::Nginx)`.
    pub fn start(v6: bool) -> Self {
        let bin = nginx_path().expect("nginx is installed (make deps installs it)");
        let dir = tempfile::tempdir().expect("tempdir");
        let www = dir.path().join("www");
        std::fs::create_dir_all(&www).expect("www");
        std::fs::create_dir_all(dir.path().join("body")).expect("body temp");
        let port = super::free_port();
        let d = dir.path().display();
        let listen6 = if v6 {
            format!("listen [::1]:{port};")
        } else {
            String::new()
        };
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\nevents {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  default_type text/plain;\n  client_body_temp_path {d}/body;\n\
             \x20 server {{\n    listen 127.0.0.1:{port};\n    {listen6}\n    root {d}/www;\n\
             \x20   gzip on;\n    gzip_types text/plain;\n    gzip_min_length 1;\n\
             \x20   if_modified_since before;\n\
             \x20   location = /echo {{ return 200 \"posted\\n\"; }}\n  }}\n}}\n"
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        let child = Command::new(&bin)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let mut guard = ChildGuard(Some(child));
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline || guard.child().try_wait().ok().flatten().is_some() {
                let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
                panic!("nginx did not start on port {port}; error.log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            _child: guard,
            port,
            www,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn file(&self, name: &str, content: &[u8]) {
        std::fs::write(self.www.join(name), content).expect("write file");
    }
}
