//! The UAS half of [`SipLeg`]: an INVITE from the PBX to a registered
//! browser. The leg keeps the INVITE's server transaction open while the
//! browser decides: [`SipLeg::ringing`] sends 180, [`SipLeg::answer`] the
//! 2xx with the gateway's SDP, [`SipLeg::reject`] a failure; a CANCEL from
//! the PBX ([`SipLeg::on_cancelled`]) ends it with 487. The ACK confirms
//! the dialog ([`SipLeg::on_ack`]); from then on the leg is the same as a
//! placed call's.
//!
//! An INVITE without SDP (a late offer, RFC 3261 §13.2.1) is answered with
//! the gateway's offer in the 2xx; the PBX's answer comes in the ACK and is
//! reported as [`LegEvent::Answered`]. An ACK without one leaves the offer
//! unanswered: the leg hangs up (BYE) and ends with a protocol error.
//!
//! ```text
//! incoming ──180──▶ Offered ──2xx──▶ Offered (answered) ──ACK──▶ Confirmed
//!                     │ reject / hangup ─▶ 4xx-6xx, Ended (local)
//!                     └ CANCEL ─▶ 487, Ended (remote)
//! ```

use super::session_timer::{Refresher, SessionTimer, session_expires, supports_timer};
use super::{EndCause, LegConfig, LegError, LegEvent, SipLeg, State};
use crate::sdp::Direction;
use crate::sip::dialog::Dialog;
use crate::sip::request::Tag;
use crate::sip::response::{reason_phrase, response_to};
use crate::sip::transaction::{TransactionId, TransactionLayer};
use crate::sip::{HeaderName, Message, Method};
use bytes::Bytes;
use rand::RngCore;
use std::collections::VecDeque;
use std::time::Instant;

impl SipLeg {
    /// Takes the INVITE `invite` (server transaction `tx`, already answered
    /// with 100 by the layer) from the PBX, `config.next_hop`. The offer,
    /// if any, is [`SipLeg::remote_offer`]. Fails with the status to answer
    /// when the INVITE cannot start a dialog.
    pub fn incoming(
        tx: TransactionId,
        invite: &Message,
        config: LegConfig,
        rng: &mut (impl RngCore + ?Sized),
    ) -> Result<Self, u16> {
        let dialog = Dialog::from_uas_request(
            invite,
            Tag::random(rng),
            config.contact.clone(),
            config.via.clone(),
        )
        .map_err(|e| e.status())?;
        Ok(SipLeg {
            config,
            state: State::Offered {
                answered: false,
                bye: false,
            },
            invite: invite.clone(),
            invite_tx: tx,
            local_sdp: Bytes::new(),
            local_version: 1,
            local_direction: Direction::SendRecv,
            early_answer: false,
            dialog: Some(dialog),
            ack: None,
            reinvite: None,
            reinvite_ack: None,
            timer: None,
            uac: false,
            bye_cause: EndCause::LocalHangup,
            refer_tx: None,
            auth: None,
            challenges: 0,
            new_transactions: Vec::new(),
            events: VecDeque::new(),
        })
    }

    /// The SDP offer of the PBX's INVITE, if it carried one.
    pub fn remote_offer(&self) -> Option<Bytes> {
        super::sdp_body(&self.invite)
    }

    /// The INVITE of an incoming call (its From, for the browser's
    /// `incoming` event).
    pub fn invite(&self) -> &Message {
        &self.invite
    }

    /// Tells the PBX the browser is ringing (180).
    pub fn ringing(&mut self, now: Instant, layer: &mut TransactionLayer) -> Result<(), LegError> {
        if self.state
            != (State::Offered {
                answered: false,
                bye: false,
            })
        {
            return Err(LegError::State(self.state.name()));
        }
        self.send_uas_response(now, 180, None, layer);
        Ok(())
    }

    /// Answers the PBX's INVITE with 200 and the gateway's `sdp` (its
    /// answer, or its offer when the INVITE had none); the call is
    /// confirmed by the ACK.
    pub fn answer(
        &mut self,
        now: Instant,
        sdp: Bytes,
        layer: &mut TransactionLayer,
    ) -> Result<(), LegError> {
        if self.state
            != (State::Offered {
                answered: false,
                bye: false,
            })
        {
            return Err(LegError::State(self.state.name()));
        }
        self.local_version = super::sdp_version(&sdp).unwrap_or(1);
        self.local_sdp = sdp.clone();
        // RFC 4028 §9: the refresher the PBX asked for; the PBX when it
        // left the choice to us and supports timers, else the gateway.
        self.timer = session_expires(&self.invite).map(|(interval, uac_refreshes)| {
            let refresher = match uac_refreshes {
                Some(false) => Refresher::Us,
                Some(true) => Refresher::Them,
                None if supports_timer(&self.invite) => Refresher::Them,
                None => Refresher::Us,
            };
            SessionTimer::new(now, interval, refresher)
        });
        self.send_uas_response(now, 200, Some(sdp), layer);
        self.state = State::Offered {
            answered: true,
            bye: false,
        };
        Ok(())
    }

    /// Refuses the PBX's INVITE with `code` (a 4xx–6xx); the leg ends.
    pub fn reject(&mut self, now: Instant, code: u16, layer: &mut TransactionLayer) {
        if let State::Offered {
            answered: false, ..
        } = self.state
        {
            self.send_uas_response(now, code, None, layer);
            self.end(EndCause::LocalHangup);
        }
    }

    /// The PBX cancelled its INVITE (the layer answered the CANCEL): the
    /// INVITE gets 487 and the leg ends.
    pub fn on_cancelled(&mut self, now: Instant, layer: &mut TransactionLayer) {
        if let State::Offered {
            answered: false, ..
        } = self.state
        {
            self.send_uas_response(now, 487, None, layer);
            self.end(EndCause::RemoteHangup);
        }
    }

    /// The ACK `ack` of our 2xx: the dialog is confirmed (and a hang-up
    /// that waited for it goes out now). After a late offer its SDP is the
    /// PBX's answer ([`LegEvent::Answered`]).
    pub fn on_ack(
        &mut self,
        now: Instant,
        ack: &Message,
        layer: &mut TransactionLayer,
        rng: &mut dyn RngCore,
    ) {
        let State::Offered {
            answered: true,
            bye,
        } = self.state
        else {
            return;
        };
        if let Some(d) = &mut self.dialog {
            d.confirm();
        }
        self.state = State::Confirmed;
        if bye {
            self.send_bye(now, layer, rng);
            return;
        }
        if self.remote_offer().is_some() {
            return;
        }
        match super::sdp_body(ack) {
            Some(sdp) => self.events.push_back(LegEvent::Answered { sdp: Some(sdp) }),
            None => {
                // RFC 3261 §13.2.2.4 leaves a UAC no other way to refuse.
                self.bye_cause = EndCause::Protocol("the ACK carried no SDP answer".into());
                self.send_bye(now, layer, rng);
            }
        }
    }

    /// Whether the INVITE came without SDP, so that the gateway's 2xx
    /// carries the offer and the PBX answers in its ACK.
    pub fn is_late_offer(&self) -> bool {
        self.remote_offer().is_none()
    }

    /// A response of ours on the INVITE's server transaction: To tag,
    /// Contact on 1xx/2xx, the SDP on the 2xx.
    fn send_uas_response(
        &mut self,
        now: Instant,
        code: u16,
        sdp: Option<Bytes>,
        layer: &mut TransactionLayer,
    ) {
        let tag = self
            .dialog
            .as_ref()
            .map(|d| String::from_utf8_lossy(d.id().local_tag.as_bytes()).into_owned());
        let mut response = response_to(&self.invite, code, reason_phrase(code), tag.as_deref());
        if code < 300 {
            response
                .headers
                .push(HeaderName::Contact, self.config.contact.clone());
            response.headers.push(HeaderName::Allow, Method::ALLOWED);
        }
        if let (200, Some(t)) = (code, &self.timer) {
            response
                .headers
                .push(HeaderName::SessionExpires, t.header_value(false));
            if supports_timer(&self.invite) {
                response.headers.push(HeaderName::Require, "timer");
            }
        }
        if let Some(sdp) = sdp {
            response.set_body(Some("application/sdp"), sdp);
        }
        let _ = layer.send_response(now, self.invite_tx, response);
    }
}
