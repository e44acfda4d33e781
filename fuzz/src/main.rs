//! `etr-fuzz`: run a fuzz target for a number of cases or minutes, or replay saved cases.
//!
//! ```text
//! etr-fuzz <spec|lsp|lsp-protocol|data|kill> [--seed S] [--start I] [--iterations N | --minutes M]
//!          [--save-to DIR | --no-save] [--quiet]
//! etr-fuzz replay <case.json>...
//! ```
//! New failures are minimised and saved under `fuzz/findings/<target>/` (or `--save-to`); the
//! exit status is 1 when a campaign met a failure not saved before, or a replayed case fails.
//! `child-run` and `child-lsp` are the stand-ins for `etr run` and `etr lsp` (see `child.rs`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use etr_fuzz::campaign::{self, Length, Plan, Report};
use etr_fuzz::child::{self, Launcher};
use etr_fuzz::{Target, store};

const USAGE: &str = "usage: etr-fuzz <spec|lsp|lsp-protocol|data|kill> [--seed S] [--start I] [--iterations N | --minutes M] [--save-to DIR | --no-save] [--quiet]\n       etr-fuzz replay <case.json>...";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    match command.as_str() {
        "child-run" => ExitCode::from(child::child_run(rest) as u8),
        "child-lsp" => ExitCode::from(child::child_lsp() as u8),
        "replay" => replay(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        target => match parse_plan(target, rest) {
            Ok(plan) => run_campaign(target, &plan),
            Err(e) => {
                eprintln!("error: {e}\n{USAGE}");
                ExitCode::from(2)
            }
        },
    }
}

fn launcher() -> Launcher {
    let own = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("etr-fuzz"));
    Launcher::find(&own)
}

fn parse_plan(target: &str, args: &[String]) -> Result<Plan, String> {
    let mut plan = Plan::new(1, Length::Iterations(100));
    plan.save_to = Some(store::fuzz_root().join("findings"));
    plan.progress_every = Some(Duration::from_secs(10));
    plan.known = store::open_kinds(&store::fuzz_root(), target);
    let mut iter = args.iter();
    let number = |value: Option<&String>, flag: &str| -> Result<f64, String> {
        value.and_then(|v| v.parse::<f64>().ok()).ok_or(format!("{flag} needs a number"))
    };
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--seed" => plan.seed = number(iter.next(), "--seed")? as u64,
            "--start" => plan.start = number(iter.next(), "--start")? as u64,
            "--iterations" => plan.length = Length::Iterations(number(iter.next(), "--iterations")? as u64),
            "--minutes" => {
                plan.length = Length::Time(Duration::from_secs_f64(number(iter.next(), "--minutes")? * 60.0))
            }
            "--save-to" => plan.save_to = Some(PathBuf::from(iter.next().ok_or("--save-to needs a folder")?)),
            "--no-save" => plan.save_to = None,
            "--quiet" => plan.progress_every = None,
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(plan)
}

fn run_campaign(target: &str, plan: &Plan) -> ExitCode {
    let report: Report = match target {
        "spec" => go(etr_fuzz::spec::SpecTarget::load(), plan),
        "lsp" => go(etr_fuzz::ide::IdeTarget::load(), plan),
        "lsp-protocol" => {
            let launcher = launcher();
            eprintln!("[lsp-protocol] serving with {}", launcher.describe());
            go(etr_fuzz::protocol::ProtocolTarget::new(launcher), plan)
        }
        "data" => go(etr_fuzz::data::DataTarget::load(), plan),
        "kill" => {
            if let Some(why) = etr_fuzz::kill::unavailable() {
                eprintln!("error: {why}");
                return ExitCode::from(2);
            }
            let launcher = launcher();
            eprintln!("[kill] running {}", launcher.describe());
            go(etr_fuzz::kill::KillTarget::new(launcher), plan)
        }
        other => {
            eprintln!("error: unknown target `{other}`\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    print!("{}", report.render());
    if report.new_findings().is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn go<T: Target>(target: T, plan: &Plan) -> Report {
    if std::env::var_os("ETR_FUZZ_LIST").is_some() {
        // Lists the inputs instead of checking them (what a seed generates).
        let Length::Iterations(n) = plan.length else { panic!("ETR_FUZZ_LIST needs --iterations") };
        for i in plan.start..plan.start + n {
            let input = target.generate(&mut etr_fuzz::rng::Rng::for_case(plan.seed, i));
            let json = target.input_to_json(&input).to_string();
            println!("{i}: {} bytes of JSON: {}", json.len(), json.chars().take(300).collect::<String>());
        }
        std::process::exit(0);
    }
    eprintln!("[{}] seed {}, from iteration {}, {:?}", target.name(), plan.seed, plan.start, plan.length);
    campaign::run(Arc::new(target), plan)
}

fn replay(paths: &[String]) -> ExitCode {
    if paths.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let launcher = launcher();
    let mut failed = 0;
    for path in paths {
        let outcome = store::load(std::path::Path::new(path)).map_err(|e| etr_fuzz::Failure::new("unreadable case", e));
        match outcome.and_then(|case| {
            let verdict = campaign::replay(&case, &launcher);
            println!("{path}: saved as `{}`", case.failure);
            verdict
        }) {
            Ok(stats) => println!("{path}: passes ({} checks held)", stats.oracles.values().sum::<u64>()),
            Err(failure) => {
                failed += 1;
                println!("{path}: FAILS: {}\n{}", failure.kind, failure.detail);
            }
        }
    }
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
