//! The passes a spec needs over its input file, as a value: the run executes it pass by pass
//! (`passes::execute`), and `etr explain` prints it.
//!
//! Why a spec may need more than one pass: a row that compares with a file aggregate
//! (`x > 3 * median(X)`) can only be judged once the whole file has been read, and a `unique`
//! check rejects every copy of a duplicated key, the first one included, so the writing pass must
//! know the duplicated keys before it writes the first line. Reading the file again costs less
//! than holding its rows, and keeps memory flat. A spec with neither reads its file once.

use std::fmt;
use std::sync::Arc;

use etr_interp::Interpreter;
use etr_ir::Program;

use crate::error::{Result, RuntimeError};
use crate::output::feedback::FEEDBACK_FILE;
use crate::output::{ACCEPTED_FILE, REJECTS_FILE, WARNINGS_FILE};

/// The sweeps over the input file a spec needs, in the order they run. The last is always
/// [`Pass::Write`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassPlan {
    passes: Vec<Pass>,
}

/// One sweep over the input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pass {
    /// Evaluates every line for the file's aggregates, which row expressions then read.
    Aggregates,
    /// Evaluates only what the keys of the `unique` checks read and counts every key, then reads
    /// again, and evaluates fully, the few lines whose key it counted more than once: this tells
    /// the lines each check rejects (see `passes::keys`).
    Keys {
        /// The source columns the keys read, the only ones this pass splits.
        columns: Vec<bool>,
    },
    /// Evaluates every line, writes the output files, and judges the file checks at the end.
    Write,
}

impl PassPlan {
    /// The passes `interpreter`'s program needs.
    pub(crate) fn new(interpreter: &Interpreter) -> PassPlan {
        let mut passes = Vec::with_capacity(3);
        if interpreter.rows_read_aggregates() {
            passes.push(Pass::Aggregates);
        }
        if !interpreter.program().unique_checks.is_empty() {
            passes.push(Pass::Keys { columns: interpreter.key_columns() });
        }
        passes.push(Pass::Write);
        PassPlan { passes }
    }

    /// The passes `program` needs, for a caller that does not run it (`etr explain`).
    pub fn for_program(program: Arc<Program>) -> Result<PassPlan> {
        let interpreter = Interpreter::new(program).map_err(|e| RuntimeError::Internal(e.to_string()))?;
        Ok(PassPlan::new(&interpreter))
    }

    /// The passes, in the order they run.
    pub fn passes(&self) -> &[Pass] {
        &self.passes
    }

    /// How many times the input file is read from its start.
    pub fn len(&self) -> u8 {
        self.passes.len() as u8
    }

    /// Always false: every plan ends with [`Pass::Write`].
    pub fn is_empty(&self) -> bool {
        self.passes.is_empty()
    }

    /// The plan as `etr explain` shows it, one line per pass, in `program`'s terms.
    pub fn display<'a>(&'a self, program: &'a Program) -> impl fmt::Display + 'a {
        PlanText { plan: self, program }
    }
}

struct PlanText<'a> {
    plan: &'a PassPlan,
    program: &'a Program,
}

impl fmt::Display for PlanText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let program = self.program;
        let count = self.plan.len();
        for (number, pass) in (1..).zip(&self.plan.passes) {
            write!(f, "pass {number} of {count}, ")?;
            match pass {
                Pass::Aggregates => writeln!(
                    f,
                    "aggregates: every line, for the file's {} aggregate(s), which rows compare with",
                    program.aggregates.len()
                )?,
                Pass::Keys { columns } => {
                    let checks: Vec<String> = program
                        .unique_checks
                        .iter()
                        .map(|check| format!("{} on {}", program.rule_id(check.rule), check.target))
                        .collect();
                    let read: Vec<String> = program
                        .source
                        .columns
                        .iter()
                        .zip(columns)
                        .filter(|(_, read)| **read)
                        .map(|(name, _)| format!("${name}"))
                        .collect();
                    writeln!(
                        f,
                        "keys: the keys of unique check(s) {}, from {} of {} columns ({}); then the lines whose \
                         key is counted twice, read again and evaluated fully",
                        checks.join(", "),
                        read.len(),
                        columns.len(),
                        read.join(", ")
                    )?;
                }
                Pass::Write => writeln!(
                    f,
                    "write: every line, into {ACCEPTED_FILE}, {REJECTS_FILE}, {WARNINGS_FILE} and {FEEDBACK_FILE}; \
                     then the file checks"
                )?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use etr_interp::test_support::*;
    use etr_ir::{Binding, Builtin, Slot, TypeKind, UniqueCheck};

    use super::*;

    /// Columns `id` and `amount`; `id` becomes field 0 (text), `amount` field 1 (an int).
    fn two_columns() -> Program {
        let mut p = program(&["id", "amount"]);
        p.record.fields.push(field_def("id", TypeKind::Text));
        p.record.fields.push(field_def("amount", TypeKind::Int));
        p.bindings.push(Binding { target: Slot::Field(idx(0)), expr: column(0) });
        p.bindings.push(Binding {
            target: Slot::Field(idx(1)),
            expr: fallible(Builtin::ParseInt, column(1), TypeKind::Int, or_default(null_lit(TypeKind::Int))),
        });
        p
    }

    #[test]
    fn a_spec_without_keys_or_aggregates_in_rows_reads_its_file_once() {
        let plan = PassPlan::for_program(Arc::new(two_columns())).expect("plans");
        assert_eq!(plan.passes(), [Pass::Write]);
        assert_eq!(plan.len(), 1);
    }

    #[test]
    fn a_unique_check_adds_a_key_pass_over_the_key_columns_only() {
        let mut p = two_columns();
        p.rules.push(rule("D1", etr_ir::Severity::Reject));
        p.unique_checks.push(UniqueCheck { rule: idx(1), target: "id".to_owned(), key: vec![idx(0)], when: None });
        let plan = PassPlan::for_program(Arc::new(p.clone())).expect("plans");
        assert_eq!(plan.passes(), [Pass::Keys { columns: vec![true, false] }, Pass::Write]);
        let text = plan.display(&p).to_string();
        assert!(
            text.starts_with("pass 1 of 2, keys: the keys of unique check(s) D1 on id, from 1 of 2 columns ($id)"),
            "{text}"
        );
        assert!(text.contains("\npass 2 of 2, write: "), "{text}");
    }
}
