//! Prints policies and expressions back as Cedar text.
//!
//! The output re-parses to the same AST (spans aside): compound operands are parenthesised, so
//! the printer never depends on operator precedence — except the left operand of `+`, `-` and
//! `*` that is itself such an operation of its level, which the grammar associates to the left
//! anyway, and the left operand of `&&` or `||` that is the same operator: a long chain prints
//! flat, not nested in as many parentheses as it has terms (which would not parse back). The
//! negation of a literal prints as `-(5)` (`-5` is the literal).

use std::fmt::{self, Display, Formatter, Write};

use thuja_runtime::uid::write_escaped;

use crate::ast::expr::{BinaryOp, Expr, ExprKind, Literal, UnaryOp};
use crate::ast::policy::{
    ActionConstraint, ConditionKind, Effect, EntityRef, Policy, ScopeConstraint,
};

fn quoted(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    write_escaped(f, s)?;
    f.write_char('"')
}

/// Whether the expression prints as one unbreakable unit (needs no parentheses as an operand).
fn is_atomic(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Lit(Literal::Long(i)) => *i >= 0,
        ExprKind::Lit(_)
        | ExprKind::Var(_)
        | ExprKind::Slot(_)
        | ExprKind::Set(_)
        | ExprKind::Record(_)
        | ExprKind::GetAttr { .. } => true,
        ExprKind::ExtCall { .. } => true,
        ExprKind::Binary(op, _, _) => is_method(*op),
        ExprKind::Unary(UnaryOp::IsEmpty, _) => true,
        _ => false,
    }
}

/// Whether `left`, the left operand of `op`, continues a left-associative chain of `op`'s
/// level (`a + b - c`, `a * b * c`), so it needs no parentheses.
fn same_level_chain(op: BinaryOp, left: &Expr) -> bool {
    let additive = |o: BinaryOp| matches!(o, BinaryOp::Add | BinaryOp::Sub);
    match &left.kind {
        ExprKind::Binary(inner, _, _) => {
            (additive(op) && additive(*inner)) || (op == BinaryOp::Mul && *inner == BinaryOp::Mul)
        }
        _ => false,
    }
}

fn is_method(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Contains
            | BinaryOp::ContainsAll
            | BinaryOp::ContainsAny
            | BinaryOp::GetTag
            | BinaryOp::HasTag
    )
}

struct Operand<'a>(&'a Expr);

impl Display for Operand<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if is_atomic(self.0) {
            write!(f, "{}", self.0)
        } else {
            write!(f, "({})", self.0)
        }
    }
}

impl BinaryOp {
    /// The operator's symbol, or the method name for the built-in methods.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Eq => "==",
            BinaryOp::NotEq => "!=",
            BinaryOp::Less => "<",
            BinaryOp::LessEq => "<=",
            BinaryOp::Greater => ">",
            BinaryOp::GreaterEq => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::In => "in",
            BinaryOp::Contains => "contains",
            BinaryOp::ContainsAll => "containsAll",
            BinaryOp::ContainsAny => "containsAny",
            BinaryOp::GetTag => "getTag",
            BinaryOp::HasTag => "hasTag",
        }
    }
}

/// Whether `attr` can be written bare after `.` or `has` (an identifier that is not reserved).
fn is_plain_attr(attr: &str) -> bool {
    thuja_runtime::name::is_identifier(attr)
        && !thuja_runtime::name::is_reserved_identifier(attr)
        && attr != thuja_runtime::name::RESERVED_NAMESPACE
}

fn write_attr_name(f: &mut Formatter<'_>, attr: &str) -> fmt::Result {
    if is_plain_attr(attr) {
        f.write_str(attr)
    } else {
        quoted(f, attr)
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        // A long operator chain is as deep as it is long: grow the stack rather than overflow.
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.fmt_node(f))
    }
}

impl Expr {
    fn fmt_node(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Lit(Literal::Bool(b)) => write!(f, "{b}"),
            ExprKind::Lit(Literal::Long(i)) => write!(f, "{i}"),
            ExprKind::Lit(Literal::String(s)) => quoted(f, s),
            ExprKind::Lit(Literal::Entity(uid)) => write!(f, "{uid}"),
            ExprKind::Var(v) => f.write_str(v.name()),
            ExprKind::Slot(s) => f.write_str(s.name()),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => write!(
                f,
                "if {} then {} else {}",
                Operand(cond),
                Operand(then),
                Operand(otherwise)
            ),
            // `&&` and `||` associate to the left, so a chain prints flat too.
            ExprKind::And(a, b) if matches!(a.kind, ExprKind::And(..)) => {
                write!(f, "{a} && {}", Operand(b))
            }
            ExprKind::Or(a, b) if matches!(a.kind, ExprKind::Or(..)) => {
                write!(f, "{a} || {}", Operand(b))
            }
            ExprKind::And(a, b) => write!(f, "{} && {}", Operand(a), Operand(b)),
            ExprKind::Or(a, b) => write!(f, "{} || {}", Operand(a), Operand(b)),
            ExprKind::Unary(UnaryOp::Not, e) => write!(f, "!{}", Operand(e)),
            ExprKind::Unary(UnaryOp::Neg, e) => match &e.kind {
                ExprKind::Lit(Literal::Long(_)) => write!(f, "-({e})"),
                _ => write!(f, "-{}", Operand(e)),
            },
            ExprKind::Unary(UnaryOp::IsEmpty, e) => write!(f, "{}.isEmpty()", Operand(e)),
            ExprKind::Binary(op, a, b) if is_method(*op) => {
                write!(f, "{}.{}({})", Operand(a), op.symbol(), b)
            }
            ExprKind::Binary(op, a, b) => {
                if same_level_chain(*op, a) {
                    write!(f, "{a} {} {}", op.symbol(), Operand(b))
                } else {
                    write!(f, "{} {} {}", Operand(a), op.symbol(), Operand(b))
                }
            }
            ExprKind::ExtCall { func, args } => {
                let (receiver, rest) = match (func.is_method(), args.split_first()) {
                    (true, Some((first, rest))) => (Some(first), rest),
                    _ => (None, args.as_slice()),
                };
                if let Some(r) = receiver {
                    write!(f, "{}.", Operand(r))?;
                }
                write!(f, "{}(", func.name())?;
                for (i, a) in rest.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
            ExprKind::GetAttr { expr, attr } => {
                write!(f, "{}", Operand(expr))?;
                if is_plain_attr(attr) {
                    write!(f, ".{attr}")
                } else {
                    f.write_str("[")?;
                    quoted(f, attr)?;
                    f.write_str("]")
                }
            }
            ExprKind::HasAttr { expr, attrs } => {
                write!(f, "{} has ", Operand(expr))?;
                match attrs.as_slice() {
                    [one] => write_attr_name(f, one),
                    many => {
                        // The parser only builds paths of plain identifiers; a path holding
                        // anything else prints quoted parts (readable, though not re-parsable).
                        for (i, a) in many.iter().enumerate() {
                            if i > 0 {
                                f.write_str(".")?;
                            }
                            write_attr_name(f, a)?;
                        }
                        Ok(())
                    }
                }
            }
            ExprKind::Like { expr, pattern } => {
                write!(f, "{} like \"{pattern}\"", Operand(expr))
            }
            ExprKind::Is {
                expr,
                entity_type,
                in_expr,
            } => {
                write!(f, "{} is {entity_type}", Operand(expr))?;
                if let Some(e) = in_expr {
                    write!(f, " in {}", Operand(e))?;
                }
                Ok(())
            }
            ExprKind::Set(items) => {
                f.write_str("[")?;
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str("]")
            }
            ExprKind::Record(attrs) => {
                f.write_str("{")?;
                for (i, (k, v)) in attrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    quoted(f, k)?;
                    write!(f, ": {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

impl Display for EntityRef {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            EntityRef::Uid(uid) => write!(f, "{uid}"),
            EntityRef::Slot(s) => f.write_str(s.name()),
        }
    }
}

fn write_scope(f: &mut Formatter<'_>, var: &str, c: &ScopeConstraint) -> fmt::Result {
    match c {
        ScopeConstraint::Any => f.write_str(var),
        ScopeConstraint::Eq(r) => write!(f, "{var} == {r}"),
        ScopeConstraint::In(r) => write!(f, "{var} in {r}"),
        ScopeConstraint::Is(t) => write!(f, "{var} is {t}"),
        ScopeConstraint::IsIn(t, r) => write!(f, "{var} is {t} in {r}"),
    }
}

impl Display for Policy {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for a in &self.annotations {
            if a.bare {
                writeln!(f, "@{}", a.key)?;
                continue;
            }
            write!(f, "@{}(", a.key)?;
            quoted(f, &a.value)?;
            f.write_str(")\n")?;
        }
        f.write_str(match self.effect {
            Effect::Permit => "permit",
            Effect::Forbid => "forbid",
        })?;
        f.write_str(" (\n  ")?;
        write_scope(f, "principal", &self.principal)?;
        f.write_str(",\n  ")?;
        match &self.action {
            ActionConstraint::Any => f.write_str("action")?,
            ActionConstraint::Eq(uid) => write!(f, "action == {uid}")?,
            ActionConstraint::In(uids) => {
                f.write_str("action in [")?;
                for (i, uid) in uids.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{uid}")?;
                }
                f.write_str("]")?;
            }
        }
        f.write_str(",\n  ")?;
        write_scope(f, "resource", &self.resource)?;
        f.write_str("\n)")?;
        for c in &self.conditions {
            let kw = match c.kind {
                ConditionKind::When => "when",
                ConditionKind::Unless => "unless",
            };
            write!(f, "\n{kw} {{ {} }}", c.body)?;
        }
        f.write_str(";")
    }
}

#[cfg(test)]
mod tests {
    use crate::Source;
    use crate::ast::{Expr, ExprKind};
    use crate::parser::parse_expr;

    /// The expression with every span cleared, children included (for comparing shapes).
    fn unspanned(e: &Expr) -> Expr {
        let strip = |b: &Expr| Box::new(unspanned(b));
        let kind = match &e.kind {
            ExprKind::Unary(op, a) => ExprKind::Unary(*op, strip(a)),
            ExprKind::Binary(op, a, b) => ExprKind::Binary(*op, strip(a), strip(b)),
            ExprKind::And(a, b) => ExprKind::And(strip(a), strip(b)),
            ExprKind::Or(a, b) => ExprKind::Or(strip(a), strip(b)),
            ExprKind::GetAttr { expr, attr } => ExprKind::GetAttr {
                expr: strip(expr),
                attr: attr.clone(),
            },
            other => other.clone(),
        };
        Expr::new(kind, Default::default())
    }

    fn parse(text: &str) -> Expr {
        parse_expr(Source::new("e", text)).unwrap_or_else(|err| panic!("{}", err.render()))
    }

    /// Printing `text`'s expression and parsing the print gives the same expression.
    fn round_trips(text: &str) -> String {
        let e = parse(text);
        let printed = e.to_string();
        let again = parse(&printed);
        assert_eq!(
            unspanned(&again),
            unspanned(&e),
            "{text} printed as {printed}"
        );
        printed
    }

    #[test]
    fn the_negation_of_a_literal_stays_a_negation() {
        assert_eq!(round_trips("-(5)"), "-(5)");
        assert_eq!(round_trips("-5"), "-5");
        assert_eq!(round_trips("-(-(0))"), "-(-(0))");
    }

    #[test]
    fn arithmetic_chains_print_flat_and_keep_their_grouping() {
        assert_eq!(
            round_trips("1 + 2 - 3 + context.n"),
            "1 + 2 - 3 + context.n"
        );
        assert_eq!(round_trips("2 * 3 * context.n"), "2 * 3 * context.n");
        assert_eq!(round_trips("1 - (2 + 3)"), "1 - (2 + 3)");
        assert_eq!(round_trips("(1 + 2) * 3"), "(1 + 2) * 3");
        // Longer than the parser's nesting limit, as a chain: it must print as one too.
        let chain = vec!["1"; 3_000].join(" + ");
        assert_eq!(round_trips(&chain), chain);
    }

    #[test]
    fn boolean_chains_print_flat() {
        let chain = vec!["context.a"; 3_000].join(" && ");
        assert_eq!(round_trips(&chain), chain);
        let chain = vec!["context.a"; 3_000].join(" || ");
        assert_eq!(round_trips(&chain), chain);
        assert_eq!(
            round_trips("context.a || context.b && context.c"),
            "context.a || (context.b && context.c)"
        );
        assert_eq!(
            round_trips("(context.a || context.b) && context.c"),
            "(context.a || context.b) && context.c"
        );
        assert_eq!(
            round_trips("context.a && (context.b && context.c)"),
            "context.a && (context.b && context.c)"
        );
    }
}
