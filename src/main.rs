//! The `wkfuzz` command: see `wkfuzz --help`.

mod cli;

/// Counts allocations per thread so `wkfuzz gate` can hold inputs to a memory limit.
#[global_allocator]
static ALLOC: wkfuzz::triage::alloc::CountingAlloc = wkfuzz::triage::alloc::CountingAlloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
