//! Dialog scenarios: UAC and UAS creation, routing with loose and strict
//! routers, CSeq ordering, target refresh, ACK for 2xx, early dialogs, and a
//! property test of in-dialog requests ([`properties`]).

use super::*;
use crate::sip::Limits;
use crate::sip::request::{RequestBuilder, Transport, UacRequest};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn rng() -> StdRng {
    StdRng::seed_from_u64(42)
}

/// Prints, parses and prints again: the two prints must be equal.
fn reparse(m: &Message) -> Message {
    let printed = m.to_bytes();
    let parsed = Message::parse(printed.clone(), &Limits::default()).unwrap();
    assert_eq!(parsed.to_bytes(), printed);
    parsed
}

fn parse(text: &str) -> Message {
    Message::parse(Bytes::copy_from_slice(text.as_bytes()), &Limits::default()).unwrap()
}

fn invite(rng: &mut StdRng) -> UacRequest {
    let via = LocalVia::new(Transport::Udp, "192.0.2.1:5060").unwrap();
    RequestBuilder::new(
        Method::Invite,
        "sip:bob@biloxi.example.com",
        "<sip:alice@atlanta.example.com>",
        "<sip:bob@biloxi.example.com>",
        via,
    )
    .contact("<sip:alice@192.0.2.1:5060>")
    .route("<sip:p1.example.com;lr>")
    .build(rng)
    .unwrap()
}

/// A response to `request` as the peer UAS would send it.
fn respond(
    request: &Message,
    code: u16,
    to_tag: Option<&str>,
    contact: Option<&str>,
    record_route: &[&str],
) -> Message {
    let mut r = Message::response(code, "Reason");
    for h in request.headers.iter() {
        if matches!(
            h.name,
            HeaderName::Via | HeaderName::From | HeaderName::CallId | HeaderName::CSeq
        ) {
            r.headers.push(h.name, h.value.clone());
        }
    }
    let to = request.headers.get(HeaderName::To).unwrap().clone();
    let to = match to_tag {
        Some(tag) => {
            let uri = request.header_to().unwrap().uri.as_bytes();
            Bytes::from(format!("<{}>;tag={tag}", String::from_utf8_lossy(uri)))
        }
        None => to,
    };
    r.headers.push(HeaderName::To, to);
    for rr in record_route {
        r.headers.push(HeaderName::RecordRoute, rr.to_string());
    }
    if let Some(contact) = contact {
        r.headers.push(HeaderName::Contact, contact.to_string());
    }
    reparse(&r)
}

fn uri_of(m: &Message) -> &[u8] {
    m.request_uri().unwrap()
}

fn route_uris(m: &Message) -> Vec<String> {
    m.routes()
        .map(|r| String::from_utf8_lossy(r.unwrap().uri.as_bytes()).into_owned())
        .collect()
}

/// A confirmed UAC dialog behind two loose routers.
fn uac_dialog(rng: &mut StdRng) -> (UacRequest, Message, Dialog) {
    let inv = invite(rng);
    let ok = respond(
        inv.message(),
        200,
        Some("bob-tag"),
        Some("<sip:bob@192.0.2.4:5062;transport=tcp>"),
        &["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"],
    );
    let dialog = Dialog::from_uac_response(inv.message(), &ok).unwrap();
    (inv, ok, dialog)
}

const UAS_INVITE: &str = "INVITE sip:gw@192.0.2.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bKp2\r\n\
Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKcaller\r\n\
Max-Forwards: 69\r\n\
Record-Route: <sip:p2.example.com;lr>\r\n\
Record-Route: <sip:p1.example.com;lr>;x=1\r\n\
From: \"Carol\" <sip:carol@chicago.example.com>;tag=carol-tag\r\n\
To: <sip:gw@example.net>\r\n\
Call-ID: uas-call-1@192.0.2.9\r\n\
CSeq: 10 INVITE\r\n\
Contact: <sip:carol@192.0.2.9:5060>\r\n\
Content-Length: 0\r\n\r\n";

fn uas_dialog() -> Dialog {
    let via = LocalVia::new(Transport::Tcp, "192.0.2.1:5060").unwrap();
    Dialog::from_uas_request(
        &parse(UAS_INVITE),
        Tag::new("gw-tag").unwrap(),
        "<sip:gw@192.0.2.1:5060;transport=tcp>",
        via,
    )
    .unwrap()
}

/// A request from the UAS dialog's peer, with `method`, `cseq` and
/// optionally a Contact.
fn from_carol(method: &str, cseq: u32, contact: Option<&str>) -> Message {
    let contact = contact
        .map(|c| format!("Contact: {c}\r\n"))
        .unwrap_or_default();
    parse(&format!(
        "{method} sip:gw@192.0.2.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bKx{cseq}\r\n\
From: <sip:carol@chicago.example.com>;tag=carol-tag\r\n\
To: <sip:gw@example.net>;tag=gw-tag\r\n\
Call-ID: uas-call-1@192.0.2.9\r\n\
CSeq: {cseq} {method}\r\n{contact}\r\n"
    ))
}

#[test]
fn uac_dialog_from_200_reverses_record_route() {
    let mut rng = rng();
    let (inv, _, mut dialog) = uac_dialog(&mut rng);
    assert_eq!(dialog.state(), DialogState::Confirmed);
    assert_eq!(dialog.role(), Role::Uac);
    assert_eq!(dialog.id().call_id, *inv.call_id());
    assert_eq!(dialog.id().local_tag, *inv.from_tag());
    assert_eq!(dialog.id().remote_tag.as_bytes(), b"bob-tag");
    assert_eq!(dialog.local_seq(), Some(1));
    assert_eq!(dialog.remote_seq(), None);
    assert!(!dialog.is_secure());
    let routes: Vec<_> = dialog.route_set().cloned().collect();
    assert_eq!(
        routes,
        ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    );

    let bye = reparse(&dialog.request(Method::Bye, &mut rng).unwrap());
    assert_eq!(uri_of(&bye), b"sip:bob@192.0.2.4:5062;transport=tcp");
    assert_eq!(
        route_uris(&bye),
        ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
    );
    let cseq = bye.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (2, Method::Bye));
    assert_eq!(
        bye.header_from().unwrap().tag(),
        Some(inv.from_tag().as_bytes())
    );
    assert_eq!(
        bye.header_from().unwrap().uri.as_bytes(),
        b"sip:alice@atlanta.example.com"
    );
    assert_eq!(bye.header_to().unwrap().tag(), Some(&b"bob-tag"[..]));
    assert_eq!(
        bye.header_to().unwrap().uri.as_bytes(),
        b"sip:bob@biloxi.example.com"
    );
    assert_eq!(bye.call_id().unwrap(), inv.call_id().as_bytes());
    assert_eq!(bye.max_forwards().unwrap(), Some(70));
    assert_eq!(bye.contacts().count(), 0);
    let via = bye.top_via().unwrap();
    assert_eq!(via.sent_by(), "192.0.2.1:5060");
    assert!(via.has_rfc3261_branch());
    assert_ne!(via.branch(), Some(inv.branch().as_bytes()));
    assert_eq!(dialog.state(), DialogState::Terminated);
    assert_eq!(
        dialog.request(Method::Info, &mut rng),
        Err(DialogError::Terminated)
    );
}

#[test]
fn uas_dialog_keeps_record_route_order() {
    let mut rng = rng();
    let mut dialog = uas_dialog();
    assert_eq!(dialog.state(), DialogState::Early);
    assert_eq!(dialog.role(), Role::Uas);
    assert_eq!(dialog.remote_seq(), Some(10));
    assert_eq!(dialog.local_seq(), None);
    assert_eq!(dialog.remote_target(), "sip:carol@192.0.2.9:5060");
    assert_eq!(dialog.local_uri(), "sip:gw@example.net");
    assert_eq!(dialog.remote_uri(), "sip:carol@chicago.example.com");
    dialog.confirm();
    assert_eq!(dialog.state(), DialogState::Confirmed);

    let reinvite = reparse(&dialog.request(Method::Invite, &mut rng).unwrap());
    assert_eq!(uri_of(&reinvite), b"sip:carol@192.0.2.9:5060");
    assert_eq!(
        route_uris(&reinvite),
        ["sip:p2.example.com;lr", "sip:p1.example.com;lr"]
    );
    assert_eq!(
        &reinvite
            .headers
            .iter()
            .filter(|h| h.name == HeaderName::Route)
            .nth(1)
            .unwrap()
            .value[..],
        b"<sip:p1.example.com;lr>;x=1"
    );
    assert_eq!(reinvite.header_from().unwrap().tag(), Some(&b"gw-tag"[..]));
    assert_eq!(reinvite.header_to().unwrap().tag(), Some(&b"carol-tag"[..]));
    assert_eq!(reinvite.call_id().unwrap(), b"uas-call-1@192.0.2.9");
    assert_eq!(reinvite.top_via().unwrap().transport, b"TCP");
    assert_eq!(
        reinvite.contacts().next().unwrap().unwrap().uri.as_bytes(),
        b"sip:gw@192.0.2.1:5060;transport=tcp"
    );
    let first = reinvite.cseq().unwrap().seq;
    assert!((1..1 << 16).contains(&first));
    let info = reparse(&dialog.request(Method::Info, &mut rng).unwrap());
    assert_eq!(info.cseq().unwrap().seq, first + 1);
    assert_eq!(dialog.local_seq(), Some(first + 1));
}

#[test]
fn strict_router_becomes_the_request_uri() {
    let mut rng = rng();
    let inv = invite(&mut rng);
    // Reversed, the route set is [p1 (strict), p2 (loose)].
    let ok = respond(
        inv.message(),
        200,
        Some("b"),
        Some("<sip:bob@192.0.2.4>"),
        &[
            "<sip:p2.example.com;lr>",
            "<sip:p1.example.com;transport=tcp>",
        ],
    );
    let mut dialog = Dialog::from_uac_response(inv.message(), &ok).unwrap();
    let bye = reparse(&dialog.request(Method::Bye, &mut rng).unwrap());
    assert_eq!(uri_of(&bye), b"sip:p1.example.com;transport=tcp");
    assert_eq!(
        route_uris(&bye),
        ["sip:p2.example.com;lr", "sip:bob@192.0.2.4"]
    );
    let ack = reparse(&dialog.ack_for_2xx(&ok, &mut rng).unwrap());
    assert_eq!(uri_of(&ack), b"sip:p1.example.com;transport=tcp");
    assert_eq!(route_uris(&ack).last().unwrap(), "sip:bob@192.0.2.4");
}

#[test]
fn no_route_set_sends_to_the_remote_target() {
    let mut rng = rng();
    let inv = invite(&mut rng);
    let ok = respond(
        inv.message(),
        200,
        Some("b"),
        Some("<sip:bob@192.0.2.4>"),
        &[],
    );
    let mut dialog = Dialog::from_uac_response(inv.message(), &ok).unwrap();
    let info = reparse(&dialog.request(Method::Info, &mut rng).unwrap());
    assert_eq!(uri_of(&info), b"sip:bob@192.0.2.4");
    assert_eq!(info.routes().count(), 0);
}

#[test]
fn remote_cseq_must_rise() {
    let mut dialog = uas_dialog();
    dialog.confirm();
    let err = dialog
        .handle_request(&from_carol("INFO", 10, None))
        .unwrap_err();
    assert_eq!(
        err,
        DialogError::CSeqOutOfOrder {
            received: 10,
            last: 10
        }
    );
    assert_eq!(err.status(), 500);
    assert!(dialog.handle_request(&from_carol("INFO", 9, None)).is_err());
    assert_eq!(dialog.remote_seq(), Some(10));
    // The ACK for the INVITE reuses its CSeq.
    dialog.handle_request(&from_carol("ACK", 10, None)).unwrap();
    dialog
        .handle_request(&from_carol("INFO", 11, None))
        .unwrap();
    assert_eq!(dialog.remote_seq(), Some(11));
    dialog
        .handle_request(&from_carol("INFO", 500, None))
        .unwrap();
    assert_eq!(dialog.remote_seq(), Some(500));

    let mut uac = uac_dialog(&mut rng()).2;
    assert_eq!(uac.remote_seq(), None);
    let mut req = from_carol("INFO", 1, None);
    req.headers
        .set(HeaderName::CallId, uac.id().call_id.to_bytes());
    req.headers.set(
        HeaderName::To,
        format!("<sip:alice@atlanta.example.com>;tag={}", uac.id().local_tag),
    );
    req.headers
        .set(HeaderName::From, "<sip:bob@biloxi.example.com>;tag=bob-tag");
    uac.handle_request(&req).unwrap();
    assert_eq!(uac.remote_seq(), Some(1));
}

#[test]
fn foreign_and_malformed_requests() {
    let mut dialog = uas_dialog();
    let mut other = from_carol("BYE", 11, None);
    other
        .headers
        .set(HeaderName::To, "<sip:gw@example.net>;tag=other");
    let err = dialog.handle_request(&other).unwrap_err();
    assert_eq!((err.clone(), err.status()), (DialogError::NoDialog, 481));

    let mut bad = from_carol("BYE", 11, None);
    bad.headers.set(HeaderName::CSeq, "eleven BYE");
    assert_eq!(dialog.handle_request(&bad).unwrap_err().status(), 400);
    let mut untagged = from_carol("BYE", 11, None);
    untagged
        .headers
        .set(HeaderName::From, "<sip:carol@chicago.example.com>");
    let err = dialog.handle_request(&untagged).unwrap_err();
    assert_eq!(
        (err.clone(), err.status()),
        (DialogError::MissingTag { header: "From" }, 400)
    );
    let bad_contact = from_carol("INVITE", 11, Some("<sip:carol@"));
    assert_eq!(
        dialog.handle_request(&bad_contact).unwrap_err().status(),
        400
    );
    assert_eq!(dialog.remote_seq(), Some(10));
    assert_eq!(dialog.remote_target(), "sip:carol@192.0.2.9:5060");

    dialog.handle_request(&from_carol("BYE", 11, None)).unwrap();
    assert_eq!(dialog.state(), DialogState::Terminated);
    let after = dialog
        .handle_request(&from_carol("INFO", 12, None))
        .unwrap_err();
    assert_eq!(after.status(), 481);
}

#[test]
fn target_refresh_by_reinvite() {
    let mut dialog = uas_dialog();
    dialog.confirm();
    dialog
        .handle_request(&from_carol("INFO", 11, Some("<sip:carol@198.51.100.7>")))
        .unwrap();
    assert_eq!(dialog.remote_target(), "sip:carol@192.0.2.9:5060");
    dialog
        .handle_request(&from_carol(
            "INVITE",
            12,
            Some("<sip:carol@198.51.100.7:5070>"),
        ))
        .unwrap();
    assert_eq!(dialog.remote_target(), "sip:carol@198.51.100.7:5070");
    let bye = reparse(&dialog.request(Method::Bye, &mut rng()).unwrap());
    assert_eq!(uri_of(&bye), b"sip:carol@198.51.100.7:5070");

    // And on the UAC side, by the 2xx to a re-INVITE it sent.
    let mut rng = rng();
    let (_, _, mut uac) = uac_dialog(&mut rng);
    let reinvite = reparse(&uac.request(Method::Invite, &mut rng).unwrap());
    let ok = respond(
        &reinvite,
        200,
        Some("bob-tag"),
        Some("<sip:bob@203.0.113.5>"),
        &[],
    );
    uac.handle_response(&ok).unwrap();
    assert_eq!(uac.remote_target(), "sip:bob@203.0.113.5");
    assert_eq!(
        uac.route_set().count(),
        2,
        "the route set stays once confirmed"
    );
    let ack = reparse(&uac.ack_for_2xx(&ok, &mut rng).unwrap());
    assert_eq!(uri_of(&ack), b"sip:bob@203.0.113.5");
    assert_eq!(ack.cseq().unwrap().seq, 2);
}

#[test]
fn ack_for_2xx_shape() {
    let mut rng = rng();
    let (inv, ok, dialog) = uac_dialog(&mut rng);
    let ack = reparse(&dialog.ack_for_2xx(&ok, &mut rng).unwrap());
    assert_eq!(ack.method(), Some(&Method::Ack));
    let cseq = ack.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (1, Method::Ack));
    let branch = ack.top_via().unwrap().branch().unwrap().to_vec();
    assert!(branch.starts_with(b"z9hG4bK"));
    assert_ne!(branch, inv.branch().as_bytes());
    assert_eq!(uri_of(&ack), b"sip:bob@192.0.2.4:5062;transport=tcp");
    assert_eq!(
        route_uris(&ack),
        ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
    );
    assert_eq!(ack.header_to().unwrap().tag(), Some(&b"bob-tag"[..]));
    assert_eq!(dialog.local_seq(), Some(1));

    let ringing = respond(inv.message(), 180, Some("bob-tag"), None, &[]);
    assert!(matches!(
        dialog.ack_for_2xx(&ringing, &mut rng),
        Err(DialogError::WrongMessage { .. })
    ));
    let fork = respond(inv.message(), 200, Some("other"), Some("<sip:x@h>"), &[]);
    assert_eq!(
        dialog.ack_for_2xx(&fork, &mut rng),
        Err(DialogError::NoDialog)
    );
    let mut d = dialog;
    assert_eq!(
        d.request(Method::Ack, &mut rng),
        Err(DialogError::Method(Method::Ack))
    );
}

#[test]
fn early_dialog_is_confirmed_by_the_2xx() {
    let mut rng = rng();
    let inv = invite(&mut rng);
    let trying = respond(inv.message(), 100, None, None, &[]);
    assert_eq!(
        Dialog::from_uac_response(inv.message(), &trying),
        Err(DialogError::NotDialogCreating { status: 100 })
    );
    let untagged = respond(inv.message(), 180, None, None, &[]);
    assert!(Dialog::from_uac_response(inv.message(), &untagged).is_err());

    let ringing = respond(
        inv.message(),
        180,
        Some("bob-tag"),
        None,
        &["<sip:p1.example.com;lr>"],
    );
    let mut dialog = Dialog::from_uac_response(inv.message(), &ringing).unwrap();
    assert_eq!(dialog.state(), DialogState::Early);
    assert_eq!(dialog.remote_target(), "sip:bob@biloxi.example.com");
    assert_eq!(dialog.route_set().count(), 1);
    let progress = respond(
        inv.message(),
        183,
        Some("bob-tag"),
        Some("<sip:bob@192.0.2.4>"),
        &[],
    );
    dialog.handle_response(&progress).unwrap();
    assert_eq!(dialog.remote_target(), "sip:bob@192.0.2.4");
    assert_eq!(dialog.state(), DialogState::Early);
    let prack = reparse(&dialog.request(Method::Prack, &mut rng).unwrap());
    assert_eq!(prack.cseq().unwrap().seq, 2);

    let ok = respond(
        inv.message(),
        200,
        Some("bob-tag"),
        Some("<sip:bob@192.0.2.5>"),
        &["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"],
    );
    dialog.handle_response(&ok).unwrap();
    assert_eq!(dialog.state(), DialogState::Confirmed);
    assert_eq!(dialog.remote_target(), "sip:bob@192.0.2.5");
    let routes: Vec<_> = dialog.route_set().cloned().collect();
    assert_eq!(
        routes,
        ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    );

    let mut rejected = Dialog::from_uac_response(inv.message(), &ringing).unwrap();
    rejected
        .handle_response(&respond(inv.message(), 486, Some("bob-tag"), None, &[]))
        .unwrap();
    assert_eq!(rejected.state(), DialogState::Terminated);
}

#[test]
fn a_481_ends_the_dialog() {
    let mut rng = rng();
    let (_, _, mut dialog) = uac_dialog(&mut rng);
    let info = dialog.request(Method::Info, &mut rng).unwrap();
    dialog
        .handle_response(&respond(&info, 481, Some("bob-tag"), None, &[]))
        .unwrap();
    assert_eq!(dialog.state(), DialogState::Terminated);
    let foreign = respond(&info, 200, Some("nope"), None, &[]);
    assert_eq!(dialog.handle_response(&foreign), Err(DialogError::NoDialog));
}

#[test]
fn secure_flag_needs_sips_and_tls() {
    let sips = UAS_INVITE
        .replace("INVITE sip:gw@", "INVITE sips:gw@")
        .replace("SIP/2.0/UDP p2", "SIP/2.0/TLS p2");
    let via = LocalVia::new(Transport::Tls, "192.0.2.1:5061").unwrap();
    let tag = Tag::new("t").unwrap();
    let d = Dialog::from_uas_request(
        &parse(&sips),
        tag.clone(),
        "<sips:gw@192.0.2.1>",
        via.clone(),
    )
    .unwrap();
    assert!(d.is_secure());
    let plain = sips.replace("SIP/2.0/TLS p2", "SIP/2.0/TCP p2");
    let d = Dialog::from_uas_request(
        &parse(&plain),
        tag.clone(),
        "<sips:gw@192.0.2.1>",
        via.clone(),
    )
    .unwrap();
    assert!(!d.is_secure());
    assert!(matches!(
        Dialog::from_uas_request(&parse(&plain), tag, "<sips:gw@\r\n", via),
        Err(DialogError::Local(_))
    ));
}

#[test]
fn dialog_set_finds_by_swapped_tags() {
    let mut rng = rng();
    let mut set = DialogSet::new();
    let (inv, _, uac) = uac_dialog(&mut rng);
    let fork = respond(inv.message(), 200, Some("fork-2"), Some("<sip:b2@h>"), &[]);
    let forked = Dialog::from_uac_response(inv.message(), &fork).unwrap();
    set.insert(uac);
    set.insert(forked);
    set.insert(uas_dialog());
    assert_eq!(set.len(), 3);

    let found = set.find_for_response(&fork).unwrap();
    assert_eq!(found.remote_target(), "sip:b2@h");
    let d = set.handle_request(&from_carol("INFO", 11, None)).unwrap();
    assert_eq!(d.remote_seq(), Some(11));
    let stale = set
        .handle_request(&from_carol("INFO", 11, None))
        .unwrap_err();
    assert_eq!(stale.status(), 500);
    let mut out_of_dialog = from_carol("OPTIONS", 1, None);
    out_of_dialog
        .headers
        .set(HeaderName::To, "<sip:gw@example.net>");
    assert_eq!(
        set.find_for_request(&out_of_dialog).unwrap_err(),
        DialogError::NoDialog
    );
    set.handle_request(&from_carol("BYE", 12, None)).unwrap();
    assert_eq!(set.remove_terminated(), 1);
    assert_eq!(set.len(), 2);
    assert_eq!(
        set.handle_request(&from_carol("INFO", 13, None))
            .unwrap_err()
            .status(),
        481
    );
}

mod properties;
