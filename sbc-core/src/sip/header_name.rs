//! Header names: case-insensitive, compact forms (RFC 3261 §7.3.3 and the
//! extensions that define one) folded onto their full names.

use std::fmt;

macro_rules! header_names {
    ($( $variant:ident => $canonical:literal $(, $compact:literal)? ; )*) => {
        /// A header field name. Names this crate has no typed view for are
        /// [`HeaderName::Other`]; their original spelling stays with the header.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum HeaderName {
            $(
                #[doc = $canonical]
                $variant,
            )*
            /// Any other header.
            Other,
        }

        impl HeaderName {
            /// The canonical spelling, as the printer writes new headers.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(HeaderName::$variant => $canonical,)*
                    HeaderName::Other => "",
                }
            }

            /// Looks a name up, ignoring ASCII case, compact forms included.
            pub fn parse(name: &[u8]) -> HeaderName {
                if name.len() == 1 {
                    let c = name[0].to_ascii_lowercase();
                    $($(
                        if c == $compact {
                            return HeaderName::$variant;
                        }
                    )?)*
                    return HeaderName::Other;
                }
                $(
                    if name.len() == $canonical.len() && name.eq_ignore_ascii_case($canonical.as_bytes()) {
                        return HeaderName::$variant;
                    }
                )*
                HeaderName::Other
            }
        }
    };
}

header_names! {
    Via => "Via", b'v';
    From => "From", b'f';
    To => "To", b't';
    CallId => "Call-ID", b'i';
    CSeq => "CSeq";
    Contact => "Contact", b'm';
    Route => "Route";
    RecordRoute => "Record-Route";
    MaxForwards => "Max-Forwards";
    ContentLength => "Content-Length", b'l';
    ContentType => "Content-Type", b'c';
    ContentEncoding => "Content-Encoding", b'e';
    Expires => "Expires";
    MinExpires => "Min-Expires";
    Authorization => "Authorization";
    ProxyAuthorization => "Proxy-Authorization";
    WwwAuthenticate => "WWW-Authenticate";
    ProxyAuthenticate => "Proxy-Authenticate";
    AuthenticationInfo => "Authentication-Info";
    Supported => "Supported", b'k';
    Require => "Require";
    ProxyRequire => "Proxy-Require";
    Unsupported => "Unsupported";
    Allow => "Allow";
    Accept => "Accept";
    Date => "Date";
    Subject => "Subject", b's';
    Event => "Event", b'o';
    ReferTo => "Refer-To", b'r';
    ReferredBy => "Referred-By", b'b';
    SessionExpires => "Session-Expires", b'x';
    MinSe => "Min-SE";
    UserAgent => "User-Agent";
    Server => "Server";
    RetryAfter => "Retry-After";
    Reason => "Reason";
    Warning => "Warning";
    AllowEvents => "Allow-Events", b'u';
    SubscriptionState => "Subscription-State";
    RSeq => "RSeq";
    RAck => "RAck";
}

impl HeaderName {
    /// Headers a request may carry at most once (RFC 3261 §7.3.1: those whose
    /// grammar is not a comma-separated list).
    pub fn is_single(self) -> bool {
        matches!(
            self,
            HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
                | HeaderName::MaxForwards
                | HeaderName::ContentLength
                | HeaderName::ContentType
                | HeaderName::Expires
        )
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_case_and_compact_forms() {
        assert_eq!(HeaderName::parse(b"MaX-fOrWaRdS"), HeaderName::MaxForwards);
        assert_eq!(HeaderName::parse(b"v"), HeaderName::Via);
        assert_eq!(HeaderName::parse(b"L"), HeaderName::ContentLength);
        assert_eq!(HeaderName::parse(b"i"), HeaderName::CallId);
        assert_eq!(HeaderName::parse(b"C%6Fntact"), HeaderName::Other);
        assert_eq!(HeaderName::parse(b"q"), HeaderName::Other);
        assert_eq!(HeaderName::CallId.as_str(), "Call-ID");
    }
}
