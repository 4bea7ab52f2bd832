//! Property test: whatever the route set, remote target and sequence of
//! methods, every request a dialog builds parses back with the dialog's
//! Call-ID, tags and a rising CSeq, routed per RFC 3261 §12.2.1.1.

use super::*;
use proptest::prelude::*;

fn in_dialog_method() -> impl Strategy<Value = Method> {
    prop::sample::select(vec![
        Method::Invite,
        Method::Update,
        Method::Info,
        Method::Options,
        Method::Refer,
        Method::Notify,
        Method::Message,
        Method::Prack,
    ])
}

proptest! {
    #[test]
    fn in_dialog_requests_parse_back(
        seed in any::<u64>(),
        record_route in prop::collection::vec(("[a-z]{1,8}\\.example\\.com", any::<bool>()), 0..4),
        target_host in "[a-z]{1,8}\\.example\\.org",
        target_port in prop::option::of(1u16..),
        methods in prop::collection::vec(in_dialog_method(), 1..6),
        uas in any::<bool>(),
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let inv = invite(&mut rng);
        let rr: Vec<String> = record_route
            .iter()
            .map(|(h, lr)| format!("<sip:{h}{}>", if *lr { ";lr" } else { "" }))
            .collect();
        let rr: Vec<&str> = rr.iter().map(String::as_str).collect();
        let port = target_port.map(|p| format!(":{p}")).unwrap_or_default();
        let contact = format!("<sip:peer@{target_host}{port}>");
        let mut dialog = if uas {
            let mut req = inv.message().clone();
            req.headers.remove(HeaderName::Contact);
            req.headers.push(HeaderName::Contact, contact.clone());
            for r in &rr {
                req.headers.push(HeaderName::RecordRoute, r.to_string());
            }
            let via = LocalVia::new(Transport::Ws, "gw.invalid").unwrap();
            Dialog::from_uas_request(&reparse(&req), Tag::random(&mut rng), "<sip:gw@gw.invalid>", via)
                .unwrap()
        } else {
            let ok = respond(inv.message(), 200, Some("peer"), Some(&contact), &rr);
            Dialog::from_uac_response(inv.message(), &ok).unwrap()
        };
        let id = dialog.id().clone();
        let mut last = dialog.local_seq();
        for method in methods {
            let m = reparse(&dialog.request(method.clone(), &mut rng).unwrap());
            prop_assert_eq!(m.call_id().unwrap(), id.call_id.as_bytes());
            prop_assert_eq!(m.header_from().unwrap().tag(), Some(id.local_tag.as_bytes()));
            prop_assert_eq!(m.header_to().unwrap().tag(), Some(id.remote_tag.as_bytes()));
            let cseq = m.cseq().unwrap();
            prop_assert_eq!(&cseq.method, &method);
            if let Some(last) = last {
                prop_assert_eq!(cseq.seq, last + 1);
            }
            last = Some(cseq.seq);
            let routes = m.routes().count();
            let strict = dialog.route_set().next().is_some_and(|r| !r.ends_with(b";lr>"));
            if strict {
                prop_assert_eq!(routes, rr.len());
                prop_assert_ne!(uri_of(&m), dialog.remote_target());
            } else {
                prop_assert_eq!(routes, rr.len());
                prop_assert_eq!(uri_of(&m), dialog.remote_target());
            }
        }
    }
}
