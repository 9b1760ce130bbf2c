//! A readable listing of a [`Program`]: its scope index, then every policy's code with the
//! constants spelled out and the source position of each instruction, e.g.
//!
//! ```text
//! policy 0: policy0 (permit), code 0..4
//!      0  var context                    3:8
//!      1  get_attr "level"               3:8
//!      2  push 3                         3:24
//!      3  binary >=                      3:8
//!      4  require true                   3:8
//! ```

use std::fmt;

use super::{Op, Program};
use crate::ast::{Effect, UnaryOp};
use crate::source::Positions;

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "index:")?;
        write!(f, "{}", self.index)?;
        for (n, policy) in self.policies.iter().enumerate() {
            let effect = match policy.effect {
                Effect::Permit => "permit",
                Effect::Forbid => "forbid",
            };
            writeln!(f)?;
            let typed = if policy.typed { ", typed" } else { "" };
            writeln!(
                f,
                "policy {n}: {} ({effect}), code {}..{}{typed}",
                policy.id, policy.code.start, policy.code.end
            )?;
            // Instructions come in about the order of their text: their positions are found
            // in about one pass over it (not the text's length times their number: a 4 MB
            // policy on one line would take minutes).
            let mut positions = Positions::new(&policy.source.text);
            for (pc, op) in self.policy_code(n) {
                let text = self.op_text(op);
                let (line, col) = self.spans.get(pc).map_or((0, 0), |s| positions.of(s.start));
                writeln!(f, "{pc:>6}  {text:<40} {line}:{col}")?;
            }
        }
        Ok(())
    }
}

impl Program {
    /// One instruction with its constant operands spelled out.
    fn op_text(&self, op: &Op) -> String {
        let c = &self.constants;
        let missing = || "<missing constant>".to_string();
        let at = |v: &[String], i: u32| v.get(i as usize).cloned().unwrap_or_else(missing);
        let value = |i: u32| {
            c.values
                .get(i as usize)
                .map_or_else(missing, |v| v.to_string())
        };
        let names = |i: u32| {
            c.name_lists.get(i as usize).map_or_else(missing, |l| {
                let quoted: Vec<String> = l.iter().map(|n| format!("{n:?}")).collect();
                quoted.join(", ")
            })
        };
        let ty = |i: u32| {
            c.types
                .get(i as usize)
                .map_or_else(missing, |t| t.to_string())
        };
        match op {
            Op::Push(i) => format!("push {}", value(*i)),
            Op::Var(v) => format!("var {}", v.name()),
            Op::Fail(i) => format!(
                "fail {}",
                c.errors
                    .get(*i as usize)
                    .map_or_else(missing, |e| e.to_string())
            ),
            Op::Jump(t) => format!("jump {t}"),
            Op::JumpIfFalse(t) => format!("jump_if_false {t}"),
            Op::ShortCircuit { when, target } => format!("short_circuit {when} -> {target}"),
            Op::CheckBool => "check_bool".into(),
            Op::Unary(op) => format!("unary {}", unary_name(*op)),
            Op::Binary(op) => format!("binary {}", op.symbol()),
            Op::Call { func, argc } => format!("call {}/{argc}", func.name()),
            Op::GetAttr(i) => {
                let names: Vec<String> = c.names.iter().map(|n| format!("{n:?}")).collect();
                format!("get_attr {}", at(&names, *i))
            }
            Op::HasAttrs(i) => format!("has {}", names(*i)),
            Op::Like(i) => format!(
                "like {}",
                c.patterns
                    .get(*i as usize)
                    .map_or_else(missing, |p| format!("\"{p}\""))
            ),
            Op::Is(i) => format!("is {}", ty(*i)),
            Op::IsOrJump { ty: t, target } => format!("is_or_jump {} -> {target}", ty(*t)),
            Op::InTarget => "in_target".into(),
            Op::MakeSet(n) => format!("make_set {n}"),
            Op::MakeRecord(i) => format!("make_record {}", names(*i)),
            Op::Require(want) => format!("require {want}"),
        }
    }
}

fn unary_name(op: UnaryOp) -> &'static str {
    match op {
        UnaryOp::Not => "!",
        UnaryOp::Neg => "-",
        UnaryOp::IsEmpty => "isEmpty",
    }
}
