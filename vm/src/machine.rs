//! The stack machine: runs one policy's code of a [`Program`] for one request.
//!
//! The stack holds `thuja_runtime::Value`s, borrowed where they already exist — constants,
//! request variables, attributes of the context and of entities in the store — and owned only
//! when an operator computes them; it is reused from policy to policy. Every operator is the
//! runtime's; the machine only moves operands and follows jumps. Jumps only go forward (the
//! machine checks), so a policy's code runs in at most as many steps as it has instructions.

use std::borrow::Cow;
use std::cell::OnceCell;

use smallvec::SmallVec;

use thuja_compiler::ast::{BinaryOp, UnaryOp, Var};
use thuja_compiler::program::{CompiledPolicy, Op, Program};
use thuja_runtime::ops::{self, ArithOp, CmpOp};
use thuja_runtime::{
    Entities, Entity, EntityLookup, EntityUid, EvalError, EvalFailure, Record, Request, Set, Value,
    access,
};

/// An error raised by a policy's code and the span of the expression that raised it (`None`
/// only for an internal error outside any instruction): the runtime's [`EvalFailure`], the
/// shape every tier reports errors in.
pub type Failure = EvalFailure;

/// The request's variables, with the entities of the principal, action and resource looked
/// up once in the store. A variable becomes a [`Value`] (a copy of the request's uid or a
/// shared reference to its context) only when code first reads it as one, so a request whose
/// candidates never read a variable copies nothing. Reading entities through it
/// ([`EntityLookup`]) finds those three without hashing when asked for the request's uids or
/// the ones [`var`](Self::var) gave out, and asks the store for any other.
pub struct RequestValues<'e> {
    request: &'e Request,
    /// The principal, action, resource and context as values, once read.
    values: [OnceCell<Value>; 4],
    store: &'e Entities,
    /// The entities of the principal, the action and the resource, if they exist.
    found: [Option<&'e Entity>; 3],
}

impl<'e> RequestValues<'e> {
    pub fn new(request: &'e Request, store: &'e Entities) -> Self {
        RequestValues {
            request,
            values: Default::default(),
            store,
            found: [
                store.get(request.principal()),
                store.get(request.action()),
                store.get(request.resource()),
            ],
        }
    }

    /// The value of a request variable.
    pub fn var(&self, var: Var) -> &Value {
        let r = self.request;
        match var {
            Var::Principal => self.values[0].get_or_init(|| Value::Entity(r.principal().clone())),
            Var::Action => self.values[1].get_or_init(|| Value::Entity(r.action().clone())),
            Var::Resource => self.values[2].get_or_init(|| Value::Entity(r.resource().clone())),
            Var::Context => self.values[3].get_or_init(|| Value::Record(r.context().clone())),
        }
    }

    /// Attribute `attr` of a request variable (as `var` then `.attr` gives it, with the same
    /// errors), read without making the variable's value: from the entity the request names,
    /// looked up once, or from its context.
    pub fn var_attr(&self, var: Var, attr: &str) -> Result<&'e Value, EvalError> {
        let r = self.request;
        let (i, uid) = match var {
            Var::Principal => (0, r.principal()),
            Var::Action => (1, r.action()),
            Var::Resource => (2, r.resource()),
            Var::Context => return access::record_attr(r.context(), attr),
        };
        access::entity_attr(self.found[i], uid, attr)
    }

    /// Whether `v` equals a request variable (as `==` gives it), without making the variable's
    /// value when it is an entity.
    pub fn var_equals(&self, var: Var, v: &Value) -> bool {
        let r = self.request;
        let uid = match var {
            Var::Principal => r.principal(),
            Var::Action => r.action(),
            Var::Resource => r.resource(),
            Var::Context => return matches!(v, Value::Record(c) if c == r.context()),
        };
        matches!(v, Value::Entity(u) if u == uid)
    }

    /// The principal's, action's and resource's uids.
    pub fn scope_uids(&self) -> [&'e EntityUid; 3] {
        let r = self.request;
        [r.principal(), r.action(), r.resource()]
    }
}

impl EntityLookup for RequestValues<'_> {
    fn entity(&self, uid: &EntityUid) -> Option<&Entity> {
        for (i, held) in self.scope_uids().into_iter().enumerate() {
            let given =
                matches!(self.values[i].get(), Some(Value::Entity(u)) if std::ptr::eq(u, uid));
            if std::ptr::eq(held, uid) || given {
                return self.found[i];
            }
        }
        self.store.get(uid)
    }
}

/// How many operands the stack holds before it allocates: more than most conditions need.
const STACK_INLINE: usize = 16;

/// A value on the stack: borrowed from the program, the request or the entity store, or
/// computed.
pub type Operand<'a> = Cow<'a, Value>;

/// The value stack. Compiled code (the JIT) uses it as its array of value slots.
pub type Stack<'a> = SmallVec<[Operand<'a>; STACK_INLINE]>;

/// Runs policies' code for one request, reusing its value stack.
pub struct Machine<'a> {
    program: &'a Program,
    /// The request's variables, also where entities are read.
    vars: &'a RequestValues<'a>,
    stack: Stack<'a>,
    /// Scratch for the arguments of an extension function call.
    args: SmallVec<[Value; ARGS_INLINE]>,
    /// Attributes of the request variables compiled code has read during this request, by
    /// the numbers it gives them: `None` not read yet, `Some(None)` absent.
    memo: SmallVec<[Memo<'a>; MEMO_INLINE]>,
}

/// A memoized attribute of a request variable: `None` not read yet, `Some(None)` absent,
/// `Some(Some(value))` present.
pub type Memo<'a> = Option<Option<&'a Value>>;

/// How many arguments of an extension function call a machine holds before it allocates: every
/// Cedar extension function takes at most two (a method's receiver and one argument).
const ARGS_INLINE: usize = 2;

/// How many memoized attributes a machine holds before it allocates.
const MEMO_INLINE: usize = 32;

/// What an instruction does next.
enum Flow {
    Next,
    Goto(u32),
    /// A condition did not hold: the policy is not satisfied.
    Unsatisfied,
}

impl<'a> Machine<'a> {
    pub fn new(program: &'a Program, vars: &'a RequestValues<'a>) -> Self {
        Machine {
            program,
            vars,
            stack: SmallVec::new(),
            args: SmallVec::new(),
            memo: SmallVec::new(),
        }
    }

    /// The program whose code this machine runs.
    pub fn program(&self) -> &'a Program {
        self.program
    }

    /// The request's variables, through which entities are read.
    pub fn vars(&self) -> &'a RequestValues<'a> {
        self.vars
    }

    /// The value stack as it is.
    pub fn stack(&self) -> &[Operand<'a>] {
        &self.stack
    }

    /// The value stack, for compiled code that shares it as its slots (cleared by [`run`](Self::run)).
    pub fn stack_mut(&mut self) -> &mut Stack<'a> {
        &mut self.stack
    }

    /// Memoized attributes of the request variables (see [`Memo`]), for compiled code: the
    /// variables do not change during a request, nor do their attributes. Empty at first.
    pub fn memo_mut(&mut self) -> &mut SmallVec<[Memo<'a>; MEMO_INLINE]> {
        &mut self.memo
    }

    /// Scratch for extension function arguments.
    pub fn args_mut(&mut self) -> &mut SmallVec<[Value; ARGS_INLINE]> {
        &mut self.args
    }

    /// Whether `policy` (of this machine's program) is satisfied, assuming its scope holds when
    /// the index says so: runs its code to the end (satisfied) or to a condition that does not
    /// hold (not satisfied), or fails with the error the interpreter raises.
    pub fn run(&mut self, policy: &CompiledPolicy) -> Result<bool, Failure> {
        self.stack.clear();
        let end = policy.code.end;
        let mut pc = policy.code.start;
        let program: &'a Program = self.program;
        let code = &program.code;
        while pc < end {
            let Some(&op) = code.get(pc) else {
                return Err(self.failure(pc, internal("code out of range")));
            };
            // A variable read by the next instruction is not made into a value: its attribute
            // is read from the request's entity (or context), or it is compared in place. The
            // pair runs as the two instructions would, its error raised at the second.
            let flow = match (op, code.get(pc + 1).filter(|_| pc + 1 < end)) {
                (Op::Var(var), Some(&Op::GetAttr(i))) => {
                    pc += 1;
                    self.var_attr(var, i)
                }
                (Op::Var(var), Some(&Op::Binary(op @ (BinaryOp::Eq | BinaryOp::NotEq)))) => {
                    pc += 1;
                    self.var_equals(var, op == BinaryOp::Eq)
                }
                _ => self.step(op),
            };
            match flow {
                Ok(Flow::Next) => pc += 1,
                Ok(Flow::Goto(target)) => {
                    let target = target as usize;
                    if target <= pc || target > end {
                        return Err(self.failure(pc, internal("jump out of range")));
                    }
                    pc = target;
                }
                Ok(Flow::Unsatisfied) => return Ok(false),
                Err(error) => return Err(self.failure(pc, error)),
            }
        }
        Ok(true)
    }

    /// `error`, raised by the instruction at `pc`.
    fn failure(&self, pc: usize, error: EvalError) -> Failure {
        Failure {
            error,
            span: self.program.spans.get(pc).copied(),
        }
    }

    /// `var` then `get_attr names[i]`.
    fn var_attr(&mut self, var: Var, i: u32) -> Result<Flow, EvalError> {
        let vars: &'a RequestValues<'a> = self.vars;
        let attr = constant(&self.program.constants.names, i)?;
        self.stack.push(Cow::Borrowed(vars.var_attr(var, attr)?));
        Ok(Flow::Next)
    }

    /// `var` then `==` (`eq`) or `!=`: the left operand is on the stack.
    fn var_equals(&mut self, var: Var, eq: bool) -> Result<Flow, EvalError> {
        let lhs = self.pop()?;
        let equal = self.vars.var_equals(var, &lhs);
        self.push(Value::Bool(equal == eq));
        Ok(Flow::Next)
    }

    fn step(&mut self, op: Op) -> Result<Flow, EvalError> {
        let program: &'a Program = self.program;
        let constants = &program.constants;
        let entities: &'a RequestValues<'a> = self.vars;
        match op {
            Op::Push(i) => {
                let v = constant(&constants.values, i)?;
                self.stack.push(Cow::Borrowed(v));
            }
            Op::Var(var) => {
                let vars: &'a RequestValues<'a> = self.vars;
                self.stack.push(Cow::Borrowed(vars.var(var)));
            }
            Op::Fail(i) => return Err(constant(&constants.errors, i)?.clone()),
            Op::Jump(target) => return Ok(Flow::Goto(target)),
            Op::JumpIfFalse(target) => {
                if !self.pop()?.as_bool()? {
                    return Ok(Flow::Goto(target));
                }
            }
            Op::ShortCircuit { when, target } => {
                let b = self.pop()?.as_bool()?;
                if b == when {
                    self.push(Value::Bool(b));
                    return Ok(Flow::Goto(target));
                }
            }
            Op::CheckBool => {
                self.stack
                    .last()
                    .ok_or_else(|| internal("stack underflow"))?
                    .as_bool()?;
            }
            Op::Unary(op) => {
                let v = self.pop()?;
                let result = match op {
                    UnaryOp::Not => ops::not(&v),
                    UnaryOp::Neg => ops::negate(&v),
                    UnaryOp::IsEmpty => ops::is_empty(&v),
                }?;
                self.push(result);
            }
            Op::Binary(BinaryOp::GetTag) => {
                let tag = self.pop()?;
                let e = self.pop()?;
                let value = access::tag_of(entities, &e, &tag)?;
                self.stack.push(Cow::Borrowed(value));
            }
            Op::Binary(op) => {
                let rhs = self.pop()?;
                let lhs = self.pop()?;
                let result = binary(op, &lhs, &rhs, entities)?;
                self.push(result);
            }
            Op::Call { func, argc } => {
                let at = self.args_start(argc)?;
                self.args.clear();
                self.args
                    .extend(self.stack.drain(at..).map(Cow::into_owned));
                let result = func.call(&self.args)?;
                self.push(result);
            }
            Op::GetAttr(i) => {
                let v = self.pop()?;
                let attr = constant(&constants.names, i)?;
                let value = match v {
                    Cow::Borrowed(v) => Cow::Borrowed(access::attr_of(entities, v, attr)?),
                    Cow::Owned(v) => Cow::Owned(access::attr_of(entities, &v, attr)?.clone()),
                };
                self.stack.push(value);
            }
            Op::HasAttrs(i) => {
                let v = self.pop()?;
                let attrs = constant(&constants.name_lists, i)?;
                self.push(Value::Bool(access::has_attrs(entities, &v, attrs)?));
            }
            Op::Like(i) => {
                let v = self.pop()?;
                self.push(ops::like(&v, constant(&constants.patterns, i)?)?);
            }
            Op::Is(i) => {
                let v = self.pop()?;
                let ty = constant(&constants.types, i)?;
                self.push(Value::Bool(ops::is_type(&v, ty)?));
            }
            Op::IsOrJump { ty, target } => {
                let v = self.pop()?;
                if !ops::is_type(&v, constant(&constants.types, ty)?)? {
                    self.push(Value::Bool(false));
                    return Ok(Flow::Goto(target));
                }
                self.stack.push(v);
            }
            Op::InTarget => {
                let target = self.pop()?;
                let v = self.pop()?;
                let within = access::is_in(entities, v.as_entity()?, &target)?;
                self.push(Value::Bool(within));
            }
            Op::MakeSet(n) => {
                let at = self.args_start(n)?;
                let set: Set = self.stack.drain(at..).map(Cow::into_owned).collect();
                self.push(Value::Set(set));
            }
            Op::MakeRecord(i) => {
                let keys = constant(&constants.name_lists, i)?;
                let at = self.args_start(u32::try_from(keys.len()).unwrap_or(u32::MAX))?;
                let record: Record = keys
                    .iter()
                    .cloned()
                    .zip(self.stack.drain(at..).map(Cow::into_owned))
                    .collect();
                self.push(Value::Record(record));
            }
            Op::Require(want) => {
                if self.pop()?.as_bool()? != want {
                    return Ok(Flow::Unsatisfied);
                }
            }
        }
        Ok(Flow::Next)
    }

    fn push(&mut self, v: Value) {
        self.stack.push(Cow::Owned(v));
    }

    fn pop(&mut self) -> Result<Operand<'a>, EvalError> {
        self.stack.pop().ok_or_else(|| internal("stack underflow"))
    }

    /// Where the top `n` values start.
    fn args_start(&self, n: u32) -> Result<usize, EvalError> {
        self.stack
            .len()
            .checked_sub(n as usize)
            .ok_or_else(|| internal("stack underflow"))
    }
}

/// A binary operator, as the runtime defines it (`GetTag` clones the tag's value).
pub fn binary(
    op: BinaryOp,
    lhs: &Value,
    rhs: &Value,
    entities: &RequestValues<'_>,
) -> Result<Value, EvalError> {
    match op {
        BinaryOp::Eq => Ok(Value::Bool(lhs == rhs)),
        BinaryOp::NotEq => Ok(Value::Bool(lhs != rhs)),
        BinaryOp::Less => ops::compare_values(CmpOp::Less, lhs, rhs),
        BinaryOp::LessEq => ops::compare_values(CmpOp::LessEq, lhs, rhs),
        BinaryOp::Greater => ops::compare_values(CmpOp::Greater, lhs, rhs),
        BinaryOp::GreaterEq => ops::compare_values(CmpOp::GreaterEq, lhs, rhs),
        BinaryOp::Add => ops::arith_values(ArithOp::Add, lhs, rhs),
        BinaryOp::Sub => ops::arith_values(ArithOp::Sub, lhs, rhs),
        BinaryOp::Mul => ops::arith_values(ArithOp::Mul, lhs, rhs),
        BinaryOp::In => access::in_operator(entities, lhs, rhs),
        BinaryOp::Contains => ops::contains(lhs, rhs),
        BinaryOp::ContainsAll => ops::contains_all(lhs, rhs),
        BinaryOp::ContainsAny => ops::contains_any(lhs, rhs),
        BinaryOp::GetTag => access::tag_of(entities, lhs, rhs).cloned(),
        BinaryOp::HasTag => access::has_tag(entities, lhs, rhs),
    }
}

fn constant<T>(pool: &[T], i: u32) -> Result<&T, EvalError> {
    pool.get(i as usize)
        .ok_or_else(|| internal("constant out of range"))
}

fn internal(what: &'static str) -> EvalError {
    EvalError::Internal(what)
}
