//! Replays every fuzz corpus input and every saved crash through the same
//! entry points the fuzz targets use (`netpeek::fuzzing`), so `make test`
//! keeps what fuzzing found fixed without needing the fuzzer.

use std::path::Path;

use crate::support::api::fuzzing;
use crate::support::{corpus_files, repo, shipped_captures};

fn replay(target: &str, f: fn(&[u8])) -> usize {
    let mut n = 0;
    for dir in ["fuzz/corpus", "fuzz/regressions"] {
        let d = repo().join(dir).join(target);
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.extension().is_some_and(|e| e == "md") {
                continue;
            }
            let data = std::fs::read(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let result = std::panic::catch_unwind(|| f(&data));
            assert!(
                result.is_ok(),
                "{target}: input {} panicked",
                Path::new(dir).join(target).join(name).display()
            );
            n += 1;
        }
    }
    n
}

#[test]
fn decode_frame_corpus() {
    assert!(replay("decode_frame", fuzzing::decode_frame) > 50);
}

#[test]
fn read_file_corpus() {
    assert!(replay("read_file", fuzzing::read_file) > 3);
}

#[test]
fn track_segments_corpus() {
    assert!(replay("track_segments", fuzzing::track_segments) > 0);
}

#[test]
fn http_stream_corpus() {
    assert!(replay("http_stream", fuzzing::http_stream) > 5);
}

/// The read_file target's checks (every output, the pcapng copy read back
/// frame for frame) hold on real captures too: the shipped ones and the
/// corpus.
#[test]
fn read_file_on_real_captures() {
    let mut files = shipped_captures();
    files.extend(corpus_files());
    for p in &files {
        let data = std::fs::read(p).unwrap();
        let result = std::panic::catch_unwind(|| fuzzing::read_file(&data));
        assert!(result.is_ok(), "{} panicked", p.display());
    }
    assert!(!files.is_empty());
}
