//! `cargo bench -p sbc-bench`: sbc-core's parser against rsip 0.4 on the
//! same INVITE and the same routing-header reads. Criterion measures each;
//! then, in the same run, a summary gives ns per parse for both, their
//! ratio and the allocations each makes (this binary counts them).

use criterion::Criterion;
use sbc_bench::{CountingAlloc, INVITE, Opaque, count_allocations, nanos_per_call, ours, rsip};
use std::hint::black_box;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn main() {
    let mut c = Criterion::default().configure_from_args();
    c.bench_function("sbc-core: parse INVITE + routing reads", |b| {
        b.iter(|| ours(black_box(INVITE), &mut Opaque).expect("parses"))
    });
    c.bench_function("rsip 0.4: parse INVITE + routing reads", |b| {
        b.iter(|| rsip(black_box(INVITE), &mut Opaque).expect("parses"))
    });
    c.final_summary();

    let ours_ns = nanos_per_call(|| ours(black_box(INVITE), &mut Opaque).expect("parses"));
    let rsip_ns = nanos_per_call(|| rsip(black_box(INVITE), &mut Opaque).expect("parses"));
    let (_, ours_allocs) = count_allocations(|| ours(INVITE, &mut Opaque));
    let (_, rsip_allocs) = count_allocations(|| rsip(INVITE, &mut Opaque));
    println!(
        "\nparse a {}-byte INVITE and read its routing headers:",
        INVITE.len()
    );
    println!("  sbc-core  {ours_ns:>8.0} ns/parse  {ours_allocs:>4} allocations");
    println!("  rsip 0.4  {rsip_ns:>8.0} ns/parse  {rsip_allocs:>4} allocations");
    println!("  rsip / sbc-core: {:.1}x the time", rsip_ns / ours_ns);
}
