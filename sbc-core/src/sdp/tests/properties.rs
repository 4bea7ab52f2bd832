//! Property tests: printing a parsed description and parsing it again gives
//! the same model, and the parser never panics on line soup.

use crate::sdp::{Limits, SessionDescription};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = String> {
    "[ -~]{0,24}".prop_map(|s| s.trim_end().to_owned())
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9./+-]{1,12}"
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        (token(), proptest::option::of(value())).prop_map(|(n, v)| match v {
            Some(v) => format!("a={n}:{v}"),
            None => format!("a={n}"),
        }),
        value().prop_map(|v| format!("i={v}")),
        (token(), token(), token()).prop_map(|(a, b, c)| format!("c={a} {b} {c}")),
        (token(), any::<u32>()).prop_map(|(t, n)| format!("b={t}:{n}")),
        (
            "(audio|video|application)",
            any::<u16>(),
            token(),
            prop::collection::vec("[0-9]{1,3}", 1..5)
        )
            .prop_map(|(m, p, proto, f)| format!("m={m} {p} {proto} {}", f.join(" "))),
        (1u32..999, "[A-Z_0-9]{3,20}", "[A-Za-z0-9+/=]{4,40}")
            .prop_map(|(t, s, k)| format!("a=crypto:{t} {s} inline:{k}|2^31")),
        (any::<u32>(), any::<u16>()).prop_map(|(p, port)| format!(
            "a=candidate:1 1 udp {p} 10.0.0.1 {port} typ host generation 0"
        )),
    ]
}

fn description() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(line(), 0..20),
        prop::bool::ANY,
        value(),
    )
        .prop_map(|(lines, lf, name)| {
            let eol = if lf { "\n" } else { "\r\n" };
            let mut s = format!("v=0{eol}o=- 1 2 IN IP4 192.0.2.1{eol}s={name}{eol}t=0 0{eol}");
            for l in lines {
                s.push_str(&l);
                s.push_str(eol);
            }
            s
        })
}

proptest! {
    #[test]
    fn print_parse_round_trip(text in description()) {
        let limits = Limits::default();
        if let Ok(sdp) = SessionDescription::parse(text.as_bytes(), &limits) {
            let printed = sdp.to_string();
            let again = SessionDescription::parse(printed.as_bytes(), &limits).unwrap();
            prop_assert_eq!(&again, &sdp);
            prop_assert_eq!(again.to_string(), printed);
            for m in &sdp.media {
                let _ = (m.rtpmaps().count(), m.candidates().count(), m.cryptos().count());
            }
        }
    }

    #[test]
    fn never_panics_on_noise(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = SessionDescription::parse(&bytes, &Limits::default());
        let mut with_head = b"v=0\no=- 1 1 IN IP4 1.1.1.1\n".to_vec();
        with_head.extend_from_slice(&bytes);
        if let Ok(sdp) = SessionDescription::parse(&with_head, &Limits::default()) {
            let again = SessionDescription::parse(sdp.to_string().as_bytes(), &Limits::default());
            prop_assert_eq!(again.as_ref(), Ok(&sdp));
        }
    }
}
