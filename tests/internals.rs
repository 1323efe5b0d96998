//! The run's internals seen from outside: the stages' two ways of passing
//! bytes, and the replay of every fuzz corpus input and saved crash.

mod support;

#[path = "internals/fuzz_replay.rs"]
mod fuzz_replay;
#[path = "internals/stages.rs"]
mod stages;
