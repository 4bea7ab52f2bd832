//! A dialog's route set (RFC 3261 §12.1.1, §12.1.2) and where a request
//! inside the dialog goes: the Request-URI and Route headers of §12.2.1.1,
//! loose (`;lr`) and strict routers alike.

use super::DialogError;
use crate::sip::header_name::HeaderName;
use crate::sip::headers::{HeaderAccess, NameAddr};
use crate::sip::message::Message;
use crate::sip::uri::Uri;
use bytes::{BufMut, Bytes, BytesMut};

/// One element of a route set.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RouteEntry {
    /// The element as received (name-addr with its parameters).
    value: Bytes,
    /// The URI inside it.
    uri: Bytes,
    /// True when the URI carries `lr`: a loose router.
    loose: bool,
}

/// The ordered route set of a dialog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RouteSet(Vec<RouteEntry>);

/// Where an in-dialog request is sent: its Request-URI and Route values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) request_uri: Bytes,
    pub(crate) routes: Vec<Bytes>,
}

impl RouteSet {
    /// The Record-Route elements of `message`, in order, reversed when
    /// `reverse` (the UAC's view, §12.1.2).
    pub(crate) fn from_record_route(
        message: &Message,
        reverse: bool,
    ) -> Result<RouteSet, DialogError> {
        let mut set = message
            .header_elements(HeaderName::RecordRoute)
            .map(|element| {
                let addr = NameAddr::parse(element, "Record-Route")?;
                Ok(RouteEntry {
                    value: Bytes::copy_from_slice(element),
                    uri: Bytes::copy_from_slice(addr.uri.as_bytes()),
                    loose: addr.uri.param("lr").is_some(),
                })
            })
            .collect::<Result<Vec<_>, DialogError>>()?;
        if reverse {
            set.reverse();
        }
        Ok(RouteSet(set))
    }

    /// The route elements, in the order requests carry them.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Bytes> {
        self.0.iter().map(|e| &e.value)
    }

    /// The Request-URI and Route values for a request to `remote_target`
    /// (§12.2.1.1).
    pub(crate) fn target(&self, remote_target: &Bytes) -> Target {
        let Some(first) = self.0.first() else {
            return Target {
                request_uri: remote_target.clone(),
                routes: Vec::new(),
            };
        };
        if first.loose {
            return Target {
                request_uri: remote_target.clone(),
                routes: self.values().cloned().collect(),
            };
        }
        // A strict router: it is the Request-URI, the rest of the route set
        // and then the remote target are the Route headers.
        let mut routes: Vec<Bytes> = self.0[1..].iter().map(|e| e.value.clone()).collect();
        let mut last = BytesMut::with_capacity(remote_target.len() + 2);
        last.put_u8(b'<');
        last.put_slice(remote_target);
        last.put_u8(b'>');
        routes.push(last.freeze());
        Target {
            request_uri: request_uri_form(&first.uri),
            routes,
        }
    }
}

/// Where `inner`, a subslice of `outer`, starts in it.
fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize)
}

/// `uri` without what a Request-URI may not carry (§19.1.1, Table 1): the
/// URI headers and the `method` parameter.
fn request_uri_form(uri_text: &Bytes) -> Bytes {
    let Ok(uri) = Uri::parse(uri_text) else {
        return uri_text.clone();
    };
    let end = uri
        .headers()
        .map_or(uri_text.len(), |h| offset_in(uri_text, h).saturating_sub(1));
    let has_method = uri.param("method").is_some();
    if !has_method {
        return uri_text.slice(..end);
    }
    let base_end = uri
        .params()
        .next()
        .map_or(end, |(name, _)| offset_in(uri_text, name).saturating_sub(1));
    let mut out = BytesMut::with_capacity(end);
    out.put_slice(&uri_text[..base_end]);
    for (name, value) in uri.params() {
        if name.eq_ignore_ascii_case(b"method") {
            continue;
        }
        out.put_u8(b';');
        out.put_slice(name);
        if let Some(value) = value {
            out.put_u8(b'=');
            out.put_slice(value);
        }
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_uri_form_strips_headers_and_method() {
        let f = |s: &'static str| request_uri_form(&Bytes::from_static(s.as_bytes()));
        assert_eq!(f("sip:p1.example.com"), "sip:p1.example.com");
        assert_eq!(
            f("sip:p1.example.com;transport=tcp?X=y"),
            "sip:p1.example.com;transport=tcp"
        );
        assert_eq!(
            f("sip:u;p=1@p1.example.com;method=INVITE;maddr=10.0.0.1"),
            "sip:u;p=1@p1.example.com;maddr=10.0.0.1"
        );
    }
}
