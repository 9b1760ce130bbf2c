//! Requests answered with native code: the VM's index, machine and combination of outcomes
//! ([`thuja_vm::decide`]), with each candidate's conditions run natively when they were compiled
//! and by the VM otherwise.

use thuja_compiler::index::EntityKeys;
use thuja_compiler::program::Program;
use thuja_runtime::{Entities, EvalError, Request, Response};
use thuja_vm::Failure;

use crate::helpers::BAIL;
use crate::native::NativeCode;
use crate::translate::{SATISFIED, UNSATISFIED};

/// Decides `request` with `program` and its native `code` over `entities`: the VM's response,
/// exactly. A policy whose native code stops on an evaluation error is run again by the VM,
/// which raises the error as it always does; an internal failure of native code (or code built
/// for another program) denies the request with an internal error for the policy. `joined`, the
/// program's index joined with `entities`, makes finding the candidates faster, as in
/// [`thuja_vm::is_authorized_joined`].
pub fn is_authorized(
    program: &Program,
    code: &NativeCode,
    request: &Request,
    entities: &Entities,
    joined: Option<&EntityKeys>,
) -> Response {
    let matches = code.shape == (program.policies.len(), program.code.len());
    thuja_vm::decide(program, request, entities, joined, |machine, n, policy| {
        let failed = |what| Failure {
            error: EvalError::Internal(what),
            span: None,
        };
        if !matches {
            return Err(failed("native code was built for another program"));
        }
        match code.functions.get(n) {
            Some(Some(f)) => match code.call(*f, machine) {
                UNSATISFIED => Ok(false),
                SATISFIED => Ok(true),
                BAIL => machine.run(policy),
                _ => Err(failed("native code failed")),
            },
            // Nothing to run, or left to the VM.
            Some(None) => machine.run(policy),
            None => Err(failed("a policy without native code or a reason")),
        }
    })
}
