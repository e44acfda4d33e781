//! The aggregates pass: every line evaluated for the file's aggregates, for a spec whose rows
//! compare with them (`x > 3 * median(X)`); the later passes read them as constants.

use std::time::Instant;

use etr_interp::{AggregateStates, Interpreter, RawBatch};

use crate::error::{Result, RuntimeError};
use crate::passes::PassContext;
use crate::passes::stream::stream;

/// Pass number `pass`: returns `interpreter` with the file's aggregates.
pub(crate) fn aggregates_pass(
    context: &mut PassContext<'_>,
    pass: u8,
    interpreter: &Interpreter,
) -> Result<Interpreter> {
    let pass_start = Instant::now();
    let mut aggregates = AggregateStates::new(context.program);
    let evaluate = |batch: &RawBatch| interpreter.eval_batch(batch);
    let facts = stream(
        context.input,
        context.dialect,
        context.config,
        context.sweep(pass, None),
        &evaluate,
        |_, _, _, result| aggregates.merge(&result.aggregates).map_err(|e| RuntimeError::Internal(e.to_string())),
    )?;
    context.same_input(facts.fingerprint, facts.input_hash.as_deref())?;
    let with_aggregates = interpreter.with_file_aggregates(&aggregates);
    context.time(format!("pass{pass}"), pass_start);
    Ok(with_aggregates)
}
