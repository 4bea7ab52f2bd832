//! A loop over sbc-core's side of the parse benchmark, for profilers
//! (`valgrind --tool=callgrind`, `perf record`): 200,000 parses of the
//! benchmark INVITE with the routing-header reads.

use sbc_bench::{INVITE, Opaque, ours};
use std::hint::black_box;

fn main() {
    for _ in 0..200_000 {
        ours(black_box(INVITE), &mut Opaque).expect("parses");
    }
}
