//! What the signaling layer gives a [`SipLeg`](super::SipLeg) and what it
//! gets back: the leg's configuration, its events, why it ended, and why a
//! request could not be carried out.

use crate::sip::request::LocalVia;
use crate::sip::transaction::Peer;
use bytes::Bytes;

/// What an outgoing leg is made of.
#[derive(Debug, Clone)]
pub struct LegConfig {
    /// The next hop: the PBX.
    pub next_hop: Peer,
    /// The Request-URI, also the To address.
    pub request_uri: String,
    /// The From address without tag, e.g. `<sip:browser@192.0.2.1>`.
    pub from: String,
    /// The gateway's Contact, e.g. `<sip:gw@192.0.2.1:5060;transport=udp>`.
    pub contact: String,
    /// The gateway's Via for this hop.
    pub via: LocalVia,
    /// `User-Agent`.
    pub user_agent: String,
    /// Headers the policy let through from the browser.
    pub extra_headers: Vec<(String, String)>,
    /// Username and password for digest challenges.
    pub credentials: Option<(String, String)>,
}

/// Why the leg ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndCause {
    /// The PBX refused the call with a final response of 300 or more.
    Rejected {
        /// The status code.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
    /// No final response in time, or a request in the dialog timed out.
    Timeout,
    /// The PBX could not be reached.
    Unreachable,
    /// The PBX hung up.
    RemoteHangup,
    /// The gateway hung up (CANCEL or BYE) on the signaling layer's word.
    LocalHangup,
    /// The PBX broke the protocol (a 2xx that makes no dialog, say).
    Protocol(String),
    /// The session timer ran out (RFC 4028): no refresh in time, or a
    /// refresh failed.
    SessionExpired,
}

/// What the leg tells the signaling layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegEvent {
    /// A provisional response other than 100; `sdp` when it carried one
    /// (early media).
    Progress {
        /// 180, 183, …
        status: u16,
        /// The body, when it is SDP.
        sdp: Option<Bytes>,
    },
    /// The call was answered; `sdp` is the 2xx's (absent when the answer
    /// came earlier, in a provisional response).
    Answered {
        /// The body, when it is SDP.
        sdp: Option<Bytes>,
    },
    /// The PBX changed the session (re-INVITE or UPDATE with SDP) and was
    /// answered; `held` says whether its offer put the call on hold.
    Updated {
        /// The PBX's new description.
        sdp: Bytes,
        /// Whether the PBX stopped sending or receiving (`sendonly`,
        /// `inactive`, or the RFC 2543 address 0.0.0.0).
        held: bool,
    },
    /// The gateway's own re-INVITE (hold or resume, [`SipLeg::set_hold`](super::SipLeg::set_hold))
    /// was answered: `sdp` is the PBX's answer.
    HoldChanged {
        /// Whether the call is now held by the gateway's side.
        held: bool,
        /// The PBX's answer.
        sdp: Option<Bytes>,
    },
    /// The gateway's re-INVITE was refused; the call goes on as it was.
    HoldFailed {
        /// The PBX's status (491 when both sides re-INVITEd at once).
        status: u16,
    },
    /// The PBX took the gateway's REFER (202): a blind transfer is under
    /// way.
    TransferAccepted,
    /// The PBX refused the REFER.
    TransferFailed {
        /// Its status.
        status: u16,
    },
    /// A NOTIFY of the transfer's progress: the status the transfer target
    /// answered (100, 180, 200, 486, …).
    TransferProgress {
        /// That status.
        status: u16,
    },
    /// An INFO from the PBX with an `application/dtmf-relay` or
    /// `application/dtmf` body.
    DtmfInfo {
        /// The key.
        digit: char,
        /// Its duration, when the body said.
        duration_ms: Option<u32>,
    },
    /// The leg is over; no other event follows.
    Ended(EndCause),
}

/// Why a request from the signaling layer could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LegError {
    /// The INVITE could not be built or sent.
    #[error("cannot send the INVITE: {0}")]
    Invite(String),
    /// The request makes no sense in this state (DTMF before answer, …).
    #[error("not possible while the call is {0}")]
    State(&'static str),
    /// A request in the dialog could not be built or sent.
    #[error("cannot send {0}")]
    Send(String),
}
