//! Parity on the capture corpus (`tests/fixtures/corpus`): TCP analysis
//! and HTTP exchanges against tshark and the shipped oracles, `--follow`,
//! `--har` and the ECS fields of `--json` on every capture, and the golden
//! files of the rendered views.

mod support;

#[path = "corpus/ecs.rs"]
mod ecs;
#[path = "corpus/follow.rs"]
mod follow;
#[path = "corpus/golden.rs"]
mod golden;
#[path = "corpus/har.rs"]
mod har;
#[path = "corpus/http.rs"]
mod http;
#[path = "corpus/tcp.rs"]
mod tcp;
