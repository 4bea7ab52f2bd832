//! The gateway's transaction user: the SIP legs of its calls
//! ([`SipCalls`]) take every event that belongs to them; the rest gets the
//! gateway's own answers: OPTIONS gets 200 with what we support, requests
//! the UAS checks refuse get their code (405, 501, 416, 420, 415, 406,
//! 483), calls from SIP get 480 (no route to a browser yet), requests for
//! dialogs we do not have get 481.

use crate::b2bua::registrations::Registrations;
use crate::b2bua::sip_calls::SipCalls;
use crate::pbx_ping::PbxPinger;
use crate::runtime::sip_core::{SipContext, TransactionUser, reason_phrase};
use rand::RngCore;
use sbc_core::sip::transaction::{TransactionEvent, TransactionId};
use sbc_core::sip::validate::{UasPolicy, check_as_uas};
use sbc_core::sip::{HeaderName, Message, Method, response::response_to};
use std::time::Instant;
use tracing::{debug, warn};

/// The transaction user of the gateway process.
pub struct GatewayService {
    policy: UasPolicy,
    user_agent: String,
    /// The SIP legs of browser calls.
    pub calls: SipCalls,
    /// The browser users' registrations at the PBX.
    pub registrations: Registrations,
    /// OPTIONS pings to the configured PBX.
    pub pinger: Option<PbxPinger>,
    /// Set when the gateway drains: calls from the PBX get 503.
    pub draining: bool,
}

impl GatewayService {
    /// A service announcing itself as `user_agent` in `Server` headers.
    pub fn new(user_agent: String) -> Self {
        GatewayService {
            policy: UasPolicy::default(),
            user_agent,
            calls: SipCalls::default(),
            registrations: Registrations::default(),
            pinger: None,
            draining: false,
        }
    }

    fn answer(&self, request: &Message, rng: &mut dyn RngCore) -> Message {
        let tag = format!("{:016x}", rng.next_u64());
        let (code, unsupported) = match check_as_uas(request, &self.policy) {
            Err(rejection) => (rejection.code, rejection.unsupported),
            Ok(()) => match request.method() {
                Some(Method::Options) => (200, Vec::new()),
                Some(Method::Invite) => (480, Vec::new()),
                Some(
                    Method::Bye
                    | Method::Prack
                    | Method::Update
                    | Method::Info
                    | Method::Refer
                    | Method::Notify,
                ) => (481, Vec::new()),
                _ => (405, Vec::new()),
            },
        };
        let mut response = response_to(request, code, reason_phrase(code), Some(&tag));
        response
            .headers
            .push(HeaderName::Server, self.user_agent.clone());
        if code == 200 || code == 405 {
            response.headers.push(HeaderName::Allow, Method::ALLOWED);
        }
        if code == 200 {
            response.headers.push(HeaderName::Accept, "application/sdp");
            response
                .headers
                .push(HeaderName::Supported, self.policy.supported.join(", "));
        }
        if !unsupported.is_empty() {
            response
                .headers
                .push(HeaderName::Unsupported, unsupported.join(", "));
        }
        response
    }

    /// Refuses a request with `code` (an INVITE no registration takes).
    fn refuse(
        &self,
        now: Instant,
        id: TransactionId,
        request: &Message,
        code: u16,
        sip: &mut SipContext<'_>,
    ) {
        let tag = format!("{:016x}", sip.rng.next_u64());
        let mut response = response_to(request, code, reason_phrase(code), Some(&tag));
        response
            .headers
            .push(HeaderName::Server, self.user_agent.clone());
        if let Err(e) = sip.layer.send_response(now, id, response) {
            warn!(error = %e, "could not refuse the request");
        }
    }

    fn respond(
        &self,
        now: Instant,
        id: TransactionId,
        request: &Message,
        sip: &mut SipContext<'_>,
    ) {
        let response = self.answer(request, sip.rng);
        debug!(code = response.status(), method = %request.method().map(ToString::to_string).unwrap_or_default(), "answering");
        if let Err(e) = sip.layer.send_response(now, id, response) {
            warn!(error = %e, "could not answer request");
        }
    }
}

impl TransactionUser for GatewayService {
    fn on_event(&mut self, now: Instant, event: TransactionEvent, sip: &mut SipContext<'_>) {
        let event = match &mut self.pinger {
            Some(p) => p.on_event(event),
            None => Some(event),
        };
        let Some(event) = event else { return };
        let Some(event) = self.registrations.on_event(now, event, sip) else {
            return;
        };
        let Some(event) = self.calls.on_event(now, event, sip) else {
            return;
        };
        match event {
            TransactionEvent::NewRequest { id, request, .. }
                if request.method() == Some(&Method::Invite) && self.draining =>
            {
                self.refuse(now, id, &request, 503, sip);
            }
            TransactionEvent::NewRequest { id, request, from }
                if request.method() == Some(&Method::Invite)
                    && check_as_uas(&request, &self.policy).is_ok() =>
            {
                let taken = self.registrations.incoming(
                    id,
                    &request,
                    from,
                    &mut self.calls,
                    &self.user_agent,
                    sip,
                );
                if let Err(code) = taken {
                    self.refuse(now, id, &request, code, sip);
                }
            }
            TransactionEvent::NewRequest { id, request, .. } => {
                self.respond(now, id, &request, sip)
            }
            TransactionEvent::Cancelled { id, .. } => {
                // Only reachable once INVITEs are held open; answer 487 then.
                let _ = id;
            }
            _ => {}
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let ping = self
            .pinger
            .as_ref()
            .and_then(|p| p.poll_timeout(crate::runtime::sip_core::now()));
        [
            self.registrations.poll_timeout(),
            self.calls.poll_timeout(),
            ping,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn handle_timeout(&mut self, now: Instant, sip: &mut SipContext<'_>) {
        self.registrations.handle_timeout(now, sip);
        self.calls.handle_timeout(now, sip);
        if let Some(p) = &mut self.pinger {
            p.handle_timeout(now, sip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use rand::SeedableRng;
    use sbc_core::sip::Limits;
    use sbc_core::sip::headers::HeaderAccess;

    fn answer(text: &str) -> Message {
        let request =
            Message::parse(Bytes::from(text.replace('\n', "\r\n")), &Limits::default()).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        GatewayService::new("sbc-gateway/test".into()).answer(&request, &mut rng)
    }

    const HEAD: &str = "sip:gw@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx1\nFrom: <sip:a@127.0.0.1>;tag=1\nTo: <sip:gw@127.0.0.1>\nCall-ID: c1\nMax-Forwards: 70\n";

    #[test]
    fn options_invite_and_unknown_methods() {
        let ok = answer(&format!(
            "OPTIONS {HEAD}CSeq: 1 OPTIONS\nContent-Length: 0\n\n"
        ));
        assert_eq!(ok.status(), Some(200));
        assert!(ok.header(HeaderName::Allow).is_some());
        assert!(ok.header_to().unwrap().tag().is_some());
        let invite = answer(&format!(
            "INVITE {HEAD}CSeq: 1 INVITE\nContent-Length: 0\n\n"
        ));
        assert_eq!(invite.status(), Some(480));
        let unknown = answer(&format!("FOO {HEAD}CSeq: 1 FOO\nContent-Length: 0\n\n"));
        assert_eq!(unknown.status(), Some(501));
        let register = answer(&format!(
            "REGISTER {HEAD}CSeq: 1 REGISTER\nContent-Length: 0\n\n"
        ));
        assert_eq!(register.status(), Some(405));
        let bye = answer(&format!("BYE {HEAD}CSeq: 2 BYE\nContent-Length: 0\n\n"));
        assert_eq!(bye.status(), Some(481));
    }
}
