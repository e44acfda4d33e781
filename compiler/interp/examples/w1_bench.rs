//! Times `eval_batch` over a synthetic W1 workload: 1,000,000 JCL lines (about 2% with a defect),
//! generated in memory, evaluated with the compiled `jcl.etr` program in batches of 65,536
//! lines, single-threaded.
//!
//! `cargo run --release -p etr-interp --example w1_bench [lines] [rounds]`

use std::sync::Arc;
use std::time::Instant;

use etr_interp::test_support::split_batch;
use etr_interp::{AggregateStates, Interpreter};
use etr_tests::jcl_program;

/// A small deterministic generator (xorshift64*), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn money(sen: u64) -> String {
    format!("{}.{:02}", sen / 100, sen % 100)
}

/// Line `n` of the workload; `states` are the state names JCL writes.
fn line(rng: &mut Rng, n: u64, states: &[&str]) -> String {
    let (yy, mm, dd) = (1950 + rng.below(55), 1 + rng.below(12), 1 + rng.below(28));
    let pb = 1 + rng.below(16);
    let mut nric = format!("{:02}{mm:02}{dd:02}{pb:02}{:04}", yy % 100, rng.below(10_000));
    let defect = rng.below(50) == 0;
    let kind = if defect { rng.below(6) } else { 99 };
    if kind == 0 {
        nric.replace_range(6..8, "17");
    }
    let (pay, dpd) = match rng.below(10) {
        0..=6 => ("CURRENT", 0),
        7 => ("1-30", 15),
        8 => ("31-60", 45),
        _ => ("61-90", 75),
    };
    let pay = if kind == 1 { "LATE" } else { pay };
    let bal = rng.below(5_000_000);
    let due = bal / 3;
    let od = if dpd > 0 { due / 2 } else { 0 };
    let open =
        if kind == 2 { "31/02/2021".to_string() } else { format!("{:02}/{:02}/20{:02}", dd, mm, 10 + rng.below(14)) };
    let name = if kind == 3 {
        String::new()
    } else {
        format!("{} BIN {}", rng.pick(&["SITI", "TAN", "NURUL", "AHMAD"]), rng.pick(&["ISMAIL", "KAUR", "WEI MING"]))
    };
    let fields = [
        format!("JCL{n:010}"),
        name,
        "IC".into(),
        if n.is_multiple_of(3) { format!("{}-{}-{}", &nric[..6], &nric[6..8], &nric[8..]) } else { nric.clone() },
        String::new(),
        format!("{dd:02}/{mm:02}/{yy}"),
        rng.pick(&["L", "P", ""]).into(),
        "MY".into(),
        format!("{} JLN MAWAR {}", rng.below(200), rng.below(30)),
        format!("{:05}", rng.below(100_000)),
        rng.pick(states).into(),
        "INDV".into(),
        rng.pick(&["TEL", "UTL", "BNPL", "LSE", "COOP", "P2P", "TRD"]).into(),
        "POSTPAID".into(),
        rng.pick(&["P", "J", "G"]).into(),
        open,
        money(rng.below(10_000_000)),
        "30".into(),
        String::new(),
        String::new(),
        "IDF".into(),
        "CLE".into(),
        "30/06/2025".into(),
        if kind == 4 { format!("-{}", money(bal)) } else { money(bal) },
        money(due),
        money(od),
        "0.00".into(),
        "0.00".into(),
        "0.00".into(),
        "0.00".into(),
        dpd.to_string(),
        pay.into(),
        "A".into(),
        "05/11/2021".into(),
        "23/05/2025".into(),
        money(rng.below(200_000)),
        "0.00".into(),
        String::new(),
        "202506".into(),
        "U".into(),
        "JCL".into(),
    ];
    let mut text = fields.join("|");
    if kind == 5 {
        // A short line: the field-count rule.
        text.truncate(text.rfind('|').unwrap_or(0));
    }
    text
}

fn main() {
    let total: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let rounds: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(3);
    let program = jcl_program();
    // The state names JCL writes: the keys of the spec's `states` table.
    let states: Vec<String> = program
        .tables
        .iter()
        .filter(|table| table.name == "states")
        .flat_map(|table| &table.entries)
        .filter_map(|(key, _)| match key {
            etr_ir::Literal::Text(name) => Some(name.clone()),
            _ => None,
        })
        .collect();
    let states: Vec<&str> = states.iter().map(String::as_str).collect();
    assert_eq!(states.len(), 16, "JCL's states table");
    let interp = match Interpreter::new(Arc::new(program)) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("cannot prepare the program: {e}");
            std::process::exit(1);
        }
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let lines: Vec<String> = (0..total as u64).map(|n| line(&mut rng, n, &states)).collect();
    let batch_size = 65_536;
    let batches: Vec<_> = lines
        .chunks(batch_size)
        .enumerate()
        .map(|(k, chunk)| {
            let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
            split_batch(&refs, 2 + (k * batch_size) as u64, 41)
        })
        .collect();
    for round in 0..rounds {
        let start = Instant::now();
        let mut violations = 0;
        let mut rejected = 0;
        let mut aggregates = AggregateStates::new(interp.program());
        for batch in &batches {
            let result = match interp.eval_batch(batch) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("eval_batch failed: {e}");
                    std::process::exit(1);
                }
            };
            violations += result.violations.len();
            rejected += result.rejected.iter().filter(|r| **r).count();
            if let Err(e) = aggregates.merge(&result.aggregates) {
                eprintln!("merge failed: {e}");
                std::process::exit(1);
            }
        }
        let elapsed = start.elapsed();
        println!(
            "round {round}: {total} lines in {:.3} s ({:.0} ns/line); {violations} violations, {rejected} rejected lines, aggregates {:?}",
            elapsed.as_secs_f64(),
            elapsed.as_nanos() as f64 / total as f64,
            aggregates.values()
        );
    }
}
