//! Hostile inputs for the `hostile` fuzz target (issue #23): fuzzer bytes read as a recipe for
//! policies and schemas that are large in the ways that break engines — long flat chains of one
//! operator (a tree as deep as the chain is long), constructs nested deeply as written, huge
//! literals, `like` patterns made to backtrack, schemas whose common types alias or double
//! one another (DAGs exponentially large written out), sometimes in cycles, and action groups in
//! long chains and wide DAGs (quadratic if each action's groups were listed).
//!
//! A few bytes choose a shape and a size (sizes skew toward the limits: around
//! [`MAX_EXPR_DEPTH`](thuja_compiler::ast::MAX_EXPR_DEPTH) and the nesting limit, and past
//! them), so the fuzzer explores the interesting sizes without having to write megabytes.

/// Reads choices from fuzz input bytes; once the bytes run out every choice is 0.
pub struct Recipe<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Recipe<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Recipe { data, at: 0 }
    }

    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    /// A number below `n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        let v = usize::from(self.byte()) << 8 | usize::from(self.byte());
        if n == 0 { 0 } else { v % n }
    }

    fn chance(&mut self, in_256: u8) -> bool {
        self.byte() < in_256
    }

    /// A size: small, medium, around `limit`, or up to four times past it.
    fn size(&mut self, limit: usize) -> usize {
        match self.byte() % 4 {
            0 => self.below(16),
            1 => self.below(1_000),
            2 => (limit - limit / 8) + self.below(limit / 4 + 1),
            _ => self.below(4 * limit + 1),
        }
    }
}

/// About the most text one part of a recipe makes (bytes): a chain of a term takes at most
/// this many bytes of terms.
const MAX_TEXT: usize = 4 << 20;

const ATOMS: &[&str] = &[
    "true",
    "false",
    "1",
    "context.n",
    "principal",
    "resource.owner",
    "\"s\"",
    "context has n",
    "principal in resource",
    "[1, 2]",
    "{a: 1}",
    "ip(\"10.0.0.1\")",
];

const CHAIN_OPS: &[&str] = &["&&", "||", "+", "-", "*", "==", "<", "in", "!="];

/// A hostile expression, built by recipe; `depth` is how many recipe levels are open.
pub fn expression(r: &mut Recipe<'_>, depth: usize) -> String {
    let deep = thuja_compiler::ast::MAX_EXPR_DEPTH;
    let nesting = thuja_compiler::parser::MAX_NESTING;
    let term = |r: &mut Recipe<'_>| -> String {
        if depth < 3 && r.chance(96) {
            format!("({})", expression(r, depth + 1))
        } else {
            ATOMS[r.below(ATOMS.len())].to_string()
        }
    };
    match r.byte() % 12 {
        // A flat chain of one operator, as long as the depth limit or longer.
        0 | 1 => {
            let op = CHAIN_OPS[r.below(CHAIN_OPS.len())];
            let t = term(r);
            // A long chain of a large term would be too large to be quick.
            let n = r
                .size(deep)
                .clamp(1, (MAX_TEXT / (t.len() + op.len() + 2)).max(1));
            let mut out = String::with_capacity(n * (t.len() + op.len() + 2));
            for i in 0..n {
                if i > 0 {
                    out.push(' ');
                    out.push_str(op);
                    out.push(' ');
                }
                // Now and then another term, so the chain is not uniform.
                if i % 97 == 3 && r.chance(64) {
                    out.push_str(&term(r));
                } else {
                    out.push_str(&t);
                }
            }
            out
        }
        // Method and attribute chains.
        2 => {
            let n = r.size(deep);
            let link = [
                ".contains(1)",
                ".isEmpty()",
                ".a",
                "[\"b\"]",
                ".lessThan(decimal(\"1.0\"))",
            ][r.below(5)];
            format!("{}{}", term(r), link.repeat(n))
        }
        // Nesting as written.
        3 | 4 => {
            let n = r.size(nesting);
            let (open, close) = [
                ("(", ")"),
                ("[", "]"),
                ("{a: ", "}"),
                ("!(", ")"),
                ("-(", ")"),
                ("if true then (", ") else false"),
                ("ip(", ")"),
                ("[1].contains(", ")"),
            ][r.below(8)];
            format!("{}{}{}", open.repeat(n), term(r), close.repeat(n))
        }
        // Unary operators in a row.
        5 => format!("{}{}", ["!", "-"][r.below(2)].repeat(r.below(8)), term(r)),
        // `if` nested in the else branch.
        6 => {
            let n = r.size(nesting / 2);
            let mut out = String::new();
            for _ in 0..n {
                out.push_str("if context has n then ");
                out.push_str(&term(r));
                out.push_str(" else (");
            }
            out.push_str(&term(r));
            out.push_str(&")".repeat(n));
            out
        }
        // Huge literals.
        7 => {
            let n = r.size(1 << 20).min(MAX_TEXT / 4);
            match r.below(4) {
                0 => "9".repeat(n.max(1)),
                1 => format!("\"{}\"", "a".repeat(n)),
                2 => format!("[{}]", vec!["1"; n].join(", ")),
                _ => {
                    let fields: Vec<String> =
                        (0..n.min(200_000)).map(|i| format!("a{i}: {i}")).collect();
                    format!("{{{}}}", fields.join(", "))
                }
            }
        }
        // `like`, with texts and patterns made to backtrack.
        8 => {
            let text = "a".repeat(r.size(1 << 20));
            let stars = r.size(4_096);
            let tail = if r.chance(128) { "b" } else { "a" };
            format!("\"{text}\" like \"{}{tail}\"", "*a".repeat(stars))
        }
        // `has` paths and `is ... in`.
        9 => {
            let n = r.size(nesting).max(1);
            let path: Vec<&str> = vec!["a"; n];
            format!("context has {}", path.join("."))
        }
        // Two hostile parts joined.
        10 if depth < 3 => {
            let op = ["&&", "||", "==", "+"][r.below(4)];
            format!(
                "({}) {op} ({})",
                expression(r, depth + 1),
                expression(r, depth + 1)
            )
        }
        _ => term(r),
    }
}

/// A policy file of one to three hostile policies.
pub fn policies(r: &mut Recipe<'_>) -> String {
    let mut out = String::new();
    for _ in 0..1 + r.below(3) {
        let effect = if r.chance(200) { "permit" } else { "forbid" };
        let kw = if r.chance(200) { "when" } else { "unless" };
        out.push_str(&format!(
            "{effect}(principal, action, resource) {kw} {{ {} }};\n",
            expression(r, 0)
        ));
    }
    out
}

/// A schema whose common types alias, wrap and double one another: `type A<i> = ...` naming
/// types after it (and now and then one before it, making a cycle), ending in primitives. The
/// context of action `view` and an attribute of `User` are `A0`.
pub fn schema(r: &mut Recipe<'_>) -> String {
    let n = r.size(thuja_compiler::parser::MAX_NESTING).max(1);
    let cyclic = r.chance(16);
    let mut out = String::from(
        "entity User in [User] { a?: A0, n?: Long };\n\
         action view appliesTo { principal: User, resource: User, context: { c?: A0, n?: Long } };\n",
    );
    for i in 0..n {
        let next = |r: &mut Recipe<'_>| -> String {
            if cyclic && r.chance(4) {
                format!("A{}", r.below(i + 1))
            } else {
                format!("A{}", (i + 1 + r.below(3)).min(n))
            }
        };
        let def = match r.byte() % 6 {
            0 | 1 => next(r),
            2 => format!("Set<{}>", next(r)),
            3 => format!("{{x: {}, y: {}}}", next(r), next(r)),
            4 => format!("{{x?: {}, y: Set<{}>, z: Long}}", next(r), next(r)),
            _ => format!("{{x: {}}}", next(r)),
        };
        out.push_str(&format!("type A{i} = {def};\n"));
    }
    out.push_str(&format!(
        "type A{n} = {};\n",
        ["Long", "String", "User", "{z: Long}", "Set<String>"][r.below(5)]
    ));
    out
}

/// The most action groups [`actions`] makes, about: a size class goes to four times this.
pub const ACTIONS: usize = 25_000;

/// Action groups `g0`, `g1`, ...: `g<i>` a member of the `width` groups before it (1: a chain;
/// more: a wide DAG), `view` a member of the last. Group `g<j>` is then in `g<i>` exactly when
/// `j >= i`, however wide, which the target checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actions {
    pub groups: usize,
    pub width: usize,
    /// Whether every group applies to requests (a request environment each).
    pub apply: bool,
}

/// An action hierarchy, chosen by recipe (none when the recipe says so).
pub fn actions(r: &mut Recipe<'_>) -> Option<Actions> {
    if !r.chance(96) {
        return None;
    }
    let groups = r.size(ACTIONS).max(1);
    let width = [1, 1, 2, 8, 33][r.below(5)];
    Some(Actions {
        // About `MAX_TEXT` of text at most.
        groups: groups.min(MAX_TEXT / (8 * width)),
        width,
        apply: r.chance(64),
    })
}

/// [`schema`]'s text (declaring `User` and `view`) with the declarations of `actions`, `view`
/// a member of the last group.
pub fn with_actions(schema: &str, actions: &Actions) -> String {
    let last = actions.groups.saturating_sub(1);
    let mut out = schema.replacen(
        "action view appliesTo",
        &format!("action view in [g{last}] appliesTo"),
        1,
    );
    out.reserve(actions.groups * 48);
    let applies = if actions.apply {
        " appliesTo { principal: User, resource: User }"
    } else {
        ""
    };
    for i in 0..actions.groups {
        let first = i.saturating_sub(actions.width);
        let groups: Vec<String> = (first..i).map(|j| format!("g{j}")).collect();
        let member = if groups.is_empty() {
            String::new()
        } else {
            format!(" in [{}]", groups.join(", "))
        };
        out.push_str(&format!("action g{i}{member}{applies};\n"));
    }
    out
}

/// A policy reading the schema's types: a path down `A0`, comparisons of its parts.
pub fn schema_policies(r: &mut Recipe<'_>) -> String {
    let path: String = (0..r.size(1_000))
        .map(|_| [".x", ".y"][r.below(2)])
        .collect();
    format!(
        "permit(principal, action, resource) when {{ context has c && context.c{path} == context.c }};\n\
         permit(principal, action, resource) when {{ principal has a && principal.a == resource.a }};\n\
         permit(principal, action, resource) when {{ context has c && (if context has n then context.c else principal.a) == context.c }};\n"
    )
}
