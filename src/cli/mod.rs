//! The command line: `args` is what the user typed, `config` what the run
//! needs.

pub mod args;
pub mod config;
