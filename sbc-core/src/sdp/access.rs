//! Typed accessors over the attributes of a session or media section. Each
//! parses on demand; an attribute a peer wrote malformed is skipped (a
//! gateway cannot fix it, and refusing the whole call for an unused line
//! helps nobody). Where a value may sit at session or media level (ICE,
//! DTLS), [`MediaDescription`] reads its own and the caller falls back to the
//! session's.

use super::candidate::Candidate;
use super::crypto::Crypto;
use super::direction::Direction;
use super::dtls::{Fingerprint, Setup};
use super::model::{Attribute, MediaDescription, SessionDescription};
use super::rtp_attrs::{Extmap, Fmtp, Group, Msid, Rtcp, RtcpFb, Rtpmap, Ssrc, SsrcGroup};

fn values<'a>(attrs: &'a [Attribute], name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    attrs
        .iter()
        .filter(move |a| a.name == name)
        .filter_map(|a| a.value.as_deref())
}

fn direction(attrs: &[Attribute]) -> Option<Direction> {
    attrs
        .iter()
        .filter(|a| a.value.is_none())
        .find_map(|a| Direction::from_name(&a.name))
}

fn set_direction(attrs: &mut Vec<Attribute>, d: Direction) {
    attrs.retain(|a| Direction::from_name(&a.name).is_none());
    attrs.push(Attribute::flag(d.as_str()));
}

/// Milliseconds as `ptime` writes them: an integer, or a decimal that is cut
/// to whole milliseconds.
fn millis(v: &str) -> Option<u32> {
    let whole = v.trim().split('.').next()?;
    super::parse::number(whole)
}

macro_rules! common_accessors {
    () => {
        /// The value of the first attribute called `name` that has one.
        pub fn value(&self, name: &str) -> Option<&str> {
            self.attributes
                .iter()
                .find(|a| a.name == name && a.value.is_some())
                .and_then(|a| a.value.as_deref())
        }

        /// The values of every attribute called `name`, in order.
        pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
            values(&self.attributes, name)
        }

        /// Whether an attribute called `name` is present (with or without a
        /// value).
        pub fn has(&self, name: &str) -> bool {
            self.attributes.iter().any(|a| a.name == name)
        }

        /// The direction attribute written at this level, if any.
        pub fn direction(&self) -> Option<Direction> {
            direction(&self.attributes)
        }

        /// Replaces any direction attribute with `d`.
        pub fn set_direction(&mut self, d: Direction) {
            set_direction(&mut self.attributes, d)
        }

        /// `a=ice-ufrag` at this level.
        pub fn ice_ufrag(&self) -> Option<&str> {
            self.value("ice-ufrag")
        }

        /// `a=ice-pwd` at this level.
        pub fn ice_pwd(&self) -> Option<&str> {
            self.value("ice-pwd")
        }

        /// The tokens of `a=ice-options` at this level (`trickle`, `ice2`…).
        pub fn ice_options(&self) -> impl Iterator<Item = &str> {
            self.values("ice-options")
                .flat_map(str::split_ascii_whitespace)
        }

        /// The well-formed `a=fingerprint` lines at this level.
        pub fn fingerprints(&self) -> impl Iterator<Item = Fingerprint> + '_ {
            self.values("fingerprint").filter_map(Fingerprint::parse)
        }

        /// `a=setup` at this level, if well-formed.
        pub fn setup(&self) -> Option<Setup> {
            self.value("setup").and_then(Setup::parse)
        }
    };
}

impl SessionDescription {
    common_accessors!();

    /// The well-formed `a=group` lines.
    pub fn groups(&self) -> impl Iterator<Item = Group> + '_ {
        self.values("group").filter_map(Group::parse)
    }

    /// The first `a=group:BUNDLE`.
    pub fn bundle(&self) -> Option<Group> {
        self.groups().find(Group::is_bundle)
    }

    /// Whether the author is an ICE-lite agent (`a=ice-lite`).
    pub fn ice_lite(&self) -> bool {
        self.has("ice-lite")
    }

    /// The direction in force for media section `m`: its own, else the
    /// session's, else `sendrecv`.
    pub fn effective_direction(&self, m: &MediaDescription) -> Direction {
        m.direction().or(self.direction()).unwrap_or_default()
    }
}

impl MediaDescription {
    common_accessors!();

    /// The formats that are RTP payload types (0..=127), in `m=` order.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats
            .iter()
            .filter_map(|f| super::parse::number::<u8>(f).filter(|pt| *pt < 128))
    }

    /// The well-formed `a=rtpmap` lines.
    pub fn rtpmaps(&self) -> impl Iterator<Item = Rtpmap> + '_ {
        self.values("rtpmap").filter_map(Rtpmap::parse)
    }

    /// The `a=rtpmap` of payload type `pt`.
    pub fn rtpmap(&self, pt: u8) -> Option<Rtpmap> {
        self.rtpmaps().find(|r| r.payload_type == pt)
    }

    /// The well-formed `a=fmtp` lines.
    pub fn fmtps(&self) -> impl Iterator<Item = Fmtp> + '_ {
        self.values("fmtp").filter_map(Fmtp::parse)
    }

    /// The `a=fmtp` of payload type `pt`.
    pub fn fmtp(&self, pt: u8) -> Option<Fmtp> {
        self.fmtps().find(|f| f.payload_type == pt)
    }

    /// `a=ptime`, in whole milliseconds.
    pub fn ptime(&self) -> Option<u32> {
        self.value("ptime").and_then(millis)
    }

    /// `a=maxptime`, in whole milliseconds.
    pub fn maxptime(&self) -> Option<u32> {
        self.value("maxptime").and_then(millis)
    }

    /// Whether RTP and RTCP share a port (`a=rtcp-mux`, RFC 5761).
    pub fn rtcp_mux(&self) -> bool {
        self.has("rtcp-mux")
    }

    /// `a=rtcp`, if well-formed.
    pub fn rtcp(&self) -> Option<Rtcp> {
        self.value("rtcp").and_then(Rtcp::parse)
    }

    /// `a=mid`.
    pub fn mid(&self) -> Option<&str> {
        self.value("mid")
    }

    /// The well-formed `a=candidate` lines.
    pub fn candidates(&self) -> impl Iterator<Item = Candidate> + '_ {
        self.values("candidate").filter_map(Candidate::parse)
    }

    /// Whether `a=end-of-candidates` is present.
    pub fn end_of_candidates(&self) -> bool {
        self.has("end-of-candidates")
    }

    /// The well-formed `a=crypto` lines.
    pub fn cryptos(&self) -> impl Iterator<Item = Crypto> + '_ {
        self.values("crypto").filter_map(Crypto::parse)
    }

    /// The well-formed `a=ssrc` lines.
    pub fn ssrcs(&self) -> impl Iterator<Item = Ssrc> + '_ {
        self.values("ssrc").filter_map(Ssrc::parse)
    }

    /// The well-formed `a=ssrc-group` lines.
    pub fn ssrc_groups(&self) -> impl Iterator<Item = SsrcGroup> + '_ {
        self.values("ssrc-group").filter_map(SsrcGroup::parse)
    }

    /// The well-formed `a=extmap` lines.
    pub fn extmaps(&self) -> impl Iterator<Item = Extmap> + '_ {
        self.values("extmap").filter_map(Extmap::parse)
    }

    /// The well-formed `a=rtcp-fb` lines.
    pub fn rtcp_fbs(&self) -> impl Iterator<Item = RtcpFb> + '_ {
        self.values("rtcp-fb").filter_map(RtcpFb::parse)
    }

    /// The first well-formed `a=msid`.
    pub fn msid(&self) -> Option<Msid> {
        self.values("msid").find_map(Msid::parse)
    }
}
