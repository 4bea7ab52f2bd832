//! Typed views of the headers an SBC routes on, parsed on demand from the
//! header bytes of a [`MessageView`](crate::sip::MessageView) or a
//! [`Message`](crate::sip::Message). Both implement [`HeaderAccess`], which
//! gives every typed accessor once for either form.

pub mod name_addr;
pub mod params;
pub mod scalar;
pub mod via;

pub use name_addr::NameAddr;
pub use params::Params;
pub use scalar::{CSeq, MediaType};
pub use via::Via;

use super::error::Error;
use super::header_name::HeaderName;
use super::scan::{CommaSplit, trim};

/// Read access to the header values of a message, in order, with typed
/// accessors built on top.
pub trait HeaderAccess {
    /// The values of every header line called `name`, in order (a
    /// comma-separated line is one value here).
    fn header_values(&self, name: HeaderName) -> impl Iterator<Item = &[u8]>;

    /// The first value of `name`.
    fn header(&self, name: HeaderName) -> Option<&[u8]> {
        self.header_values(name).next()
    }

    /// Every element of a list header, across lines and commas.
    fn header_elements(&self, name: HeaderName) -> impl Iterator<Item = &[u8]> {
        self.header_values(name).flat_map(CommaSplit::new)
    }

    /// The topmost Via element.
    fn top_via(&self) -> Result<Via<'_>, Error> {
        let first = self
            .header_elements(HeaderName::Via)
            .next()
            .ok_or(Error::Missing("Via"))?;
        Via::parse(first)
    }

    /// Every Via element, top first.
    fn vias(&self) -> impl Iterator<Item = Result<Via<'_>, Error>> {
        self.header_elements(HeaderName::Via).map(Via::parse)
    }

    /// The From header.
    fn header_from(&self) -> Result<NameAddr<'_>, Error> {
        let v = self
            .header(HeaderName::From)
            .ok_or(Error::Missing("From"))?;
        NameAddr::parse(v, "From")
    }

    /// The To header.
    fn header_to(&self) -> Result<NameAddr<'_>, Error> {
        let v = self.header(HeaderName::To).ok_or(Error::Missing("To"))?;
        NameAddr::parse(v, "To")
    }

    /// The Call-ID, trimmed.
    fn call_id(&self) -> Result<&[u8], Error> {
        let v = trim(
            self.header(HeaderName::CallId)
                .ok_or(Error::Missing("Call-ID"))?,
        );
        let valid = !v.is_empty() && v.iter().all(|b| b.is_ascii_graphic());
        if valid {
            Ok(v)
        } else {
            Err(Error::Header("Call-ID"))
        }
    }

    /// The CSeq header.
    fn cseq(&self) -> Result<CSeq, Error> {
        CSeq::parse(
            self.header(HeaderName::CSeq)
                .ok_or(Error::Missing("CSeq"))?,
        )
    }

    /// Max-Forwards, if present.
    fn max_forwards(&self) -> Result<Option<u8>, Error> {
        self.header(HeaderName::MaxForwards)
            .map(scalar::parse_max_forwards)
            .transpose()
    }

    /// Content-Length, if present.
    fn content_length(&self) -> Result<Option<usize>, Error> {
        self.header(HeaderName::ContentLength)
            .map(|v| {
                let n =
                    scalar::parse_number(v, "Content-Length").map_err(|_| Error::ContentLength)?;
                usize::try_from(n).map_err(|_| Error::ContentLength)
            })
            .transpose()
    }

    /// Content-Type, if present.
    fn content_type(&self) -> Result<Option<MediaType<'_>>, Error> {
        self.header(HeaderName::ContentType)
            .map(MediaType::parse)
            .transpose()
    }

    /// Expires, if present.
    fn expires(&self) -> Result<Option<u32>, Error> {
        self.header(HeaderName::Expires)
            .map(scalar::parse_expires)
            .transpose()
    }

    /// Every Contact element; `*` is reported as an error here (use
    /// [`HeaderAccess::is_wildcard_contact`] first where it is allowed).
    fn contacts(&self) -> impl Iterator<Item = Result<NameAddr<'_>, Error>> {
        self.header_elements(HeaderName::Contact)
            .map(|v| NameAddr::parse(v, "Contact"))
    }

    /// True for `Contact: *` (a REGISTER removing every binding).
    fn is_wildcard_contact(&self) -> bool {
        self.header(HeaderName::Contact)
            .is_some_and(|v| trim(v) == b"*")
    }

    /// Every Route element, in order.
    fn routes(&self) -> impl Iterator<Item = Result<NameAddr<'_>, Error>> {
        self.header_elements(HeaderName::Route)
            .map(|v| NameAddr::parse(v, "Route"))
    }

    /// Every Record-Route element, in order.
    fn record_routes(&self) -> impl Iterator<Item = Result<NameAddr<'_>, Error>> {
        self.header_elements(HeaderName::RecordRoute)
            .map(|v| NameAddr::parse(v, "Record-Route"))
    }

    /// The option tags of Supported, Require, Proxy-Require, Unsupported or
    /// the methods of Allow.
    fn option_tags(&self, name: HeaderName) -> impl Iterator<Item = Result<&[u8], Error>> {
        self.header_values(name).flat_map(scalar::tokens)
    }
}
