//! The session's registration at the PBX (`register`, `unregister`, the
//! registrar's answers and refreshes) and the calls the PBX places to the
//! registered user (offered to the browser as `incoming`).

use super::*;

impl Session {
    /// `register`: answered once the registrar has (`ok`, or
    /// `registration_failed` with its status). A registration in place is
    /// replaced.
    pub(super) async fn register(
        &mut self,
        id: &RequestId,
        user: String,
        password: Option<String>,
        domain: Option<String>,
        expires: Option<u32>,
    ) -> Result<Vec<Value>, ProtocolError> {
        let err = |code, message: &str| ProtocolError::new(Some(id.clone()), code, message);
        if self.pending_register.is_some() || self.pending_unregister.is_some() {
            return Err(err(
                ErrorCode::InvalidState,
                "a registration change is in progress",
            ));
        }
        let user_ok = user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.!~*'()&=+$,;?/".contains(c));
        if !user_ok {
            return Err(err(
                ErrorCode::BadRequest,
                "user has characters a SIP user cannot",
            ));
        }
        let svc = self.config.calls.clone();
        let domain = domain.unwrap_or_else(|| svc.pbx.target.to_string());
        let domain_ok = !domain.is_empty()
            && domain.len() <= MAX_DOMAIN
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c));
        if !domain_ok {
            return Err(err(
                ErrorCode::BadRequest,
                "domain must be a host name or address",
            ));
        }
        if let Some(old) = self.registration.take() {
            svc.sip
                .spawn(move |gw, now, sip| gw.registrations.unregister(now, old, sip));
        }
        self.reg_identity = Some((user.clone(), domain.clone()));
        let register = Register {
            registrar: svc.pbx.next_hop,
            user,
            domain,
            password,
            expires: expires.unwrap_or(600),
            user_agent: svc.user_agent.clone(),
        };
        let owner = RegOwner {
            events: self.reg_events.clone(),
            calls: self.sinks.sip.clone(),
        };
        let started = svc
            .sip
            .call(move |gw, now, sip| gw.registrations.start(now, register, owner, sip))
            .await;
        match started {
            Some(Ok(key)) => {
                self.registration = Some(key);
                self.registered = false;
                self.pending_register = Some(id.clone());
                Ok(Vec::new())
            }
            Some(Err(why)) => Err(err(ErrorCode::Internal, &why)),
            None => Err(err(ErrorCode::Internal, "the SIP core has stopped")),
        }
    }

    /// `unregister`: answered once the binding is removed (at once when
    /// there is none).
    pub(super) fn unregister(&mut self, id: &RequestId) -> Vec<Value> {
        let Some(key) = self.registration else {
            return vec![p::ok(id, json!({}))];
        };
        self.pending_unregister = Some(id.clone());
        self.config
            .calls
            .sip
            .spawn(move |gw, now, sip| gw.registrations.unregister(now, key, sip));
        Vec::new()
    }

    pub(super) async fn on_registration(&mut self, event: RegEvent) -> Vec<Value> {
        if self.registration != Some(event.key) {
            if let RegNotice::Incoming(call) = event.event {
                // A late call to a registration this session replaced.
                self.refuse_incoming(call.call, 480);
            }
            return Vec::new();
        }
        let state = match event.event {
            RegNotice::State(state) => state,
            RegNotice::Incoming(call) => return self.on_incoming(call).await,
        };
        let mut out = Vec::new();
        match state {
            RegistrationEvent::Registered { .. } => {
                if let Some(id) = self.pending_register.take() {
                    out.push(p::ok(&id, json!({})));
                }
                if let (Some(session), Some((user, domain))) = (&self.id, &self.reg_identity) {
                    self.config
                        .calls
                        .admin
                        .put_registration(crate::admin::AdminRegistration {
                            session: session.clone(),
                            user: user.clone(),
                            domain: domain.clone(),
                        });
                }
                if !self.registered {
                    self.registered = true;
                    self.config.calls.metrics.registrations_active.inc();
                    out.push(p::registration("registered", None, None));
                }
            }
            RegistrationEvent::Failed { status, reason } => {
                self.registration = None;
                self.forget_registered();
                self.config.calls.metrics.registration_failures.inc();
                if let Some(id) = self.pending_register.take() {
                    let e = ProtocolError {
                        sip_status: Some(status),
                        ..ProtocolError::new(
                            Some(id),
                            ErrorCode::RegistrationFailed,
                            format!("the registrar answered {status} {reason}"),
                        )
                    };
                    out.push(e.to_frame());
                }
                out.push(p::registration("failed", Some(status), Some(&reason)));
            }
            RegistrationEvent::Unregistered => {
                self.registration = None;
                self.forget_registered();
                if let Some(id) = self.pending_unregister.take() {
                    out.push(p::ok(&id, json!({})));
                }
                out.push(p::registration("unregistered", None, None));
            }
        }
        out
    }

    /// The registration is gone: the gauge and the admin API follow.
    pub(super) fn forget_registered(&mut self) {
        if let Some(session) = &self.id {
            self.config.calls.admin.remove_registration(session);
        }
        if self.registered {
            self.registered = false;
            self.config.calls.metrics.registrations_active.dec();
        }
    }

    /// The PBX calls this session's user: the media runtime writes the
    /// browser's offer, and the browser hears `incoming`. A call that
    /// cannot be offered is refused on the SIP side (486 when the session
    /// has too many calls, 488 when the PBX's SDP is unusable).
    pub(super) async fn on_incoming(&mut self, call: IncomingCall) -> Vec<Value> {
        if self.calls.len() >= self.config.limits.max_calls {
            self.refuse_incoming(call.call, 486);
            return Vec::new();
        }
        let svc = self.config.calls.clone();
        let sdp = call
            .sdp
            .as_ref()
            .map(|sdp| String::from_utf8_lossy(sdp).into_owned());
        let media = match svc.media.create_incoming(sdp).await {
            Ok(media) => media,
            Err(e) => {
                info!(error = %e, "a call from the PBX could not be offered");
                self.refuse_incoming(call.call, 488);
                return Vec::new();
            }
        };
        svc.media_router
            .register(media.id, self.sinks.media.clone());
        let name = incoming_name(&mut self.incoming_count, |n| self.calls.contains_key(n));
        let browser_call = BrowserCall::incoming(&svc, name.clone(), media.id, call.call);
        self.by_sip.insert(call.call, name.clone());
        self.by_media.insert(media.id, name.clone());
        self.calls.insert(name.clone(), browser_call);
        vec![p::incoming(
            &name,
            &call.from,
            call.display.as_deref(),
            &call.to,
            &media.browser_offer,
        )]
    }

    fn refuse_incoming(&self, key: CallKey, code: u16) {
        self.config.calls.sip.spawn(move |gw, now, sip| {
            let _ = gw.calls.with_leg(key, |leg| {
                leg.reject(now, code, sip.layer);
                Ok(())
            });
        });
    }
}

/// The name of the next call from the PBX: `in-<n>`, skipping names the
/// session already uses (a browser may have named its own call `in-1`;
/// taking that name would orphan its call).
fn incoming_name(count: &mut u64, taken: impl Fn(&str) -> bool) -> String {
    loop {
        *count += 1;
        let name = format!("in-{count}");
        if !taken(&name) {
            return name;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::incoming_name;

    #[test]
    fn incoming_calls_skip_names_the_browser_took() {
        let mut count = 0;
        let browser_named = ["in-1", "in-3"];
        let taken = |n: &str| browser_named.contains(&n);
        assert_eq!(incoming_name(&mut count, taken), "in-2");
        assert_eq!(incoming_name(&mut count, taken), "in-4");
        assert_eq!(incoming_name(&mut count, taken), "in-5");
    }
}
