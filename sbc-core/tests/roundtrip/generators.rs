//! Generators of random SIP messages and their parts, each with the
//! typed values the parser must give back.

use super::*;

// ------------------------------------------------------------------ generators

#[derive(Debug, Clone)]
pub(crate) enum GHost {
    Domain(String),
    V4(Ipv4Addr),
    /// The address and whether to write it in full, uncompressed.
    V6(Ipv6Addr, bool),
}

impl GHost {
    pub(crate) fn render(&self) -> String {
        match self {
            GHost::Domain(d) => d.clone(),
            GHost::V4(a) => a.to_string(),
            GHost::V6(a, false) => format!("[{a}]"),
            GHost::V6(a, true) => {
                let s = a.segments().map(|s| format!("{s:x}"));
                format!("[{}]", s.join(":"))
            }
        }
    }

    pub(crate) fn expect(&self) -> HostX {
        match self {
            GHost::Domain(d) => HostX::Domain(d.clone().into_bytes()),
            GHost::V4(a) => HostX::V4(*a),
            GHost::V6(a, _) => HostX::V6(*a),
        }
    }
}

pub(crate) fn host() -> impl Strategy<Value = GHost> {
    let label = "[a-zA-Z]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?";
    let v6_segment = prop_oneof![Just(0u16), Just(0u16), any::<u16>()];
    prop_oneof![
        3 => vec(label, 1..4).prop_map(|l| GHost::Domain(l.join("."))),
        1 => any::<[u8; 4]>().prop_map(|a| GHost::V4(Ipv4Addr::from(a))),
        1 => (vec(v6_segment, 8), any::<bool>()).prop_map(|(s, full)| {
            let s: [u16; 8] = s.try_into().expect("eight segments");
            GHost::V6(Ipv6Addr::from(s), full)
        }),
    ]
}

/// A URI in any of the places SIP carries one.
#[derive(Debug, Clone)]
pub(crate) struct GUri {
    scheme: &'static str,
    user: Option<String>,
    password: Option<String>,
    host: GHost,
    port: Option<u16>,
    params: Vec<(String, Option<String>)>,
    headers: Vec<(String, String)>,
}

impl GUri {
    pub(crate) fn render(&self) -> String {
        let mut s = format!("{}:", self.scheme);
        if let Some(u) = &self.user {
            s.push_str(u);
            if let Some(p) = &self.password {
                s.push(':');
                s.push_str(p);
            }
            s.push('@');
        }
        s.push_str(&self.host.render());
        if let Some(p) = self.port {
            s.push_str(&format!(":{p}"));
        }
        for (n, v) in &self.params {
            s.push(';');
            s.push_str(n);
            if let Some(v) = v {
                s.push('=');
                s.push_str(v);
            }
        }
        for (i, (n, v)) in self.headers.iter().enumerate() {
            s.push(if i == 0 { '?' } else { '&' });
            s.push_str(&format!("{n}={v}"));
        }
        s
    }

    pub(crate) fn expect(&self) -> UriX {
        let bytes = |s: &String| s.clone().into_bytes();
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        UriX {
            scheme: self.scheme.to_ascii_lowercase(),
            user: self.user.as_ref().map(bytes),
            password: self.user.as_ref().and(self.password.as_ref()).map(bytes),
            host: Some(self.host.expect()),
            port: self.port,
            params: self
                .params
                .iter()
                .map(|(n, v)| (bytes(n), v.as_ref().map(bytes)))
                .collect(),
            headers: (!headers.is_empty()).then(|| headers.join("&").into_bytes()),
        }
    }
}

pub(crate) const ESCAPE: &str = "%[0-9a-fA-F]{2}";

/// User part: unreserved, escapes and the user-unreserved marks; `plain`
/// leaves out `;`, `?` and `,`, which an addr-spec outside `<>` cannot carry.
pub(crate) fn user(plain: bool) -> impl Strategy<Value = String> {
    let marks = if plain { "[&=+$/]" } else { "[&=+$,;?/]" };
    vec(
        prop_oneof![4 => "[a-zA-Z0-9_.!~*'()-]", 1 => ESCAPE, 1 => marks],
        1..10,
    )
    .prop_map(|p| p.concat())
}

pub(crate) fn password(plain: bool) -> impl Strategy<Value = String> {
    let marks = if plain { "[&=+$]" } else { "[&=+$,]" };
    vec(
        prop_oneof![4 => "[a-zA-Z0-9_.!~*'()-]", 1 => ESCAPE, 1 => marks],
        0..6,
    )
    .prop_map(|p| p.concat())
}

pub(crate) fn uri_params() -> impl Strategy<Value = Vec<(String, Option<String>)>> {
    let value = vec(
        prop_oneof![4 => "[a-zA-Z0-9_.!~*'()-]", 1 => ESCAPE, 1 => "[\\[\\]/:&+$]"],
        1..8,
    )
    .prop_map(|p| p.concat());
    let param = prop_oneof![
        Just(("lr".to_owned(), None)),
        select(vec!["udp", "tcp", "tls", "ws", "wss"])
            .prop_map(|t| ("transport".to_owned(), Some(t.to_owned()))),
        ("[a-zA-Z][a-zA-Z0-9_.!~*'()-]{0,6}", option::of(value)),
    ];
    vec(param, 0..4)
}

pub(crate) fn uri_headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let hvalue = vec(
        prop_oneof![4 => "[a-zA-Z0-9_.!~*'()-]", 1 => ESCAPE, 1 => "[\\[\\]/?:+$]"],
        0..8,
    )
    .prop_map(|p| p.concat());
    vec(("[a-zA-Z][a-zA-Z0-9-]{0,6}", hvalue), 0..3)
}

/// A SIP URI. `plain`: usable as an addr-spec outside `<>` (no URI
/// parameters or headers, no `;?,` in the userinfo). `headers`: may carry
/// URI headers (not in a Request-URI).
pub(crate) fn sip_uri(plain: bool, headers: bool) -> impl Strategy<Value = GUri> {
    let scheme = select(vec!["sip", "sip", "sips", "SIP", "Sips"]);
    let userinfo = option::of((user(plain), option::of(password(plain))));
    let params = if plain {
        Just(Vec::new()).boxed()
    } else {
        uri_params().boxed()
    };
    let hdrs = if headers && !plain {
        uri_headers().boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    (
        scheme,
        userinfo,
        host(),
        option::of(any::<u16>()),
        params,
        hdrs,
    )
        .prop_map(|(scheme, ui, host, port, params, headers)| {
            let (user, password) = match ui {
                Some((u, p)) => (Some(u), p),
                None => (None, None),
            };
            GUri {
                scheme,
                user,
                password,
                host,
                port,
                params,
                headers,
            }
        })
}

/// A quoted string's inside: qdtext, UTF-8, quoted pairs, folds.
pub(crate) fn quoted_inner() -> impl Strategy<Value = String> {
    vec(
        prop_oneof![
            8 => "[ !#-\\[\\]-~]",
            1 => "[éüß€日本]",
            2 => "\\\\[ -~]",
            1 => Just("\\\t".to_owned()),
            1 => Just("\r\n ".to_owned()),
        ],
        0..12,
    )
    .prop_map(|p| p.concat())
}

pub(crate) const TOKEN: &str = "[a-zA-Z0-9.!%*_+`'~-]{1,10}";

/// A header parameter value: a token, a host, or a quoted string.
#[derive(Debug, Clone)]
pub(crate) enum GValue {
    Token(String),
    Quoted(String),
}

impl GValue {
    pub(crate) fn render(&self) -> String {
        match self {
            GValue::Token(t) => t.clone(),
            GValue::Quoted(q) => format!("\"{q}\""),
        }
    }

    pub(crate) fn expect(&self) -> B {
        match self {
            GValue::Token(t) | GValue::Quoted(t) => t.clone().into_bytes(),
        }
    }
}

pub(crate) fn value() -> impl Strategy<Value = GValue> {
    prop_oneof![
        3 => TOKEN.prop_map(GValue::Token),
        1 => host().prop_map(|h| GValue::Token(h.render())),
        1 => any::<[u16; 8]>().prop_map(|s| GValue::Token(Ipv6Addr::from(s).to_string())),
        1 => quoted_inner().prop_map(GValue::Quoted),
    ]
}

/// Generic parameters whose names never clash with `special`.
pub(crate) fn generic_params(
    special: &'static str,
) -> impl Strategy<Value = Vec<(String, Option<GValue>)>> {
    vec(
        (
            TOKEN.prop_filter("reserved name", move |n| !n.eq_ignore_ascii_case(special)),
            option::of(value()),
        ),
        0..3,
    )
}

pub(crate) fn render_params(
    t: &mut Tape,
    params: &[(String, Option<GValue>)],
) -> (String, ParamList) {
    let mut s = String::new();
    let mut expected = Vec::new();
    for (n, v) in params {
        s.push_str(&format!("{};{}{n}", t.sws(), t.sws()));
        if let Some(v) = v {
            s.push_str(&format!("{}={}{}", t.sws(), t.sws(), v.render()));
        }
        expected.push((n.clone().into_bytes(), v.as_ref().map(GValue::expect)));
    }
    (s, expected)
}

/// A display name.
#[derive(Debug, Clone)]
pub(crate) enum GDisplay {
    Quoted(String),
    Tokens(Vec<String>),
}

/// From, To, Contact, Route, Record-Route: one address.
#[derive(Debug, Clone)]
pub(crate) struct GNa {
    display: Option<GDisplay>,
    bracket: bool,
    uri: GUri,
    params: Vec<(String, Option<GValue>)>,
}

impl GNa {
    pub(crate) fn render(&self, t: &mut Tape) -> (String, NaX) {
        let mut s = String::new();
        let mut display = None;
        match &self.display {
            Some(GDisplay::Quoted(q)) => {
                s.push_str(&format!("\"{q}\"{}", t.sws()));
                display = Some(q.clone().into_bytes());
            }
            Some(GDisplay::Tokens(tokens)) => {
                let mut d = String::new();
                for (i, tok) in tokens.iter().enumerate() {
                    if i > 0 {
                        d.push_str(t.lws());
                    }
                    d.push_str(tok);
                }
                s.push_str(&format!("{d}{}", t.sws()));
                display = Some(d.into_bytes());
            }
            None => {}
        }
        if self.bracket {
            s.push_str(&format!("<{}>", self.uri.render()));
        } else {
            s.push_str(&self.uri.render());
        }
        let (p, params) = render_params(t, &self.params);
        s.push_str(&p);
        let tag = params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(b"tag"))
            .and_then(|(_, v)| v.clone());
        let expected = NaX {
            display,
            uri: self.uri.expect(),
            params,
            tag,
        };
        (s, expected)
    }
}

pub(crate) fn display() -> impl Strategy<Value = GDisplay> {
    prop_oneof![
        quoted_inner().prop_map(GDisplay::Quoted),
        vec(TOKEN, 1..4).prop_map(GDisplay::Tokens),
    ]
}

/// An address; `tag`: whether it carries a `tag` parameter.
pub(crate) fn name_addr(tag: bool) -> impl Strategy<Value = GNa> {
    let bracketed = (option::of(display()), sip_uri(false, true));
    let plain = sip_uri(true, false).prop_map(|u| (None, u));
    let params = (generic_params("tag"), TOKEN, any::<prop::sample::Index>()).prop_map(
        move |(mut params, tag_value, at)| {
            if tag {
                let at = at.index(params.len() + 1);
                params.insert(at, ("tag".to_owned(), Some(GValue::Token(tag_value))));
            }
            params
        },
    );
    (
        prop_oneof![3 => bracketed.prop_map(|x| (true, x)), 1 => plain.prop_map(|x| (false, x))],
        params,
    )
        .prop_map(|((bracket, (display, uri)), params)| GNa {
            display,
            bracket,
            uri,
            params,
        })
}

/// One Via element.
#[derive(Debug, Clone)]
pub(crate) struct GVia {
    protocol: &'static str,
    transport: String,
    host: GHost,
    port: Option<u16>,
    params: Vec<(String, Option<GValue>)>,
}

impl GVia {
    pub(crate) fn render(&self, t: &mut Tape) -> (String, ViaX) {
        let mut s = format!(
            "{}{}/{}2.0{}/{}{}{}{}",
            self.protocol,
            t.sws(),
            t.sws(),
            t.sws(),
            t.sws(),
            self.transport,
            t.lws(),
            self.host.render()
        );
        if let Some(p) = self.port {
            s.push_str(&format!("{}:{}{p}", t.sws(), t.sws()));
        }
        let (p, params) = render_params(t, &self.params);
        s.push_str(&p);
        let branch = params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(b"branch"))
            .and_then(|(_, v)| v.clone());
        let expected = ViaX {
            transport: self.transport.clone().into_bytes(),
            host: self.host.expect(),
            port: self.port,
            params,
            branch,
        };
        (s, expected)
    }
}

pub(crate) fn via() -> impl Strategy<Value = GVia> {
    let transport = prop_oneof![
        3 => select(vec!["UDP", "TCP", "TLS", "WS", "WSS", "SCTP", "udp"]).prop_map(str::to_owned),
        1 => "[A-Z][A-Z0-9-]{0,5}",
    ];
    let received = prop_oneof![
        any::<[u8; 4]>().prop_map(|a| Ipv4Addr::from(a).to_string()),
        any::<[u16; 8]>().prop_map(|s| Ipv6Addr::from(s).to_string()),
    ];
    let known = (
        "[a-zA-Z0-9.!%*_+`'~-]{1,12}",
        option::of(received),
        option::of(option::of(any::<u16>())),
        generic_params("branch"),
    )
        .prop_map(|(branch, received, rport, mut extra)| {
            let mut params = vec![(
                "branch".to_owned(),
                Some(GValue::Token(format!("z9hG4bK{branch}"))),
            )];
            if let Some(r) = received {
                params.push(("received".to_owned(), Some(GValue::Token(r))));
            }
            if let Some(p) = rport {
                params.push(("rport".to_owned(), p.map(|p| GValue::Token(p.to_string()))));
            }
            extra.retain(|(n, _)| {
                !n.eq_ignore_ascii_case("received") && !n.eq_ignore_ascii_case("rport")
            });
            params.extend(extra);
            params
        });
    (
        select(vec!["SIP", "sip", "Sip"]),
        transport,
        host(),
        option::of(any::<u16>()),
        known,
    )
        .prop_map(|(protocol, transport, host, port, params)| GVia {
            protocol,
            transport,
            host,
            port,
            params,
        })
}

pub(crate) const METHODS: &[&str] = &[
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "OPTIONS",
    "REGISTER",
    "PRACK",
    "SUBSCRIBE",
    "NOTIFY",
    "PUBLISH",
    "INFO",
    "REFER",
    "MESSAGE",
    "UPDATE",
];

pub(crate) fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(METHODS).prop_map(str::to_owned),
        1 => "[A-Z][A-Za-z0-9.!%*_+`'~-]{0,10}",
    ]
}

/// One header line of a generated message.
#[derive(Debug, Clone)]
pub(crate) enum GLine {
    Vias(Vec<GVia>),
    MaxForwards(u8),
    Routes(Vec<GNa>),
    RecordRoutes(Vec<GNa>),
    From(GNa),
    To(GNa),
    CallId(String),
    CSeq(u32),
    Contacts(Vec<GNa>),
    Supported(Vec<String>),
    ContentType(&'static str, &'static str),
    ContentLength,
    Unknown(String, String),
}

#[derive(Debug, Clone)]
pub(crate) enum GStart {
    Request {
        method: String,
        uri: GUri,
    },
    Response {
        code: u16,
        reason: String,
        method: String,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct GMsg {
    start: GStart,
    lines: Vec<GLine>,
    body: Vec<u8>,
    pub(crate) tape: Vec<u8>,
}

/// An extension header's name: a token that names no header this crate knows.
pub(crate) fn unknown_name() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9.!%*_+`'~-]{1,14}".prop_filter("known header", |n| {
        HeaderName::parse(n.as_bytes()) == HeaderName::Other
    })
}

/// Printable text, UTF-8 and folds, no white space at either end.
pub(crate) fn unknown_value() -> impl Strategy<Value = String> {
    vec(
        prop_oneof![
            10 => "[ -~]",
            1 => "[éüß€日本]",
            1 => Just("\t".to_owned()),
            1 => select(vec!["\r\n ", "\r\n\t", "\r\n   "]).prop_map(str::to_owned),
        ],
        0..40,
    )
    .prop_map(|p| {
        p.concat()
            .trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
            .to_owned()
    })
}

pub(crate) fn call_id() -> impl Strategy<Value = String> {
    let word = "[a-zA-Z0-9.!%*_+`'~()<>:\\\\\"/\\[\\]?{}-]{1,16}";
    (word, option::of(word)).prop_map(|(a, b)| match b {
        Some(b) => format!("{a}@{b}"),
        None => a,
    })
}

pub(crate) fn lines() -> impl Strategy<Value = Vec<GLine>> {
    let lists = (
        vec(vec(via(), 1..4), 1..3),
        vec(vec(name_addr(false), 1..3), 0..3),
        vec(vec(name_addr(false), 1..3), 0..3),
        vec(vec(name_addr(false), 1..3), 0..3),
    );
    let singles = (
        name_addr(true),
        name_addr(false),
        call_id(),
        0u32..(1 << 31),
        option::of(any::<u8>()),
        option::of(vec("[a-zA-Z0-9][a-zA-Z0-9.-]{0,8}", 1..4)),
        vec((unknown_name(), unknown_value()), 0..6),
    );
    (lists, singles)
        .prop_map(|((vias, routes, rrs, contacts), singles)| {
            let (from, to, call_id, cseq, mf, supported, unknown) = singles;
            let mut lines: Vec<GLine> = vias.into_iter().map(GLine::Vias).collect();
            lines.extend(routes.into_iter().map(GLine::Routes));
            lines.extend(rrs.into_iter().map(GLine::RecordRoutes));
            lines.extend(contacts.into_iter().map(GLine::Contacts));
            lines.extend([
                GLine::From(from),
                GLine::To(to),
                GLine::CallId(call_id),
                GLine::CSeq(cseq),
                GLine::ContentLength,
            ]);
            lines.extend(mf.map(GLine::MaxForwards));
            lines.extend(supported.map(GLine::Supported));
            lines.extend(unknown.into_iter().map(|(n, v)| GLine::Unknown(n, v)));
            lines
        })
        .prop_shuffle()
}

pub(crate) fn message() -> impl Strategy<Value = GMsg> {
    let start = prop_oneof![
        (method(), sip_uri(false, false)).prop_map(|(method, uri)| GStart::Request { method, uri }),
        (100u16..700, "([ -~]|[éü日]){0,20}", method()).prop_map(|(code, reason, method)| {
            GStart::Response {
                code,
                reason,
                method,
            }
        }),
    ];
    let content_type = select(vec![
        ("application", "sdp"),
        ("text", "plain"),
        ("multipart", "mixed"),
        ("application", "x-private"),
    ]);
    (
        start,
        lines(),
        vec(any::<u8>(), 0..300),
        content_type,
        vec(any::<u8>(), 0..48),
    )
        .prop_map(|(start, mut lines, body, (kind, sub), tape)| {
            if !body.is_empty() {
                lines.push(GLine::ContentType(kind, sub));
            }
            GMsg {
                start,
                lines,
                body,
                tape,
            }
        })
}

/// Joins list elements with commas and optional white space around them.
pub(crate) fn join_list<T, X>(
    t: &mut Tape,
    items: &[T],
    mut render: impl FnMut(&T, &mut Tape) -> (String, X),
) -> (String, Vec<X>) {
    let mut s = String::new();
    let mut expected = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            s.push_str(&format!("{},{}", t.sws(), t.sws()));
        }
        let (text, x) = render(item, t);
        s.push_str(&text);
        expected.push(x);
    }
    (s, expected)
}

/// Renders a generated message into the bytes on the wire and the summary
/// a correct parser gives back.
pub(crate) fn render(m: &GMsg) -> (Vec<u8>, Summary) {
    let t = &mut Tape::new(m.tape.clone());
    let mut out: Vec<u8> = Vec::new();
    let (start, cseq_method) = match &m.start {
        GStart::Request { method, uri } => {
            out.extend(format!("{method} {} SIP/2.0\r\n", uri.render()).bytes());
            let start = StartX::Request {
                method: method.clone().into_bytes(),
                uri: uri.expect(),
            };
            (start, method.clone())
        }
        GStart::Response {
            code,
            reason,
            method,
        } => {
            out.extend(format!("SIP/2.0 {code} {reason}\r\n").bytes());
            let start = StartX::Response {
                code: *code,
                reason: reason.clone().into_bytes(),
            };
            (start, method.clone())
        }
    };
    let placeholder = NaX {
        display: None,
        uri: GUri {
            scheme: "sip",
            user: None,
            password: None,
            host: GHost::Domain("x".into()),
            port: None,
            params: vec![],
            headers: vec![],
        }
        .expect(),
        params: vec![],
        tag: None,
    };
    let mut x = Summary {
        start,
        vias: vec![],
        from: placeholder.clone(),
        to: placeholder,
        call_id: vec![],
        cseq: (0, cseq_method.clone().into_bytes()),
        max_forwards: None,
        routes: vec![],
        record_routes: vec![],
        contacts: vec![],
        supported: vec![],
        content_type: None,
        unknown: vec![],
        body: m.body.clone(),
    };
    for line in &m.lines {
        let (name, value) = match line {
            GLine::Vias(vias) => {
                let (s, v) = join_list(t, vias, GVia::render);
                x.vias.extend(v);
                (t.spell("Via", Some("v")), s)
            }
            GLine::MaxForwards(n) => {
                x.max_forwards = Some(*n);
                (t.spell("Max-Forwards", None), n.to_string())
            }
            GLine::Routes(r) => {
                let (s, v) = join_list(t, r, GNa::render);
                x.routes.extend(v);
                (t.spell("Route", None), s)
            }
            GLine::RecordRoutes(r) => {
                let (s, v) = join_list(t, r, GNa::render);
                x.record_routes.extend(v);
                (t.spell("Record-Route", None), s)
            }
            GLine::Contacts(r) => {
                let (s, v) = join_list(t, r, GNa::render);
                x.contacts.extend(v);
                (t.spell("Contact", Some("m")), s)
            }
            GLine::From(n) => {
                let (s, v) = n.render(t);
                x.from = v;
                (t.spell("From", Some("f")), s)
            }
            GLine::To(n) => {
                let (s, v) = n.render(t);
                x.to = v;
                (t.spell("To", Some("t")), s)
            }
            GLine::CallId(c) => {
                x.call_id = c.clone().into_bytes();
                (t.spell("Call-ID", Some("i")), c.clone())
            }
            GLine::CSeq(n) => {
                x.cseq.0 = *n;
                let zeros = t.pick(&["", "", "0", "00"]);
                (
                    t.spell("CSeq", None),
                    format!("{zeros}{n}{}{cseq_method}", t.lws()),
                )
            }
            GLine::Supported(tags) => {
                x.supported = tags.iter().map(|s| s.clone().into_bytes()).collect();
                let (s, _) = join_list(t, tags, |tag, _| (tag.clone(), ()));
                (t.spell("Supported", Some("k")), s)
            }
            GLine::ContentType(kind, sub) => {
                x.content_type = Some((kind.as_bytes().to_vec(), sub.as_bytes().to_vec()));
                let v = format!("{kind}{}/{}{sub}", t.sws(), t.sws());
                (t.spell("Content-Type", Some("c")), v)
            }
            GLine::ContentLength => (
                t.spell("Content-Length", Some("l")),
                m.body.len().to_string(),
            ),
            GLine::Unknown(n, v) => {
                x.unknown
                    .push((n.clone().into_bytes(), v.clone().into_bytes()));
                (n.clone(), v.clone())
            }
        };
        let (before, after) = (t.wsp(), t.sws());
        out.extend(format!("{name}{before}:{after}{value}\r\n").bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&m.body);
    (out, x)
}
