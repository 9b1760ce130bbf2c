//! The runtime helpers native code calls, and the calling convention between them.
//!
//! Native code never reads or writes memory itself. It holds booleans and longs in registers
//! and refers to every other value by an *operand reference* (a `u32`, see [`operand`]): a slot
//! of the VM's value stack, a constant of the program, or a request variable. Helpers are
//! `extern "C"` functions whose first argument is the [`Machine`] native code was called with;
//! they read operands through it, apply the runtime's operators (the same ones the VM applies),
//! and write computed values into slots of the machine's stack. Every index they are given is
//! checked.
//!
//! A helper returns a status: `0`/`1` for a boolean answer (or `0` for "done" when it stores a
//! value), [`BAIL`] when the operation raised an evaluation error — native code then stops and
//! the VM runs the policy, so errors and their spans are the VM's by construction — and
//! [`INTERNAL`] when something that cannot happen did (an index out of range, a panic): the
//! request is denied with a diagnostic.

#![allow(unsafe_code)]

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};

use thuja_compiler::ast::{BinaryOp, UnaryOp, Var};
use thuja_compiler::program::Op;
use thuja_runtime::{EvalError, Record, Set, Value, access, ops};
use thuja_vm::{Machine, Operand};

/// A boolean answer: false. Also "done" for helpers that store a value.
pub(crate) const FALSE: u32 = 0;
/// A boolean answer: true.
pub(crate) const TRUE: u32 = 1;
/// The operation raised an evaluation error: the VM must run the policy.
pub(crate) const BAIL: u32 = 2;
/// An internal failure (a bug): deny the request with a diagnostic.
pub(crate) const INTERNAL: u32 = 3;

/// An operand reference: how native code names a value that is not in a register. A `u32`
/// (what native code passes to helpers): the top two bits say where the value is, the rest
/// where in it. Made by [`OperandRef::slot`], [`constant`](OperandRef::constant),
/// [`var`](OperandRef::var) and [`attr`](OperandRef::attr); read back by
/// [`OperandRef::site`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct OperandRef(u32);

/// Where an [`OperandRef`] points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Site {
    /// A slot of the machine's stack, by index.
    Slot(usize),
    /// A value of the program's constant pool, by index.
    Constant(usize),
    /// A request variable.
    Var(Var),
    /// An attribute of a request variable, memoized per request in entry `memo` of the
    /// machine's memo; its name is entry `name` of the program's name pool.
    Attr { var: Var, memo: usize, name: usize },
}

impl OperandRef {
    const SLOT: u32 = 0;
    const CONSTANT: u32 = 1 << 30;
    const VAR: u32 = 2 << 30;
    const ATTR: u32 = 3 << 30;
    const INDEX: u32 = (1 << 30) - 1;
    /// How many memo entries and names an attribute reference can say: bits 0–1 of an
    /// attribute reference are the variable, 2–13 the memo entry, 14–29 the name.
    const MEMO_ENTRIES: u32 = 1 << 12;
    const NAMES: u32 = 1 << 16;

    pub(crate) fn slot(i: usize) -> Self {
        OperandRef(Self::SLOT | (i as u32 & Self::INDEX))
    }

    pub(crate) fn constant(i: u32) -> Self {
        OperandRef(Self::CONSTANT | (i & Self::INDEX))
    }

    pub(crate) fn var(v: Var) -> Self {
        OperandRef(Self::VAR | var_bits(v))
    }

    /// Attribute `name` of `v`, memoized in entry `memo`; `None` past the encoding's limits.
    pub(crate) fn attr(v: Var, memo: u32, name: u32) -> Option<Self> {
        (memo < Self::MEMO_ENTRIES && name < Self::NAMES)
            .then(|| OperandRef(Self::ATTR | var_bits(v) | memo << 2 | name << 14))
    }

    /// What native code passes for it.
    pub(crate) fn bits(self) -> u32 {
        self.0
    }

    /// The reference native code passed.
    pub(crate) fn from_bits(bits: u32) -> Self {
        OperandRef(bits)
    }

    /// Where it points.
    pub(crate) fn site(self) -> Site {
        let index = self.0 & Self::INDEX;
        match self.0 & !Self::INDEX {
            Self::SLOT => Site::Slot(index as usize),
            Self::CONSTANT => Site::Constant(index as usize),
            Self::VAR => Site::Var(var_of(index)),
            _ => Site::Attr {
                var: var_of(index),
                memo: ((index >> 2) & (Self::MEMO_ENTRIES - 1)) as usize,
                name: ((index >> 14) & (Self::NAMES - 1)) as usize,
            },
        }
    }
}

fn var_bits(v: Var) -> u32 {
    match v {
        Var::Principal => 0,
        Var::Action => 1,
        Var::Resource => 2,
        Var::Context => 3,
    }
}

fn var_of(bits: u32) -> Var {
    match bits & 3 {
        0 => Var::Principal,
        1 => Var::Action,
        2 => Var::Resource,
        _ => Var::Context,
    }
}

/// Why a helper stops native code.
enum Stop {
    /// An evaluation error: the VM runs the policy and raises it.
    Bail,
    /// Something that cannot happen did.
    Internal,
}

impl From<EvalError> for Stop {
    fn from(e: EvalError) -> Self {
        match e {
            EvalError::Internal(_) => Stop::Internal,
            _ => Stop::Bail,
        }
    }
}

/// What fills a slot no value was written to.
static EMPTY: Value = Value::Bool(false);

/// Runs a helper's body on the machine behind `m`, turning its outcome into a status. A panic
/// (which would be a bug in an operator) is caught here: it must not unwind into native code.
///
/// # Safety
///
/// `m` must be null (an internal error is returned) or point to a live `Machine` that nothing
/// else uses until this returns: native code is only ever called by `native::call`, with a
/// pointer made from a `&mut Machine` held for the call, and passes it on unchanged to the
/// helpers it calls, one at a time.
unsafe fn with_machine(
    m: *mut Machine<'_>,
    body: impl FnOnce(&mut Machine<'_>) -> Result<u32, Stop>,
) -> u32 {
    if m.is_null() {
        return INTERNAL;
    }
    // SAFETY: the caller's promise: `m` is not null (checked) and points to a live machine used
    // by nothing else meanwhile.
    let machine = unsafe { &mut *m };
    match catch_unwind(AssertUnwindSafe(|| body(machine))) {
        Ok(Ok(status)) => status,
        Ok(Err(Stop::Bail)) => BAIL,
        Ok(Err(Stop::Internal)) | Err(_) => INTERNAL,
    }
}

/// Where an operand's value is: outside the stack (borrowed for the whole request), or in a
/// stack slot.
#[derive(Clone, Copy)]
enum Place<'a> {
    Value(&'a Value),
    Slot(usize),
}

/// Where operand `r` is, reading (and memoizing) a variable's attribute if it is one.
fn place<'a>(m: &mut Machine<'a>, r: u32) -> Result<Place<'a>, Stop> {
    match OperandRef::from_bits(r).site() {
        Site::Slot(i) => Ok(Place::Slot(i)),
        Site::Constant(i) => m
            .program()
            .constants
            .values
            .get(i)
            .map(Place::Value)
            .ok_or(Stop::Internal),
        Site::Var(v) => Ok(Place::Value(m.vars().var(v))),
        // An absent attribute is an error: the VM raises it.
        Site::Attr { .. } => var_attr(m, r)?.map(Place::Value).ok_or(Stop::Bail),
    }
}

/// The attribute an attribute reference names, or `None` if the variable does not have it;
/// read once per request and memoized in the machine.
fn var_attr<'a>(m: &mut Machine<'a>, r: u32) -> Result<Option<&'a Value>, Stop> {
    let Site::Attr { var, memo, name } = OperandRef::from_bits(r).site() else {
        return Err(Stop::Internal);
    };
    if let Some(Some(found)) = m.memo_mut().get(memo) {
        return Ok(*found);
    }
    let vars = m.vars();
    let base = vars.var(var);
    let name = m
        .program()
        .constants
        .names
        .get(name)
        .ok_or(Stop::Internal)?;
    let found = access::find_attr(vars, base, name)?;
    let entries = m.memo_mut();
    if memo >= entries.len() {
        entries.resize(memo + 1, None);
    }
    entries[memo] = Some(found);
    Ok(found)
}

/// The value at `place`, reading slots from `stack`.
fn get<'s, 'a: 's>(stack: &'s [Operand<'a>], place: Place<'a>) -> Result<&'s Value, Stop> {
    match place {
        Place::Value(v) => Ok(v),
        Place::Slot(i) => stack.get(i).map(|v| &**v).ok_or(Stop::Internal),
    }
}

/// Operand `r` as a value that may outlive the stack: borrowed from the program, the request
/// or the store when it is, else cloned.
fn operand<'a>(m: &mut Machine<'a>, r: u32) -> Result<Operand<'a>, Stop> {
    match place(m, r)? {
        Place::Value(v) => Ok(Cow::Borrowed(v)),
        Place::Slot(i) => m.stack().get(i).cloned().ok_or(Stop::Internal),
    }
}

/// Applies `f` to operand `r`.
fn with_one<T>(
    m: &mut Machine<'_>,
    r: u32,
    f: impl FnOnce(&Value, &thuja_vm::RequestValues<'_>) -> Result<T, Stop>,
) -> Result<T, Stop> {
    let p = place(m, r)?;
    f(get(m.stack(), p)?, m.vars())
}

/// Writes `value` into slot `pos`, growing the stack to it.
fn put<'a>(m: &mut Machine<'a>, pos: u32, value: Operand<'a>) -> Result<u32, Stop> {
    let pos = pos as usize;
    let stack = m.stack_mut();
    if pos >= stack.len() {
        if pos > u16::MAX as usize {
            return Err(Stop::Internal);
        }
        stack.resize(pos + 1, Cow::Borrowed(&EMPTY));
    }
    stack[pos] = value;
    Ok(FALSE)
}

/// Entry `i` of one of the program's pools.
fn pool<T>(pool: &[T], i: impl TryInto<usize>) -> Result<&T, Stop> {
    i.try_into()
        .ok()
        .and_then(|i| pool.get(i))
        .ok_or(Stop::Internal)
}

fn op_at(m: &Machine<'_>, pc: u32) -> Result<Op, Stop> {
    m.program()
        .code
        .get(pc as usize)
        .copied()
        .ok_or(Stop::Internal)
}

fn status(b: bool) -> u32 {
    if b { TRUE } else { FALSE }
}

/// Applies `f` to operands `l` and `r`.
fn with_two<T>(
    m: &mut Machine<'_>,
    l: u32,
    r: u32,
    f: impl FnOnce(&Value, &Value, &thuja_vm::RequestValues<'_>) -> Result<T, Stop>,
) -> Result<T, Stop> {
    let (a, b) = (place(m, l)?, place(m, r)?);
    let stack = m.stack();
    f(get(stack, a)?, get(stack, b)?, m.vars())
}

/// Operand `r` as a boolean (a type error bails).
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn as_bool(m: *mut Machine<'_>, r: u32) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe { with_machine(m, |m| with_one(m, r, |v, _| Ok(status(v.as_bool()?)))) }
}

/// Stores a boolean into slot `pos`.
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn store_bool(m: *mut Machine<'_>, pos: u32, b: u32) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe { with_machine(m, |m| put(m, pos, Cow::Owned(Value::Bool(b != 0)))) }
}

/// Stores a long into slot `pos`.
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn store_long(m: *mut Machine<'_>, pos: u32, v: i64) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe { with_machine(m, |m| put(m, pos, Cow::Owned(Value::Long(v)))) }
}

/// Copies operand `r` into slot `pos`.
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn load(m: *mut Machine<'_>, r: u32, pos: u32) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe {
        with_machine(m, |m| {
            let v = operand(m, r)?;
            put(m, pos, v)
        })
    }
}

/// The binary operator at `pc`, whose result is a boolean, on operands `l` and `r`.
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn binary_bool(m: *mut Machine<'_>, pc: u32, l: u32, r: u32) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe {
        with_machine(m, |m| {
            let Op::Binary(op) = op_at(m, pc)? else {
                return Err(Stop::Internal);
            };
            match with_two(m, l, r, |a, b, vars| {
                Ok(thuja_vm::machine::binary(op, a, b, vars)?)
            })? {
                Value::Bool(b) => Ok(status(b)),
                _ => Err(Stop::Internal),
            }
        })
    }
}

/// The binary operator at `pc` on operands `l` and `r`, its value stored in slot `dst`.
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn binary_value(
    m: *mut Machine<'_>,
    pc: u32,
    l: u32,
    r: u32,
    dst: u32,
) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe {
        with_machine(m, |m| {
            let Op::Binary(op) = op_at(m, pc)? else {
                return Err(Stop::Internal);
            };
            let value = if op == BinaryOp::GetTag {
                // Tags of stored entities are borrowed from the store, as the VM borrows them.
                let vars = m.vars();
                let e = operand(m, l)?;
                let tag = operand(m, r)?;
                Cow::Borrowed(access::tag_of(vars, &e, &tag)?)
            } else {
                Cow::Owned(with_two(m, l, r, |a, b, vars| {
                    Ok(thuja_vm::machine::binary(op, a, b, vars)?)
                })?)
            };
            put(m, dst, value)
        })
    }
}

/// The unary operator at `pc` (`!` or `isEmpty`), whose result is a boolean, on operand `r`.
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn unary_bool(m: *mut Machine<'_>, pc: u32, r: u32) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe {
        with_machine(m, |m| {
            let Op::Unary(op) = op_at(m, pc)? else {
                return Err(Stop::Internal);
            };
            with_one(m, r, |v, _| {
                let result = match op {
                    UnaryOp::Not => ops::not(v)?,
                    UnaryOp::IsEmpty => ops::is_empty(v)?,
                    UnaryOp::Neg => return Err(Stop::Internal),
                };
                Ok(status(result.as_bool()?))
            })
        })
    }
}

/// Negation of operand `r`, stored in slot `dst`.
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn negate(m: *mut Machine<'_>, r: u32, dst: u32) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe {
        with_machine(m, |m| {
            let v = with_one(m, r, |v, _| Ok(ops::negate(v)?))?;
            put(m, dst, Cow::Owned(v))
        })
    }
}

/// Applies the extension function called at `pc` to operands `a` and (for two arguments) `b`.
fn call(m: &mut Machine<'_>, pc: u32, a: u32, b: u32) -> Result<Value, Stop> {
    let Op::Call { func, argc } = op_at(m, pc)? else {
        return Err(Stop::Internal);
    };
    let mut args = std::mem::take(m.args_mut());
    args.clear();
    let result = match argc {
        1 => with_one(m, a, |a, _| {
            args.push(a.clone());
            Ok(func.call(&args)?)
        }),
        2 => with_two(m, a, b, |a, b, _| {
            args.push(a.clone());
            args.push(b.clone());
            Ok(func.call(&args)?)
        }),
        _ => Err(Stop::Internal),
    };
    *m.args_mut() = args;
    result
}

/// The extension function called at `pc`, whose result is a boolean, on operands `a` (and `b`).
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn call_bool(m: *mut Machine<'_>, pc: u32, a: u32, b: u32) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe { with_machine(m, |m| Ok(status(call(m, pc, a, b)?.as_bool()?))) }
}

/// The extension function called at `pc` on operands `a` (and `b`), its value stored in slot
/// `dst`.
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn call_value(
    m: *mut Machine<'_>,
    pc: u32,
    a: u32,
    b: u32,
    dst: u32,
) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe {
        with_machine(m, |m| {
            let v = call(m, pc, a, b)?;
            put(m, dst, Cow::Owned(v))
        })
    }
}

/// Whether the variable's attribute an attribute reference ([`OperandRef::attr`]) names exists.
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn has_var_attr(m: *mut Machine<'_>, r: u32) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe { with_machine(m, |m| Ok(status(var_attr(m, r)?.is_some()))) }
}

/// Attribute `names[name]` of operand `r`, stored in slot `dst`.
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn get_attr(m: *mut Machine<'_>, r: u32, name: u32, dst: u32) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe {
        with_machine(m, |m| {
            let vars = m.vars();
            let attr = pool(&m.program().constants.names, name)?;
            let value = match operand(m, r)? {
                Cow::Borrowed(v) => Cow::Borrowed(access::attr_of(vars, v, attr)?),
                Cow::Owned(v) => Cow::Owned(access::attr_of(vars, &v, attr)?.clone()),
            };
            put(m, dst, value)
        })
    }
}

/// Whether operand `r` has the attribute path `name_lists[i]`.
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn has_attrs(m: *mut Machine<'_>, r: u32, i: u32) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe {
        with_machine(m, |m| {
            let attrs = pool(&m.program().constants.name_lists, i)?;
            with_one(m, r, |v, vars| {
                Ok(status(access::has_attrs(vars, v, attrs)?))
            })
        })
    }
}

/// Whether operand `r` matches `patterns[i]`.
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn like(m: *mut Machine<'_>, r: u32, i: u32) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe {
        with_machine(m, |m| {
            let pattern = pool(&m.program().constants.patterns, i)?;
            with_one(m, r, |v, _| Ok(status(ops::like(v, pattern)?.as_bool()?)))
        })
    }
}

/// Whether operand `r` is an entity of type `types[i]`.
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn is_type(m: *mut Machine<'_>, r: u32, i: u32) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe {
        with_machine(m, |m| {
            let ty = pool(&m.program().constants.types, i)?;
            with_one(m, r, |v, _| Ok(status(ops::is_type(v, ty)?)))
        })
    }
}

/// Whether the entity operand `e` is in operand `t` (the second half of `is T in E`).
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn in_target(m: *mut Machine<'_>, e: u32, t: u32) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe {
        with_machine(m, |m| {
            with_two(m, e, t, |e, t, vars| {
                Ok(status(access::is_in(vars, e.as_entity()?, t)?))
            })
        })
    }
}

/// The set of the `n` values in slots `base..`, stored in slot `base`.
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn make_set(m: *mut Machine<'_>, base: u32, n: u32) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe {
        with_machine(m, |m| {
            let (start, end) = (base as usize, base as usize + n as usize);
            let set: Set = m
                .stack_mut()
                .get(start..end)
                .ok_or(Stop::Internal)?
                .iter()
                .map(|v| (**v).clone())
                .collect();
            put(m, base, Cow::Owned(Value::Set(set)))
        })
    }
}

/// The record of the values in slots `base..` under the keys `name_lists[i]`, stored in slot
/// `base`.
///
/// # Safety
///
/// `m` must be null or the machine pointer native code was called with (see [`with_machine`]).
pub(crate) unsafe extern "C" fn make_record(m: *mut Machine<'_>, base: u32, i: u32) -> u32 {
    // SAFETY: passed on from the caller, under the same contract.
    unsafe {
        with_machine(m, |m| {
            let keys = pool(&m.program().constants.name_lists, i)?;
            let (start, end) = (base as usize, base as usize + keys.len());
            let record: Record = keys
                .iter()
                .cloned()
                .zip(
                    m.stack_mut()
                        .get(start..end)
                        .ok_or(Stop::Internal)?
                        .iter()
                        .map(|v| (**v).clone()),
                )
                .collect();
            put(m, base, Cow::Owned(Value::Record(record)))
        })
    }
}

/// A helper's parameter after the machine pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Param {
    U32,
    I64,
}

/// The Rust type of a [`Param`].
macro_rules! param_type {
    (U32) => {
        u32
    };
    (I64) => {
        i64
    };
}

/// The helpers native code may call, written once: each one's name, function, symbol and
/// parameters after the machine pointer (each returns a `u32` status).
macro_rules! helpers {
    ($($helper:ident => $function:ident($($param:ident),*) as $symbol:literal;)*) => {
        /// A helper native code may call.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Helper {
            $($helper,)*
        }

        impl Helper {
            pub(crate) const ALL: &'static [Helper] = &[$(Helper::$helper,)*];

            /// The symbol native code imports it by.
            pub(crate) fn symbol(self) -> &'static str {
                match self {
                    $(Helper::$helper => $symbol,)*
                }
            }

            /// Its parameters after the machine pointer.
            pub(crate) fn params(self) -> &'static [Param] {
                match self {
                    $(Helper::$helper => &[$(Param::$param),*],)*
                }
            }

            /// Where its code is.
            pub(crate) fn address(self) -> *const u8 {
                match self {
                    $(Helper::$helper => {
                        $function as unsafe extern "C" fn(*mut Machine<'static>, $(param_type!($param)),*) -> u32
                            as *const u8
                    })*
                }
            }
        }
    };
}

helpers! {
    AsBool => as_bool(U32) as "thuja_as_bool";
    StoreBool => store_bool(U32, U32) as "thuja_store_bool";
    StoreLong => store_long(U32, I64) as "thuja_store_long";
    Load => load(U32, U32) as "thuja_load";
    BinaryBool => binary_bool(U32, U32, U32) as "thuja_binary_bool";
    BinaryValue => binary_value(U32, U32, U32, U32) as "thuja_binary_value";
    UnaryBool => unary_bool(U32, U32) as "thuja_unary_bool";
    Negate => negate(U32, U32) as "thuja_negate";
    CallBool => call_bool(U32, U32, U32) as "thuja_call_bool";
    CallValue => call_value(U32, U32, U32, U32) as "thuja_call_value";
    GetAttr => get_attr(U32, U32, U32) as "thuja_get_attr";
    HasAttrs => has_attrs(U32, U32) as "thuja_has_attrs";
    HasVarAttr => has_var_attr(U32) as "thuja_has_var_attr";
    Like => like(U32, U32) as "thuja_like";
    IsType => is_type(U32, U32) as "thuja_is_type";
    InTarget => in_target(U32, U32) as "thuja_in_target";
    MakeSet => make_set(U32, U32) as "thuja_make_set";
    MakeRecord => make_record(U32, U32) as "thuja_make_record";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operand_references_decode_to_what_they_were_made_from() {
        let vars = [Var::Principal, Var::Action, Var::Resource, Var::Context];
        for i in [0, 1, 77, (1 << 30) - 1] {
            assert_eq!(OperandRef::slot(i).site(), Site::Slot(i));
            assert_eq!(OperandRef::constant(i as u32).site(), Site::Constant(i));
        }
        for var in vars {
            assert_eq!(OperandRef::var(var).site(), Site::Var(var));
            for (memo, name) in [(0, 0), (5, 9), (4095, 65535)] {
                let r = OperandRef::attr(var, memo, name).expect("within the limits");
                let site = Site::Attr {
                    var,
                    memo: memo as usize,
                    name: name as usize,
                };
                assert_eq!(OperandRef::from_bits(r.bits()).site(), site);
            }
        }
        assert_eq!(OperandRef::attr(Var::Context, 4096, 0), None);
        assert_eq!(OperandRef::attr(Var::Context, 0, 65536), None);
    }
}
