//! The re-INVITEs of an answered call, both ways: the gateway's hold and
//! resume ([`SipLeg::set_hold`]), its session refreshes and the session
//! timer's deadline (RFC 4028), and the PBX's re-offers (hold, resume, a
//! new description), answered from the gateway's last description.

use super::session_timer::{Refresher, SessionTimer, session_expires};
use super::{EndCause, LegError, LegEvent, SipLeg, State, sdp_body};
use crate::sdp::{Direction, Limits as SdpLimits, SessionDescription};
use crate::sip::transaction::{TransactionId, TransactionLayer};
use crate::sip::{HeaderName, Message, Method};
use bytes::Bytes;
use rand::RngCore;
use std::time::Instant;

/// Why the gateway re-INVITEs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reinvite {
    /// Hold (`true`) or resume.
    Hold(bool),
    /// A session refresh (RFC 4028), same description.
    Refresh,
}

impl SipLeg {
    /// Puts the call on hold (`held`: the gateway's audio direction
    /// becomes `sendonly`) or resumes it (`sendrecv`) with a re-INVITE.
    /// The outcome comes as [`LegEvent::HoldChanged`] or
    /// [`LegEvent::HoldFailed`].
    pub fn set_hold(
        &mut self,
        now: Instant,
        held: bool,
        layer: &mut TransactionLayer,
        rng: &mut dyn RngCore,
    ) -> Result<(), LegError> {
        if self.state != State::Confirmed {
            return Err(LegError::State(self.state.name()));
        }
        if self.reinvite.is_some() {
            return Err(LegError::State("renegotiating"));
        }
        let direction = if held {
            Direction::SendOnly
        } else {
            Direction::SendRecv
        };
        let sdp = self.answer_with_direction(direction);
        self.send_reinvite(now, sdp, Reinvite::Hold(held), layer, rng)
    }

    /// Sends a re-INVITE with `sdp` (and the session timer, if any).
    fn send_reinvite(
        &mut self,
        now: Instant,
        sdp: Bytes,
        why: Reinvite,
        layer: &mut TransactionLayer,
        rng: &mut dyn RngCore,
    ) -> Result<(), LegError> {
        let dialog = self.dialog.as_mut().ok_or(LegError::State("unanswered"))?;
        let mut invite = dialog
            .request(Method::Invite, rng)
            .map_err(|e| LegError::Send(format!("re-INVITE: {e}")))?;
        if let Some(t) = &self.timer {
            invite
                .headers
                .push(HeaderName::SessionExpires, t.header_value(self.uac));
            invite.headers.push(HeaderName::Supported, "timer");
        }
        invite.set_body(Some("application/sdp"), sdp);
        let id = layer
            .send_request(now, invite, self.config.next_hop)
            .map_err(|e| LegError::Send(format!("re-INVITE: {e}")))?;
        self.reinvite = Some((id, why));
        self.new_transactions.push(id);
        Ok(())
    }

    /// When the session timer needs the leg: the refresh to send, or the
    /// refresh that should have come.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Confirmed => self.timer.map(|t| t.due),
            _ => None,
        }
    }

    /// Refreshes the session (a re-INVITE with the same description) when
    /// the gateway is the refresher; ends the call with a BYE when the PBX
    /// was and did not refresh in time (RFC 4028 §10).
    pub fn handle_timeout(
        &mut self,
        now: Instant,
        layer: &mut TransactionLayer,
        rng: &mut dyn RngCore,
    ) {
        let Some(timer) = self.timer else { return };
        if self.state != State::Confirmed || now < timer.due {
            return;
        }
        match timer.refresher {
            Refresher::Us if self.reinvite.is_none() => {
                let sdp = self.local_sdp.clone();
                if self
                    .send_reinvite(now, sdp, Reinvite::Refresh, layer, rng)
                    .is_err()
                {
                    self.expire(now, layer, rng);
                    return;
                }
                // The answer restarts the timer; a failed refresh ends the
                // call (see `reinvite_failed`).
                self.timer = Some(SessionTimer {
                    due: SessionTimer::new(now, timer.interval, Refresher::Them).due,
                    ..timer
                });
            }
            // A hold is being negotiated: refresh right after it.
            Refresher::Us => {
                self.timer = Some(SessionTimer {
                    due: now + std::time::Duration::from_secs(1),
                    ..timer
                });
            }
            Refresher::Them => self.expire(now, layer, rng),
        }
    }

    /// The session timer ran out: BYE, and the call ends as expired.
    fn expire(&mut self, now: Instant, layer: &mut TransactionLayer, rng: &mut dyn RngCore) {
        self.timer = None;
        self.bye_cause = EndCause::SessionExpired;
        self.send_bye(now, layer, rng);
    }

    pub(super) fn on_reinvite_response(
        &mut self,
        now: Instant,
        status: u16,
        response: &Message,
        layer: &mut TransactionLayer,
        rng: &mut dyn RngCore,
    ) {
        let Some((_, why)) = self.reinvite else {
            return;
        };
        match status {
            100..=199 => {}
            200..=299 => {
                self.reinvite = None;
                let ack = self.dialog.as_mut().map(|d| {
                    let _ = d.handle_response(response);
                    d.ack_for_2xx(response, rng)
                });
                if let Some(Ok(ack)) = ack {
                    layer.send_stateless(self.config.next_hop, &ack);
                    self.reinvite_ack = Some(ack);
                }
                self.restart_timer(now, response);
                if let Reinvite::Hold(held) = why {
                    self.events.push_back(LegEvent::HoldChanged {
                        held,
                        sdp: sdp_body(response),
                    });
                }
            }
            _ => self.reinvite_failed(now, why, status),
        }
    }

    /// A re-INVITE of the gateway's failed: a hold leaves the description
    /// as it was; a refresh that failed (other than by glare) ends the call
    /// at once.
    pub(super) fn reinvite_failed(&mut self, now: Instant, why: Reinvite, status: u16) {
        self.reinvite = None;
        match why {
            Reinvite::Hold(held) => {
                // The offer was not taken: the description stays as before.
                self.answer_with_direction(if held {
                    Direction::SendRecv
                } else {
                    Direction::SendOnly
                });
                self.events.push_back(LegEvent::HoldFailed { status });
            }
            Reinvite::Refresh => {
                let retry = if status == 491 { 2 } else { 0 };
                if let Some(t) = &mut self.timer {
                    t.due = now + std::time::Duration::from_secs(retry);
                    if status != 491 {
                        t.refresher = Refresher::Them;
                    }
                }
            }
        }
    }

    /// The session timer after a dialog-refreshing exchange: the
    /// `Session-Expires` of `m` if it has one (its `refresher` names the
    /// dialog's UAC or UAS), else the same interval and refresher, from
    /// `now`.
    fn restart_timer(&mut self, now: Instant, m: &Message) {
        let Some(old) = self.timer else {
            return;
        };
        let (interval, refresher) = match session_expires(m) {
            Some((interval, Some(uac_refreshes))) => {
                let us = uac_refreshes == self.uac;
                (interval, if us { Refresher::Us } else { Refresher::Them })
            }
            Some((interval, None)) => (interval, old.refresher),
            None => (old.interval, old.refresher),
        };
        self.timer = Some(SessionTimer::new(now, interval, refresher));
    }

    pub(super) fn on_reoffer(
        &mut self,
        now: Instant,
        tx: TransactionId,
        request: &Message,
        layer: &mut TransactionLayer,
    ) {
        // A re-INVITE or UPDATE from the PBX refreshes the session.
        self.restart_timer(now, request);
        let Some(offer) = sdp_body(request) else {
            // No offer: ours again (RFC 3261 §14.2); the PBX answers in ACK.
            let sdp = self.local_sdp.clone();
            self.respond(now, tx, request, 200, Some(sdp), layer);
            return;
        };
        let Ok(parsed) = SessionDescription::parse(&offer, &SdpLimits::default()) else {
            self.respond(now, tx, request, 488, None, layer);
            return;
        };
        let Some(audio) = parsed.media.iter().find(|m| m.media == "audio") else {
            self.respond(now, tx, request, 488, None, layer);
            return;
        };
        let on_hold_address = audio
            .connection
            .as_ref()
            .or(parsed.connection.as_ref())
            .is_some_and(|c| c.is_unspecified());
        let mut offered = parsed.effective_direction(audio);
        if on_hold_address {
            offered = offered.without_receive();
        }
        let held = !(offered.sends() && offered.receives());
        let answer_direction = offered.answer(Direction::SendRecv);
        let sdp = self.answer_with_direction(answer_direction);
        self.respond(now, tx, request, 200, Some(sdp), layer);
        self.events
            .push_back(LegEvent::Updated { sdp: offer, held });
    }

    /// The gateway's last description with the audio direction `d`; its
    /// version rises when anything changed (RFC 3264 §8).
    fn answer_with_direction(&mut self, d: Direction) -> Bytes {
        if d == self.local_direction {
            return self.local_sdp.clone();
        }
        let Ok(mut sdp) = SessionDescription::parse(&self.local_sdp, &SdpLimits::default()) else {
            return self.local_sdp.clone();
        };
        for m in sdp.media.iter_mut().filter(|m| m.media == "audio") {
            m.set_direction(d);
        }
        self.local_version += 1;
        sdp.origin.session_version = self.local_version.to_string();
        self.local_direction = d;
        self.local_sdp = Bytes::from(sdp.to_string());
        self.local_sdp.clone()
    }
}
