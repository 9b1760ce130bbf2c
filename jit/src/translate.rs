//! One policy's bytecode to Cranelift IR.
//!
//! The bytecode's value stack becomes compile-time bookkeeping: each stack position holds an
//! [`Item`] — a boolean or a long in a register, or an operand reference (a constant, a request
//! variable, or the VM stack slot at that position, where a helper stored a computed value).
//! Booleans, long arithmetic and comparisons, `&&`/`||`/`if`, and the ends of conditions are
//! native code; everything else calls a helper ([`crate::helpers`]).
//!
//! Jumps only go forward, so one pass over the code ([`shapes`]) learns what every jump target
//! receives: where all its incoming edges agree on a register kind, the value comes as a block
//! parameter; where they do not, each edge stores its value into the position's slot first.
//!
//! The function returns [`SATISFIED`], [`UNSATISFIED`], [`BAIL`] (an evaluation error: the VM
//! runs the policy and raises it) or `INTERNAL`.

use std::collections::HashMap;
use std::sync::Arc;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self, AbiParam, Block, BlockArg, FuncRef, InstBuilder, types};
use cranelift_frontend::FunctionBuilder;
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Module};

use thuja_compiler::ast::{BinaryOp, UnaryOp, Var};
use thuja_compiler::program::{CompiledPolicy, Op, Program};
use thuja_runtime::{ExtFn, Value};

use crate::helpers::{BAIL, Helper, OperandRef, Param, Site};

/// The policy's conditions hold.
pub const SATISFIED: u32 = 1;
/// A condition does not hold.
pub const UNSATISFIED: u32 = 0;

/// Why a policy is left to the VM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declined(pub String);

/// The most instructions a policy may have to be compiled (bigger ones run on the VM).
pub const MAX_CODE: usize = 4096;

/// Numbers for the request variables' attributes a program's code reads: the entries of the
/// machine's per-request memo ([`thuja_vm::Memo`]) they are kept in. Shared by all the
/// program's policies, so that each attribute is looked up at most once per request.
pub struct Memos {
    entries: HashMap<(Var, u32), u32>,
    /// The first index of each attribute name in the program's name pool.
    names: HashMap<Arc<str>, u32>,
}

impl Memos {
    pub fn new(program: &Program) -> Self {
        let mut names = HashMap::new();
        for (i, name) in program.constants.names.iter().enumerate() {
            names.entry(name.clone()).or_insert(i as u32);
        }
        Memos {
            entries: HashMap::new(),
            names,
        }
    }

    /// The reference for attribute `name` of variable `var`.
    fn attr(&mut self, var: Var, name: &str) -> Option<OperandRef> {
        let name = *self.names.get(name)?;
        let next = u32::try_from(self.entries.len()).ok()?;
        let memo = *self.entries.entry((var, name)).or_insert(next);
        OperandRef::attr(var, memo, name)
    }
}

/// The request variable the item refers to, if it is one.
fn is_var(kind: Kind) -> Option<Var> {
    match kind {
        Kind::Ref(r) => match r.site() {
            Site::Var(v) => Some(v),
            _ => None,
        },
        _ => None,
    }
}

fn is_attr(kind: Kind) -> bool {
    matches!(kind, Kind::Ref(r) if matches!(r.site(), Site::Attr { .. }))
}

/// How a stack position's value is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bool,
    Long,
    /// An operand reference.
    Ref(OperandRef),
}

/// A stack position during translation: its kind and, for registers, the IR value.
#[derive(Clone, Copy, Debug)]
struct Item {
    kind: Kind,
    value: Option<ir::Value>,
    /// The constant it was pushed from, if it is one (so it can be passed by reference).
    constant: Option<u32>,
}

impl Item {
    fn reg(kind: Kind, value: ir::Value) -> Self {
        Item {
            kind,
            value: Some(value),
            constant: None,
        }
    }

    fn reference(r: OperandRef) -> Self {
        Item {
            kind: Kind::Ref(r),
            value: None,
            constant: None,
        }
    }
}

/// Whether the extension function returns a boolean.
fn returns_bool(f: ExtFn) -> bool {
    matches!(
        f,
        ExtFn::LessThan
            | ExtFn::LessThanOrEqual
            | ExtFn::GreaterThan
            | ExtFn::GreaterThanOrEqual
            | ExtFn::IsIpv4
            | ExtFn::IsIpv6
            | ExtFn::IsLoopback
            | ExtFn::IsMulticast
            | ExtFn::IsInRange
    )
}

/// How many operands an instruction pops.
fn pops(op: Op, program: &Program) -> Result<usize, Declined> {
    Ok(match op {
        Op::Push(_) | Op::Var(_) | Op::Fail(_) | Op::Jump(_) | Op::CheckBool => 0,
        Op::JumpIfFalse(_)
        | Op::ShortCircuit { .. }
        | Op::Unary(_)
        | Op::GetAttr(_)
        | Op::HasAttrs(_)
        | Op::Like(_)
        | Op::Is(_)
        | Op::IsOrJump { .. }
        | Op::Require(_) => 1,
        Op::Binary(_) | Op::InTarget => 2,
        Op::Call { argc, .. } => argc as usize,
        Op::MakeSet(n) => n as usize,
        Op::MakeRecord(i) => program
            .constants
            .name_lists
            .get(i as usize)
            .ok_or_else(|| declined("a record's keys are missing"))?
            .len(),
    })
}

/// The kind of an instruction's result, given its operands' kinds and the position it lands at.
fn result_kind(op: Op, operands: &[Kind], pos: usize, program: &Program) -> Kind {
    let slot = Kind::Ref(OperandRef::slot(pos));
    let all_long = operands.iter().all(|k| *k == Kind::Long);
    match op {
        Op::Push(i) => match program.constants.values.get(i as usize) {
            Some(Value::Bool(_)) => Kind::Bool,
            Some(Value::Long(_)) => Kind::Long,
            _ => Kind::Ref(OperandRef::constant(i)),
        },
        Op::Var(v) => Kind::Ref(OperandRef::var(v)),
        Op::Unary(UnaryOp::Neg) if all_long => Kind::Long,
        Op::Unary(UnaryOp::Neg) => slot,
        Op::Binary(BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul) if all_long => Kind::Long,
        Op::Binary(BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::GetTag) => slot,
        Op::Call { func, .. } if returns_bool(func) => Kind::Bool,
        Op::Call { .. } | Op::GetAttr(_) | Op::MakeSet(_) | Op::MakeRecord(_) => slot,
        _ => Kind::Bool,
    }
}

/// Two incoming stacks at a join: positions that agree keep their kind, the others go to
/// their slots.
fn join(a: &[Kind], b: &[Kind]) -> Result<Vec<Kind>, Declined> {
    if a.len() != b.len() {
        return Err(declined("stack heights differ where control flow joins"));
    }
    Ok(a.iter()
        .zip(b)
        .enumerate()
        .map(|(i, (x, y))| {
            if x == y {
                *x
            } else {
                Kind::Ref(OperandRef::slot(i))
            }
        })
        .collect())
}

fn declined(why: &str) -> Declined {
    Declined(why.to_owned())
}

/// What each position of the policy's code (and its end) receives: `None` where unreachable.
/// Also the deepest stack.
fn shapes(program: &Program, policy: &CompiledPolicy) -> Result<Shapes, Declined> {
    let range = policy.code.clone();
    let code = program
        .code
        .get(range.clone())
        .ok_or_else(|| declined("code out of range"))?;
    let mut entry: Vec<Option<Vec<Kind>>> = vec![None; code.len() + 1];
    let mut target = vec![false; code.len() + 1];
    entry[0] = Some(Vec::new());
    let mut depth = 0;
    for (i, &op) in code.iter().enumerate() {
        let Some(mut stack) = entry[i].clone() else {
            continue;
        };
        let n = pops(op, program)?;
        let at = stack
            .len()
            .checked_sub(n)
            .ok_or_else(|| declined("stack underflow"))?;
        let operands = stack.split_off(at);
        let mut edge = |to: u32, stack: Vec<Kind>| -> Result<(), Declined> {
            let to = (to as usize)
                .checked_sub(range.start)
                .filter(|&t| t > i && t <= code.len())
                .ok_or_else(|| declined("jump out of range"))?;
            target[to] = true;
            entry[to] = Some(match entry[to].take() {
                None => stack,
                Some(e) => join(&e, &stack)?,
            });
            Ok(())
        };
        let falls_through = match op {
            Op::Fail(_) => false,
            Op::Jump(t) => {
                edge(t, stack.clone())?;
                false
            }
            Op::JumpIfFalse(t) => {
                edge(t, stack.clone())?;
                true
            }
            Op::ShortCircuit { target: t, .. } => {
                let mut taken = stack.clone();
                taken.push(Kind::Bool);
                edge(t, taken)?;
                true
            }
            Op::IsOrJump { target: t, .. } => {
                let mut taken = stack.clone();
                taken.push(Kind::Bool);
                edge(t, taken)?;
                stack.extend(operands);
                true
            }
            Op::CheckBool => {
                let top = stack
                    .last_mut()
                    .ok_or_else(|| declined("stack underflow"))?;
                *top = Kind::Bool;
                true
            }
            Op::Require(_) => true,
            _ => {
                let kind = result_kind(op, &operands, stack.len(), program);
                stack.push(kind);
                true
            }
        };
        depth = depth.max(stack.len() + n);
        if falls_through {
            let next = &mut entry[i + 1];
            *next = Some(match next.take() {
                None => stack,
                Some(e) => join(&e, &stack)?,
            });
        }
    }
    Ok(Shapes {
        entry,
        target,
        depth,
    })
}

struct Shapes {
    entry: Vec<Option<Vec<Kind>>>,
    target: Vec<bool>,
    depth: usize,
}

/// Translates policy `policy` of `program` into `builder`'s function, which takes the machine
/// pointer and returns a status. `helpers` are the helpers' ids in `module`.
pub fn translate(
    program: &Program,
    policy: &CompiledPolicy,
    builder: &mut FunctionBuilder<'_>,
    module: &mut JITModule,
    helpers: &[FuncId],
    memos: &mut Memos,
) -> Result<(), Declined> {
    if policy.code.len() > MAX_CODE {
        return Err(declined("too many instructions"));
    }
    let shapes = shapes(program, policy)?;
    if shapes.depth > u16::MAX as usize {
        return Err(declined("the stack is too deep"));
    }
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    let machine = builder.block_params(entry)[0];
    let exit = builder.create_block();
    builder.append_block_param(exit, types::I32);

    let mut t = Translator {
        program,
        builder,
        module,
        helpers,
        refs: [None; Helper::ALL.len()],
        machine,
        exit,
        start: policy.code.start,
        memos,
    };
    let mut blocks = vec![None; shapes.entry.len()];
    for (i, is_target) in shapes.target.iter().enumerate() {
        if *is_target && let Some(shape) = &shapes.entry[i] {
            let block = t.builder.create_block();
            for kind in shape {
                match kind {
                    Kind::Bool => {
                        t.builder.append_block_param(block, types::I8);
                    }
                    Kind::Long => {
                        t.builder.append_block_param(block, types::I64);
                    }
                    Kind::Ref(_) => {}
                }
            }
            blocks[i] = Some((block, shape.clone()));
        }
    }
    let t_blocks = Blocks(blocks);

    let code = &program.code[policy.code.clone()];
    let mut cur: Option<Vec<Item>> = Some(Vec::new());
    for i in 0..=code.len() {
        if let Some((block, shape)) = &t_blocks.0[i] {
            if let Some(items) = cur.take() {
                let args = t.adapt(&items, shape)?;
                t.builder.ins().jump(*block, &args);
            }
            t.builder.switch_to_block(*block);
            let params = t.builder.block_params(*block).to_vec();
            let mut params = params.into_iter();
            let mut items = Vec::with_capacity(shape.len());
            for kind in shape {
                items.push(match kind {
                    Kind::Ref(r) => Item::reference(*r),
                    k => Item::reg(
                        *k,
                        params.next().ok_or_else(|| declined("block parameters"))?,
                    ),
                });
            }
            cur = Some(items);
        }
        let Some(items) = cur.as_mut() else {
            continue;
        };
        if i == code.len() {
            t.settle(items)?;
            let satisfied = t.builder.ins().iconst(types::I32, i64::from(SATISFIED));
            t.builder.ins().return_(&[satisfied]);
            break;
        }
        let pc = policy.code.start + i;
        let keep_going = t.op(code[i], pc, items, &t_blocks)?;
        if !keep_going {
            cur = None;
        }
    }
    t.builder.switch_to_block(exit);
    let status = t.builder.block_params(exit)[0];
    t.builder.ins().return_(&[status]);
    t.builder.seal_all_blocks();
    Ok(())
}

/// The block (and the shape it receives) at each jump target, by offset in the policy's code.
struct Blocks(Vec<Option<(Block, Vec<Kind>)>>);

struct Translator<'t, 'b> {
    program: &'t Program,
    builder: &'t mut FunctionBuilder<'b>,
    module: &'t mut JITModule,
    helpers: &'t [FuncId],
    refs: [Option<FuncRef>; Helper::ALL.len()],
    machine: ir::Value,
    exit: Block,
    start: usize,
    memos: &'t mut Memos,
}

impl Translator<'_, '_> {
    /// Calls `helper` with the machine and `args`; returns its status.
    fn call(&mut self, helper: Helper, args: &[ir::Value]) -> Result<ir::Value, Declined> {
        let n = Helper::ALL
            .iter()
            .position(|h| *h == helper)
            .ok_or_else(|| declined("unknown helper"))?;
        let fref = match self.refs[n] {
            Some(f) => f,
            None => {
                let id = *self
                    .helpers
                    .get(n)
                    .ok_or_else(|| declined("helper not declared"))?;
                let f = self.module.declare_func_in_func(id, self.builder.func);
                self.refs[n] = Some(f);
                f
            }
        };
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(self.machine);
        all.extend_from_slice(args);
        let inst = self.builder.ins().call(fref, &all);
        Ok(self.builder.inst_results(inst)[0])
    }

    fn u32(&mut self, v: u32) -> ir::Value {
        self.builder.ins().iconst(types::I32, i64::from(v))
    }

    /// Leaves with `status` when `stop` is non-zero, else goes on in a new block.
    fn exit_if(&mut self, stop: ir::Value, status: ir::Value) {
        let next = self.builder.create_block();
        self.builder
            .ins()
            .brif(stop, self.exit, &[BlockArg::Value(status)], next, &[]);
        self.builder.switch_to_block(next);
    }

    /// Leaves unconditionally with `status`.
    fn leave(&mut self, status: u32) {
        let s = self.u32(status);
        self.builder.ins().jump(self.exit, &[BlockArg::Value(s)]);
    }

    /// A status-returning helper that stores a value: leaves unless it says done.
    fn checked(&mut self, helper: Helper, args: &[ir::Value]) -> Result<(), Declined> {
        let status = self.call(helper, args)?;
        self.exit_if(status, status);
        Ok(())
    }

    /// A helper answering a boolean: leaves on a stop, else the answer as an `i8`.
    fn boolean(&mut self, helper: Helper, args: &[ir::Value]) -> Result<ir::Value, Declined> {
        let status = self.call(helper, args)?;
        let stop = self
            .builder
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThan, status, 1);
        self.exit_if(stop, status);
        Ok(self.builder.ins().ireduce(types::I8, status))
    }

    /// The item as a boolean in a register (a helper checks its type when it is not one).
    fn bool_of(&mut self, item: Item) -> Result<ir::Value, Declined> {
        match (item.kind, item.value) {
            (Kind::Bool, Some(v)) => Ok(v),
            (Kind::Ref(r), _) => {
                let r = self.u32(r.bits());
                self.boolean(Helper::AsBool, &[r])
            }
            _ => {
                // A type error whenever control gets here: the VM raises it. Translation goes
                // on in a block nothing reaches.
                self.leave(BAIL);
                let unreachable = self.builder.create_block();
                self.builder.switch_to_block(unreachable);
                Ok(self.builder.ins().iconst(types::I8, 0))
            }
        }
    }

    /// The item as an operand reference, storing a register value into slot `pos` if needed.
    fn ref_of(&mut self, item: Item, pos: usize) -> Result<ir::Value, Declined> {
        if let Some(c) = item.constant {
            return Ok(self.u32(OperandRef::constant(c).bits()));
        }
        match (item.kind, item.value) {
            (Kind::Ref(r), _) => Ok(self.u32(r.bits())),
            (Kind::Bool, Some(v)) => {
                let p = self.u32(OperandRef::slot(pos).bits());
                let b = self.builder.ins().uextend(types::I32, v);
                self.checked(Helper::StoreBool, &[p, b])?;
                Ok(p)
            }
            (Kind::Long, Some(v)) => {
                let p = self.u32(OperandRef::slot(pos).bits());
                self.checked(Helper::StoreLong, &[p, v])?;
                Ok(p)
            }
            _ => Err(declined("an item without its value")),
        }
    }

    /// Puts the item's value into slot `pos` (for helpers that read consecutive slots).
    fn materialize(&mut self, item: Item, pos: usize) -> Result<(), Declined> {
        let slot = OperandRef::slot(pos);
        if item.kind == Kind::Ref(slot) {
            return Ok(());
        }
        if let Kind::Ref(r) = item.kind {
            let (r, p) = (self.u32(r.bits()), self.u32(slot.bits()));
            return self.checked(Helper::Load, &[r, p]);
        }
        if let Some(c) = item.constant {
            let (r, p) = (
                self.u32(OperandRef::constant(c).bits()),
                self.u32(slot.bits()),
            );
            return self.checked(Helper::Load, &[r, p]);
        }
        self.ref_of(item, pos).map(|_| ())
    }

    /// Reads the variables' attributes still pending on the stack (into their slots) before
    /// the policy's code stops: reading one may fail, and then the VM must raise that error.
    fn settle(&mut self, items: &mut [Item]) -> Result<(), Declined> {
        for (pos, item) in items.iter_mut().enumerate() {
            if is_attr(item.kind) {
                self.materialize(*item, pos)?;
                *item = Item::reference(OperandRef::slot(pos));
            }
        }
        Ok(())
    }

    /// Brings the stack to `shape` (a jump target's) and gives the block arguments.
    fn adapt(&mut self, items: &[Item], shape: &[Kind]) -> Result<Vec<BlockArg>, Declined> {
        if items.len() != shape.len() {
            return Err(declined("stack heights differ at a jump"));
        }
        let mut args = Vec::new();
        for (pos, (item, kind)) in items.iter().zip(shape).enumerate() {
            match kind {
                Kind::Bool | Kind::Long => {
                    if item.kind != *kind {
                        return Err(declined("kinds differ at a jump"));
                    }
                    args.push(BlockArg::Value(
                        item.value
                            .ok_or_else(|| declined("an item without its value"))?,
                    ));
                }
                Kind::Ref(r) => {
                    if item.kind == Kind::Ref(*r) {
                        continue;
                    }
                    if *r != OperandRef::slot(pos) {
                        return Err(declined("a join that is not a slot"));
                    }
                    self.materialize(*item, pos)?;
                }
            }
        }
        Ok(args)
    }

    /// The block at absolute position `to` and the shape it receives.
    fn target(&self, to: u32, blocks: &Blocks) -> Result<(Block, Vec<Kind>), Declined> {
        let (block, shape) = (to as usize)
            .checked_sub(self.start)
            .and_then(|t| blocks.0.get(t))
            .and_then(Option::as_ref)
            .ok_or_else(|| declined("a jump to no block"))?;
        Ok((*block, shape.clone()))
    }

    /// Ends the current block with a branch on `cond`: to the block at `to` with `items` when
    /// it is `when`, else on to a new block, where translation goes on. The jump passes through
    /// an edge block of its own, where values are stored for the join.
    fn branch(
        &mut self,
        cond: ir::Value,
        when: bool,
        to: u32,
        items: &[Item],
        blocks: &Blocks,
    ) -> Result<(), Declined> {
        let (block, shape) = self.target(to, blocks)?;
        let edge = self.builder.create_block();
        let next = self.builder.create_block();
        if when {
            self.builder.ins().brif(cond, edge, &[], next, &[]);
        } else {
            self.builder.ins().brif(cond, next, &[], edge, &[]);
        }
        self.builder.switch_to_block(edge);
        let args = self.adapt(items, &shape)?;
        self.builder.ins().jump(block, &args);
        self.builder.switch_to_block(next);
        Ok(())
    }

    /// Translates one instruction at absolute position `pc`. Returns whether control falls
    /// through to the next.
    fn op(
        &mut self,
        op: Op,
        pc: usize,
        items: &mut Vec<Item>,
        blocks: &Blocks,
    ) -> Result<bool, Declined> {
        let n = pops(op, self.program)?;
        let at = items
            .len()
            .checked_sub(n)
            .ok_or_else(|| declined("stack underflow"))?;
        let operands = items.split_off(at);
        let pc32 = u32::try_from(pc).map_err(|_| declined("code too long"))?;
        let kinds: Vec<Kind> = operands.iter().map(|i| i.kind).collect();
        let ins_bool = |t: &mut Self, v: bool| t.builder.ins().iconst(types::I8, i64::from(v));
        match op {
            Op::Push(i) => {
                let item = match self.program.constants.values.get(i as usize) {
                    Some(Value::Bool(b)) => Item {
                        constant: Some(i),
                        ..Item::reg(Kind::Bool, ins_bool(self, *b))
                    },
                    Some(Value::Long(l)) => Item {
                        constant: Some(i),
                        ..Item::reg(Kind::Long, self.builder.ins().iconst(types::I64, *l))
                    },
                    Some(_) => Item::reference(OperandRef::constant(i)),
                    None => return Err(declined("constant out of range")),
                };
                items.push(item);
            }
            Op::Var(v) => items.push(Item::reference(OperandRef::var(v))),
            // A variable's attribute is read when (and if) it is used, and once per request.
            Op::GetAttr(name) if is_var(kinds[0]).is_some() => {
                let var = is_var(kinds[0]).unwrap_or(Var::Principal);
                let attr = match self.program.constants.names.get(name as usize) {
                    Some(n) => self.memos.attr(var, n),
                    None => None,
                };
                match attr {
                    Some(a) => items.push(Item::reference(a)),
                    None => {
                        let value =
                            self.compute(op, pc32, &operands, at, Kind::Ref(OperandRef::slot(at)))?;
                        debug_assert!(value.is_none());
                        items.push(Item::reference(OperandRef::slot(at)));
                    }
                }
            }
            Op::Fail(_) => {
                self.leave(BAIL);
                return Ok(false);
            }
            Op::Jump(to) => {
                let (block, shape) = self.target(to, blocks)?;
                let args = self.adapt(items, &shape)?;
                self.builder.ins().jump(block, &args);
                return Ok(false);
            }
            Op::JumpIfFalse(to) => {
                let b = self.bool_of(operands[0])?;
                self.branch(b, false, to, items, blocks)?;
            }
            Op::ShortCircuit { when, target } => {
                let b = self.bool_of(operands[0])?;
                let mut taken = items.clone();
                taken.push(Item::reg(Kind::Bool, b));
                self.branch(b, when, target, &taken, blocks)?;
            }
            Op::CheckBool => {
                let top = items.pop().ok_or_else(|| declined("stack underflow"))?;
                let b = self.bool_of(top)?;
                items.push(Item::reg(Kind::Bool, b));
            }
            Op::Require(want) => {
                let b = self.bool_of(operands[0])?;
                self.settle(items)?;
                let unsatisfied = self.u32(UNSATISFIED);
                let next = self.builder.create_block();
                let stop = [BlockArg::Value(unsatisfied)];
                if want {
                    self.builder.ins().brif(b, next, &[], self.exit, &stop);
                } else {
                    self.builder.ins().brif(b, self.exit, &stop, next, &[]);
                }
                self.builder.switch_to_block(next);
            }
            Op::IsOrJump { ty, target } => {
                let e = operands[0];
                let r = self.ref_of(e, at)?;
                let ty = self.u32(ty);
                let is = self.boolean(Helper::IsType, &[r, ty])?;
                let mut taken = items.clone();
                taken.push(Item::reg(Kind::Bool, ins_bool(self, false)));
                self.branch(is, false, target, &taken, blocks)?;
                // The entity stays where it was (stored to its slot if it was a register,
                // which an entity never is).
                items.push(e);
            }
            _ => {
                let kind = result_kind(op, &kinds, at, self.program);
                let value = self.compute(op, pc32, &operands, at, kind)?;
                items.push(match value {
                    Some(v) => Item::reg(kind, v),
                    None => Item::reference(match kind {
                        Kind::Ref(r) => r,
                        _ => return Err(declined("a register result without a value")),
                    }),
                });
            }
        }
        Ok(true)
    }

    /// Code for an instruction that pops `operands` and pushes one value of `kind` at `pos`:
    /// the register value, or `None` when it was stored into its slot.
    fn compute(
        &mut self,
        op: Op,
        pc: u32,
        operands: &[Item],
        pos: usize,
        kind: Kind,
    ) -> Result<Option<ir::Value>, Declined> {
        let dst = || OperandRef::slot(pos).bits();
        let reg = |o: &Item| {
            o.value
                .filter(|_| matches!(o.kind, Kind::Bool | Kind::Long))
        };
        match op {
            Op::Unary(UnaryOp::Not) => {
                let b = self.bool_of(operands[0])?;
                Ok(Some(self.builder.ins().bxor_imm_u(b, 1)))
            }
            Op::Unary(UnaryOp::Neg) if kind == Kind::Long => {
                let v = reg(&operands[0]).ok_or_else(|| declined("a long without its value"))?;
                let zero = self.builder.ins().iconst(types::I64, 0);
                let (r, overflow) = self.builder.ins().ssub_overflow(zero, v);
                let bail = self.u32(BAIL);
                self.exit_if(overflow, bail);
                Ok(Some(r))
            }
            Op::Unary(UnaryOp::Neg) => {
                let r = self.ref_of(operands[0], pos)?;
                let d = self.u32(dst());
                self.checked(Helper::Negate, &[r, d])?;
                Ok(None)
            }
            Op::Unary(UnaryOp::IsEmpty) => {
                let r = self.ref_of(operands[0], pos)?;
                let p = self.u32(pc);
                Ok(Some(self.boolean(Helper::UnaryBool, &[p, r])?))
            }
            Op::Binary(bop) => self.binary(bop, pc, operands, pos, kind),
            Op::Call { .. } => {
                let (a, b) = match operands {
                    [a] => (self.ref_of(*a, pos)?, self.u32(0)),
                    [a, b] => (self.ref_of(*a, pos)?, self.ref_of(*b, pos + 1)?),
                    // Every extension function takes one or two arguments: any other count
                    // is an arity error, which the VM raises.
                    _ => {
                        self.leave(BAIL);
                        let unreachable = self.builder.create_block();
                        self.builder.switch_to_block(unreachable);
                        let none = self.builder.ins().iconst(types::I8, 0);
                        return Ok((kind == Kind::Bool).then_some(none));
                    }
                };
                let p = self.u32(pc);
                if kind == Kind::Bool {
                    Ok(Some(self.boolean(Helper::CallBool, &[p, a, b])?))
                } else {
                    let d = self.u32(dst());
                    self.checked(Helper::CallValue, &[p, a, b, d])?;
                    Ok(None)
                }
            }
            Op::MakeSet(n) => {
                for (i, item) in operands.iter().enumerate() {
                    self.materialize(*item, pos + i)?;
                }
                let (base, n) = (self.u32(dst()), self.u32(n));
                self.checked(Helper::MakeSet, &[base, n])?;
                Ok(None)
            }
            Op::MakeRecord(keys) => {
                for (i, item) in operands.iter().enumerate() {
                    self.materialize(*item, pos + i)?;
                }
                let (base, keys) = (self.u32(dst()), self.u32(keys));
                self.checked(Helper::MakeRecord, &[base, keys])?;
                Ok(None)
            }
            Op::GetAttr(name) => {
                let r = self.ref_of(operands[0], pos)?;
                let (name, d) = (self.u32(name), self.u32(dst()));
                self.checked(Helper::GetAttr, &[r, name, d])?;
                Ok(None)
            }
            Op::HasAttrs(i)
                if let Some(var) = is_var(operands[0].kind)
                    && let Some([name]) = self
                        .program
                        .constants
                        .name_lists
                        .get(i as usize)
                        .map(Vec::as_slice)
                    && let Some(a) = self.memos.attr(var, name) =>
            {
                let a = self.u32(a.bits());
                Ok(Some(self.boolean(Helper::HasVarAttr, &[a])?))
            }
            Op::HasAttrs(i) | Op::Like(i) | Op::Is(i) => {
                let helper = match op {
                    Op::HasAttrs(_) => Helper::HasAttrs,
                    Op::Like(_) => Helper::Like,
                    _ => Helper::IsType,
                };
                let r = self.ref_of(operands[0], pos)?;
                let i = self.u32(i);
                Ok(Some(self.boolean(helper, &[r, i])?))
            }
            Op::InTarget => {
                let e = self.ref_of(operands[0], pos)?;
                let t = self.ref_of(operands[1], pos + 1)?;
                Ok(Some(self.boolean(Helper::InTarget, &[e, t])?))
            }
            _ => Err(declined("an instruction with no result")),
        }
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        pc: u32,
        operands: &[Item],
        pos: usize,
        kind: Kind,
    ) -> Result<Option<ir::Value>, Declined> {
        let (l, r) = (operands[0], operands[1]);
        let regs = match (l.kind, r.kind, l.value, r.value) {
            (Kind::Bool, Kind::Bool, Some(a), Some(b)) => Some((Kind::Bool, a, b)),
            (Kind::Long, Kind::Long, Some(a), Some(b)) => Some((Kind::Long, a, b)),
            _ => None,
        };
        let mixed_regs = matches!(
            (l.kind, r.kind),
            (Kind::Bool, Kind::Long) | (Kind::Long, Kind::Bool)
        );
        match (op, regs) {
            (BinaryOp::Eq | BinaryOp::NotEq, Some((_, a, b))) => {
                let cc = if op == BinaryOp::Eq {
                    IntCC::Equal
                } else {
                    IntCC::NotEqual
                };
                return Ok(Some(self.builder.ins().icmp(cc, a, b)));
            }
            (BinaryOp::Eq | BinaryOp::NotEq, None) if mixed_regs => {
                // A boolean never equals a long.
                let v = i64::from(op == BinaryOp::NotEq);
                return Ok(Some(self.builder.ins().iconst(types::I8, v)));
            }
            (
                BinaryOp::Less | BinaryOp::LessEq | BinaryOp::Greater | BinaryOp::GreaterEq,
                Some((Kind::Long, a, b)),
            ) => {
                let cc = match op {
                    BinaryOp::Less => IntCC::SignedLessThan,
                    BinaryOp::LessEq => IntCC::SignedLessThanOrEqual,
                    BinaryOp::Greater => IntCC::SignedGreaterThan,
                    _ => IntCC::SignedGreaterThanOrEqual,
                };
                return Ok(Some(self.builder.ins().icmp(cc, a, b)));
            }
            (BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul, Some((Kind::Long, a, b))) => {
                let (v, overflow) = match op {
                    BinaryOp::Add => self.builder.ins().sadd_overflow(a, b),
                    BinaryOp::Sub => self.builder.ins().ssub_overflow(a, b),
                    _ => self.builder.ins().smul_overflow(a, b),
                };
                let bail = self.u32(BAIL);
                self.exit_if(overflow, bail);
                return Ok(Some(v));
            }
            _ => {}
        }
        let a = self.ref_of(l, pos)?;
        let b = self.ref_of(r, pos + 1)?;
        let p = self.u32(pc);
        if kind == Kind::Bool {
            Ok(Some(self.boolean(Helper::BinaryBool, &[p, a, b])?))
        } else {
            let d = self.u32(OperandRef::slot(pos).bits());
            self.checked(Helper::BinaryValue, &[p, a, b, d])?;
            Ok(None)
        }
    }
}

/// The signature of a policy's function and of each helper, in `module`'s calling convention.
pub fn policy_signature(module: &JITModule) -> ir::Signature {
    let mut sig = module.make_signature();
    sig.params
        .push(AbiParam::new(module.target_config().pointer_type()));
    sig.returns.push(AbiParam::new(types::I32));
    sig
}

pub fn helper_signature(module: &JITModule, helper: Helper) -> ir::Signature {
    let mut sig = policy_signature(module);
    for p in helper.params() {
        sig.params.push(AbiParam::new(match p {
            Param::U32 => types::I32,
            Param::I64 => types::I64,
        }));
    }
    sig
}
