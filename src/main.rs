//! The netpeek binary: arguments → configuration → run → exit code.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use netpeek::cli::args::Args;
use netpeek::cli::config::Config;
use netpeek::pipeline;

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netpeek: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => log::LevelFilter::Warn,
        1 => log::LevelFilter::Info,
        2 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    };
    let mut b = env_logger::Builder::new();
    b.filter_level(level).format(|buf, rec| {
        use std::io::Write;
        writeln!(
            buf,
            "netpeek: {}: {}",
            rec.level().as_str().to_lowercase(),
            rec.args()
        )
    });
    if let Ok(spec) = std::env::var("RUST_LOG") {
        b.parse_filters(&spec);
    }
    b.target(env_logger::Target::Stderr).init();
}

fn run(args: &Args) -> Result<(), netpeek::Error> {
    init_logging(args.verbose);
    if let Some(shell) = args.completions {
        let mut cmd = Args::command();
        clap_complete::generate(shell, &mut cmd, "netpeek", &mut std::io::stdout());
        return Ok(());
    }
    if args.generate_man {
        let man = clap_mangen::Man::new(Args::command());
        man.render(&mut std::io::stdout())
            .map_err(|source| netpeek::Error::Output {
                path: "-".into(),
                source,
            })?;
        return Ok(());
    }
    if args.list_interfaces {
        for line in netpeek::source::live::list_interfaces()? {
            println!("{line}");
        }
        return Ok(());
    }
    let cfg = Config::from_args(args)?;
    let interrupt = pipeline::install_signal_flag();
    let outcome = pipeline::run(&cfg, interrupt)?;
    if outcome.live {
        let s = &outcome.stats;
        let c = s.capture.unwrap_or_default();
        eprintln!(
            "{} packet{} captured",
            s.frames_shown,
            plural(s.frames_shown)
        );
        eprintln!(
            "{} packet{} received by filter",
            c.received,
            plural(c.received)
        );
        eprintln!(
            "{} packet{} dropped by kernel",
            c.dropped,
            plural(c.dropped)
        );
        if c.if_dropped > 0 {
            eprintln!(
                "{} packet{} dropped by interface",
                c.if_dropped,
                plural(c.if_dropped)
            );
        }
    }
    Ok(())
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
