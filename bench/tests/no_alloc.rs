//! Allocation counts of the benchmark's workload: sbc-core parses the
//! INVITE and reads its routing headers without a single heap allocation;
//! rsip's count is printed for the record. Also checks that both paths read
//! the same values, so the benchmark compares like with like.

use sbc_bench::{Collect, CountingAlloc, Field, INVITE, Opaque, count_allocations, ours, rsip};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn sbc_core_parse_and_routing_reads_allocate_nothing() {
    let (result, allocations) = count_allocations(|| ours(INVITE, &mut Opaque));
    assert_eq!(result, Ok(()));
    assert_eq!(allocations, 0, "allocations on the zero-copy path");
}

#[test]
fn rsip_allocations_for_the_record() {
    let (result, allocations) = count_allocations(|| rsip(INVITE, &mut Opaque));
    assert!(result.is_ok(), "{result:?}");
    println!(
        "rsip 0.4: {allocations} allocations to parse the INVITE and read its routing headers"
    );
    assert!(allocations > 0, "the allocator counts");
}

#[test]
fn both_paths_read_the_same_values() {
    let (mut a, mut b) = (Collect::default(), Collect::default());
    ours(INVITE, &mut a).expect("sbc-core parses");
    rsip(INVITE, &mut b).expect("rsip parses");
    assert_eq!(a, b);
    let get = |f: Field| a.0.iter().find(|(g, _)| *g == f).map(|(_, v)| v.as_str());
    assert_eq!(get(Field::Branch), Some("z9hG4bK74bf9c1.1"));
    assert_eq!(get(Field::SentByHost), Some("198.51.100.1"));
    assert_eq!(
        a.0.iter().filter(|(f, _)| *f == Field::RouteHost).count(),
        2
    );
    let body = INVITE.len() - INVITE.windows(4).position(|w| w == b"\r\n\r\n").unwrap() - 4;
    assert_eq!(get(Field::ContentLength), Some(body.to_string().as_str()));
}
