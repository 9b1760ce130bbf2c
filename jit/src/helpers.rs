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

use thuja_compiler::ast::{BinaryOp, UnaryOp};
use thuja_compiler::program::Op;
use thuja_runtime::{EvalError, Record, Set, Value, access, ops};
use thuja_vm::{Machine, Operand};

/// A boolean answer: false. Also "done" for helpers that store a value.
pub const FALSE: u32 = 0;
/// A boolean answer: true.
pub const TRUE: u32 = 1;
/// The operation raised an evaluation error: the VM must run the policy.
pub const BAIL: u32 = 2;
/// An internal failure (a bug): deny the request with a diagnostic.
pub const INTERNAL: u32 = 3;

/// Operand references: the top two bits say where the value is, the rest where in it.
pub mod operand {
    use thuja_compiler::ast::Var;

    /// A slot of the machine's stack, by index.
    pub const SLOT: u32 = 0;
    /// A value of the program's constant pool, by index.
    pub const CONSTANT: u32 = 1 << 30;
    /// A request variable (0 principal, 1 action, 2 resource, 3 context).
    pub const VAR: u32 = 2 << 30;
    /// An attribute of a request variable, memoized per request: bits 0–1 the variable, 2–13
    /// its entry in the machine's memo, 14–29 the attribute's name in the program's name pool.
    pub const ATTR: u32 = 3 << 30;
    pub const INDEX: u32 = (1 << 30) - 1;
    /// How many memo entries and names an attribute reference can say.
    pub const MEMO_ENTRIES: u32 = 1 << 12;
    pub const NAMES: u32 = 1 << 16;

    pub fn slot(i: usize) -> u32 {
        SLOT | (i as u32 & INDEX)
    }

    pub fn constant(i: u32) -> u32 {
        CONSTANT | (i & INDEX)
    }

    pub fn var(v: Var) -> u32 {
        VAR | var_bits(v)
    }

    /// Attribute `name` of `v`, memoized in entry `memo`; `None` past the encoding's limits.
    pub fn attr(v: Var, memo: u32, name: u32) -> Option<u32> {
        (memo < MEMO_ENTRIES && name < NAMES).then(|| ATTR | var_bits(v) | memo << 2 | name << 14)
    }

    fn var_bits(v: Var) -> u32 {
        match v {
            Var::Principal => 0,
            Var::Action => 1,
            Var::Resource => 2,
            Var::Context => 3,
        }
    }

    pub fn var_of(bits: u32) -> Var {
        match bits & 3 {
            0 => Var::Principal,
            1 => Var::Action,
            2 => Var::Resource,
            _ => Var::Context,
        }
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
fn with_machine(
    m: *mut Machine<'_>,
    body: impl FnOnce(&mut Machine<'_>) -> Result<u32, Stop>,
) -> u32 {
    if m.is_null() {
        return INTERNAL;
    }
    // SAFETY: native code is only ever called by `native::call`, with a pointer made from a live
    // `&mut Machine` that is not used otherwise until the call returns; native code passes it
    // on unchanged to the helpers it calls, one at a time.
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
    let index = r & operand::INDEX;
    match r & !operand::INDEX {
        operand::SLOT => Ok(Place::Slot(index as usize)),
        operand::CONSTANT => m
            .program()
            .constants
            .values
            .get(index as usize)
            .map(Place::Value)
            .ok_or(Stop::Internal),
        operand::VAR => Ok(Place::Value(m.vars().var(operand::var_of(index)))),
        // An absent attribute is an error: the VM raises it.
        _ => var_attr(m, r)?.map(Place::Value).ok_or(Stop::Bail),
    }
}

/// The attribute an [`operand::ATTR`] reference names, or `None` if the variable does not
/// have it; read once per request and memoized in the machine.
fn var_attr<'a>(m: &mut Machine<'a>, r: u32) -> Result<Option<&'a Value>, Stop> {
    let memo = ((r >> 2) & (operand::MEMO_ENTRIES - 1)) as usize;
    if let Some(Some(found)) = m.memo_mut().get(memo) {
        return Ok(*found);
    }
    let vars = m.vars();
    let base = vars.var(operand::var_of(r));
    let name = m
        .program()
        .constants
        .names
        .get(((r >> 14) & (operand::NAMES - 1)) as usize)
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
    u32::from(b)
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
pub extern "C" fn as_bool(m: *mut Machine<'_>, r: u32) -> u32 {
    with_machine(m, |m| with_one(m, r, |v, _| Ok(status(v.as_bool()?))))
}

/// Stores a boolean into slot `pos`.
pub extern "C" fn store_bool(m: *mut Machine<'_>, pos: u32, b: u32) -> u32 {
    with_machine(m, |m| put(m, pos, Cow::Owned(Value::Bool(b != 0))))
}

/// Stores a long into slot `pos`.
pub extern "C" fn store_long(m: *mut Machine<'_>, pos: u32, v: i64) -> u32 {
    with_machine(m, |m| put(m, pos, Cow::Owned(Value::Long(v))))
}

/// Copies operand `r` into slot `pos`.
pub extern "C" fn load(m: *mut Machine<'_>, r: u32, pos: u32) -> u32 {
    with_machine(m, |m| {
        let v = operand(m, r)?;
        put(m, pos, v)
    })
}

/// The binary operator at `pc`, whose result is a boolean, on operands `l` and `r`.
pub extern "C" fn binary_bool(m: *mut Machine<'_>, pc: u32, l: u32, r: u32) -> u32 {
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

/// The binary operator at `pc` on operands `l` and `r`, its value stored in slot `dst`.
pub extern "C" fn binary_value(m: *mut Machine<'_>, pc: u32, l: u32, r: u32, dst: u32) -> u32 {
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

/// The unary operator at `pc` (`!` or `isEmpty`), whose result is a boolean, on operand `r`.
pub extern "C" fn unary_bool(m: *mut Machine<'_>, pc: u32, r: u32) -> u32 {
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

/// Negation of operand `r`, stored in slot `dst`.
pub extern "C" fn negate(m: *mut Machine<'_>, r: u32, dst: u32) -> u32 {
    with_machine(m, |m| {
        let v = with_one(m, r, |v, _| Ok(ops::negate(v)?))?;
        put(m, dst, Cow::Owned(v))
    })
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
pub extern "C" fn call_bool(m: *mut Machine<'_>, pc: u32, a: u32, b: u32) -> u32 {
    with_machine(m, |m| Ok(status(call(m, pc, a, b)?.as_bool()?)))
}

/// The extension function called at `pc` on operands `a` (and `b`), its value stored in slot
/// `dst`.
pub extern "C" fn call_value(m: *mut Machine<'_>, pc: u32, a: u32, b: u32, dst: u32) -> u32 {
    with_machine(m, |m| {
        let v = call(m, pc, a, b)?;
        put(m, dst, Cow::Owned(v))
    })
}

/// Whether the variable's attribute an [`operand::ATTR`] reference names exists.
pub extern "C" fn has_var_attr(m: *mut Machine<'_>, r: u32) -> u32 {
    with_machine(m, |m| Ok(status(var_attr(m, r)?.is_some())))
}

/// Attribute `names[name]` of operand `r`, stored in slot `dst`.
pub extern "C" fn get_attr(m: *mut Machine<'_>, r: u32, name: u32, dst: u32) -> u32 {
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

/// Whether operand `r` has the attribute path `name_lists[i]`.
pub extern "C" fn has_attrs(m: *mut Machine<'_>, r: u32, i: u32) -> u32 {
    with_machine(m, |m| {
        let attrs = pool(&m.program().constants.name_lists, i)?;
        with_one(m, r, |v, vars| {
            Ok(status(access::has_attrs(vars, v, attrs)?))
        })
    })
}

/// Whether operand `r` matches `patterns[i]`.
pub extern "C" fn like(m: *mut Machine<'_>, r: u32, i: u32) -> u32 {
    with_machine(m, |m| {
        let pattern = pool(&m.program().constants.patterns, i)?;
        with_one(m, r, |v, _| Ok(status(ops::like(v, pattern)?.as_bool()?)))
    })
}

/// Whether operand `r` is an entity of type `types[i]`.
pub extern "C" fn is_type(m: *mut Machine<'_>, r: u32, i: u32) -> u32 {
    with_machine(m, |m| {
        let ty = pool(&m.program().constants.types, i)?;
        with_one(m, r, |v, _| Ok(status(ops::is_type(v, ty)?)))
    })
}

/// Whether the entity operand `e` is in operand `t` (the second half of `is T in E`).
pub extern "C" fn in_target(m: *mut Machine<'_>, e: u32, t: u32) -> u32 {
    with_machine(m, |m| {
        with_two(m, e, t, |e, t, vars| {
            Ok(status(access::is_in(vars, e.as_entity()?, t)?))
        })
    })
}

/// The set of the `n` values in slots `base..`, stored in slot `base`.
pub extern "C" fn make_set(m: *mut Machine<'_>, base: u32, n: u32) -> u32 {
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

/// The record of the values in slots `base..` under the keys `name_lists[i]`, stored in slot
/// `base`.
pub extern "C" fn make_record(m: *mut Machine<'_>, base: u32, i: u32) -> u32 {
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

/// The helpers native code may call: their symbol names, addresses and parameters after the
/// machine pointer (each returns a `u32` status).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Helper {
    AsBool,
    StoreBool,
    StoreLong,
    Load,
    BinaryBool,
    BinaryValue,
    UnaryBool,
    Negate,
    CallBool,
    CallValue,
    GetAttr,
    HasAttrs,
    HasVarAttr,
    Like,
    IsType,
    InTarget,
    MakeSet,
    MakeRecord,
}

/// A helper's parameter after the machine pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    U32,
    I64,
}

impl Helper {
    pub const ALL: [Helper; 18] = [
        Helper::AsBool,
        Helper::StoreBool,
        Helper::StoreLong,
        Helper::Load,
        Helper::BinaryBool,
        Helper::BinaryValue,
        Helper::UnaryBool,
        Helper::Negate,
        Helper::CallBool,
        Helper::CallValue,
        Helper::GetAttr,
        Helper::HasAttrs,
        Helper::HasVarAttr,
        Helper::Like,
        Helper::IsType,
        Helper::InTarget,
        Helper::MakeSet,
        Helper::MakeRecord,
    ];

    pub fn symbol(self) -> &'static str {
        match self {
            Helper::AsBool => "thuja_as_bool",
            Helper::StoreBool => "thuja_store_bool",
            Helper::StoreLong => "thuja_store_long",
            Helper::Load => "thuja_load",
            Helper::BinaryBool => "thuja_binary_bool",
            Helper::BinaryValue => "thuja_binary_value",
            Helper::UnaryBool => "thuja_unary_bool",
            Helper::Negate => "thuja_negate",
            Helper::CallBool => "thuja_call_bool",
            Helper::CallValue => "thuja_call_value",
            Helper::GetAttr => "thuja_get_attr",
            Helper::HasAttrs => "thuja_has_attrs",
            Helper::HasVarAttr => "thuja_has_var_attr",
            Helper::Like => "thuja_like",
            Helper::IsType => "thuja_is_type",
            Helper::InTarget => "thuja_in_target",
            Helper::MakeSet => "thuja_make_set",
            Helper::MakeRecord => "thuja_make_record",
        }
    }

    pub fn params(self) -> &'static [Param] {
        use Param::{I64, U32};
        match self {
            Helper::AsBool | Helper::HasVarAttr => &[U32],
            Helper::StoreLong => &[U32, I64],
            Helper::BinaryBool | Helper::GetAttr | Helper::CallBool => &[U32, U32, U32],
            Helper::BinaryValue | Helper::CallValue => &[U32, U32, U32, U32],
            Helper::StoreBool
            | Helper::Load
            | Helper::UnaryBool
            | Helper::Negate
            | Helper::HasAttrs
            | Helper::Like
            | Helper::IsType
            | Helper::InTarget
            | Helper::MakeSet
            | Helper::MakeRecord => &[U32, U32],
        }
    }

    /// Where the helper's code is.
    pub fn address(self) -> *const u8 {
        type H1 = extern "C" fn(*mut Machine<'static>, u32) -> u32;
        type H2 = extern "C" fn(*mut Machine<'static>, u32, u32) -> u32;
        type H3 = extern "C" fn(*mut Machine<'static>, u32, u32, u32) -> u32;
        type H4 = extern "C" fn(*mut Machine<'static>, u32, u32, u32, u32) -> u32;
        type HL = extern "C" fn(*mut Machine<'static>, u32, i64) -> u32;
        match self {
            Helper::AsBool => as_bool as H1 as *const u8,
            Helper::StoreBool => store_bool as H2 as *const u8,
            Helper::StoreLong => store_long as HL as *const u8,
            Helper::Load => load as H2 as *const u8,
            Helper::BinaryBool => binary_bool as H3 as *const u8,
            Helper::BinaryValue => binary_value as H4 as *const u8,
            Helper::UnaryBool => unary_bool as H2 as *const u8,
            Helper::Negate => negate as H2 as *const u8,
            Helper::CallBool => call_bool as H3 as *const u8,
            Helper::CallValue => call_value as H4 as *const u8,
            Helper::GetAttr => get_attr as H3 as *const u8,
            Helper::HasAttrs => has_attrs as H2 as *const u8,
            Helper::HasVarAttr => has_var_attr as H1 as *const u8,
            Helper::Like => like as H2 as *const u8,
            Helper::IsType => is_type as H2 as *const u8,
            Helper::InTarget => in_target as H2 as *const u8,
            Helper::MakeSet => make_set as H2 as *const u8,
            Helper::MakeRecord => make_record as H2 as *const u8,
        }
    }
}
