//! Native code for a program's policies: built with Cranelift into memory this module owns,
//! called through [`NativeCode::call`], freed when the [`NativeCode`] is dropped.

#![allow(unsafe_code)]

use std::sync::Mutex;
use std::time::{Duration, Instant};

use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module, default_libcall_names};

use thuja_compiler::program::Program;
use thuja_vm::Machine;

use crate::helpers::Helper;
use crate::translate::{self, Declined};

/// A policy's native function: takes the machine, returns a status.
type NativeFn = unsafe extern "C" fn(*mut u8) -> u32;

/// How a policy runs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Tier {
    /// Its conditions are native code.
    Native(Function),
    /// It has no code to run (no conditions, scope decided by the index): always satisfied.
    Empty,
    /// The VM runs it, for the reason given.
    Vm(String),
}

/// A compiled function's entry point.
#[derive(Clone, Copy, Debug)]
pub struct Function(NativeFn);

/// Options for compiling.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Run Cranelift's IR verifier on every function (on in debug builds); a function that
    /// fails it runs on the VM.
    pub verify: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            verify: cfg!(debug_assertions),
        }
    }
}

/// Native code for a program: one [`Tier`] per policy, and the memory holding the code.
pub struct NativeCode {
    pub(crate) tiers: Vec<Tier>,
    /// Each policy's native function, `None` where the VM runs it (or there is nothing to run):
    /// what answering a request reads, kept compact (one word per policy).
    pub(crate) functions: Vec<Option<Function>>,
    /// The program's size, to refuse running the code with another program.
    pub(crate) shape: (usize, usize),
    pub(crate) compile_time: Duration,
    /// Owns the code's memory; `None` only while being dropped. Behind a mutex because the
    /// module is `Send` but not `Sync`; it is only touched when built and when dropped.
    module: Mutex<Option<JITModule>>,
}

impl std::fmt::Debug for NativeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeCode")
            .field("tiers", &self.tiers)
            .field("compile_time", &self.compile_time)
            .finish_non_exhaustive()
    }
}

/// Why no native code could be made at all.
#[derive(Debug, thiserror::Error)]
#[error("JIT unavailable: {0}")]
pub struct Unavailable(String);

impl NativeCode {
    /// Compiles every policy of `program` it can; the others run on the VM.
    pub fn compile(program: &Program, options: Options) -> Result<NativeCode, Unavailable> {
        let started = Instant::now();
        let mut module = new_module(options)?;
        let helpers = Helper::ALL
            .iter()
            .map(|h| {
                let sig = translate::helper_signature(&module, *h);
                module
                    .declare_function(h.symbol(), Linkage::Import, &sig)
                    .map_err(|e| Unavailable(e.to_string()))
            })
            .collect::<Result<Vec<FuncId>, _>>()?;
        let mut memos = translate::Memos::new(program);
        let mut ctx = module.make_context();
        let mut fctx = FunctionBuilderContext::new();
        let mut pending: Vec<Result<FuncId, String>> = Vec::with_capacity(program.policies.len());
        for (n, policy) in program.policies.iter().enumerate() {
            if policy.code.is_empty() {
                pending.push(Err(String::new()));
                continue;
            }
            module.clear_context(&mut ctx);
            ctx.func.signature = translate::policy_signature(&module);
            let mut builder = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let translated = translate::translate(
                program,
                policy,
                &mut builder,
                &mut module,
                &helpers,
                &mut memos,
            );
            let outcome = match translated {
                Ok(()) => {
                    builder.finalize(module.target_config());
                    define(&mut module, &mut ctx, n)
                }
                Err(Declined(why)) => {
                    // The builder stopped half-way: start the next function on a clean context.
                    fctx = FunctionBuilderContext::new();
                    Err(why)
                }
            };
            pending.push(outcome);
        }
        module.clear_context(&mut ctx);
        module
            .finalize_definitions()
            .map_err(|e| Unavailable(e.to_string()))?;
        let tiers: Vec<Tier> = pending
            .into_iter()
            .zip(&program.policies)
            .map(|(outcome, policy)| match outcome {
                Ok(id) => {
                    let address = module.get_finalized_function(id);
                    // SAFETY: `id` was defined with `policy_signature` — one pointer in, one
                    // `i32` out, in the platform's C calling convention — which is `NativeFn`.
                    Tier::Native(Function(unsafe {
                        std::mem::transmute::<*const u8, NativeFn>(address)
                    }))
                }
                Err(_) if policy.code.is_empty() => Tier::Empty,
                Err(why) => Tier::Vm(why),
            })
            .collect();
        let functions = tiers
            .iter()
            .map(|t| match t {
                Tier::Native(f) => Some(*f),
                Tier::Empty | Tier::Vm(_) => None,
            })
            .collect();
        Ok(NativeCode {
            functions,
            tiers,
            shape: (program.policies.len(), program.code.len()),
            compile_time: started.elapsed(),
            module: Mutex::new(Some(module)),
        })
    }

    /// Runs `f` on `machine`, whose stack it uses as its slots (left as they are: code writes
    /// a slot before it reads it). Returns the status.
    pub(crate) fn call(&self, f: Function, machine: &mut Machine<'_>) -> u32 {
        let m: *mut Machine<'_> = machine;
        // SAFETY: `f` is code of this `NativeCode`, alive as long as `self` (the memory is
        // freed only by `drop`). It reads and writes no memory of its own accord: it passes
        // `m` to the helpers (`crate::helpers`), which is a live, exclusive machine for the
        // duration of the call.
        unsafe { (f.0)(m.cast()) }
    }

    /// How policy `n` runs.
    pub fn tier(&self, n: usize) -> Option<&Tier> {
        self.tiers.get(n)
    }

    /// How many policies run natively (including those with nothing to run).
    pub fn native_count(&self) -> usize {
        self.tiers
            .iter()
            .filter(|t| !matches!(t, Tier::Vm(_)))
            .count()
    }

    /// How long translating and compiling took.
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }
}

impl Drop for NativeCode {
    fn drop(&mut self) {
        let module = match self.module.get_mut() {
            Ok(m) => m.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(module) = module {
            // SAFETY: no function of this module can be running or called later: calls borrow
            // `self`, and `self` is being dropped; the tiers holding the entry points go with it.
            unsafe { module.free_memory() };
        }
    }
}

fn new_module(options: Options) -> Result<JITModule, Unavailable> {
    let unavailable = |e: &dyn std::fmt::Display| Unavailable(e.to_string());
    let mut flags = settings::builder();
    let verify = if options.verify { "true" } else { "false" };
    for (name, value) in [
        // Policy code is mostly helper calls and branches: Cranelift's optimiser changes
        // nothing measurable in it (same instruction count per request on the ABAC set), and
        // compiling without it is about a fifth faster.
        ("opt_level", "none"),
        ("enable_verifier", verify),
        ("use_colocated_libcalls", "false"),
        ("is_pic", "false"),
    ] {
        flags.set(name, value).map_err(|e| unavailable(&e))?;
    }
    let isa = cranelift_native::builder()
        .map_err(|e| unavailable(&e))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| unavailable(&e))?;
    let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
    for h in Helper::ALL {
        builder.symbol(h.symbol(), h.address());
    }
    Ok(JITModule::new(builder))
}

/// Defines policy `n`'s function from `ctx`; the error says why Cranelift refused it.
fn define(
    module: &mut JITModule,
    ctx: &mut cranelift_codegen::Context,
    n: usize,
) -> Result<FuncId, String> {
    let id = module
        .declare_function(&format!("policy{n}"), Linkage::Local, &ctx.func.signature)
        .map_err(|e| e.to_string())?;
    module
        .define_function(id, ctx)
        .map_err(|e| format!("Cranelift refused the code: {e:?}"))?;
    Ok(id)
}
