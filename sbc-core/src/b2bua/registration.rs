//! A browser user's registration at the PBX, made by the gateway with its
//! own Contact (RFC 3261 §10): REGISTER, digest answers to 401/407, 423's
//! Min-Expires taken, a refresh before the binding expires, and the
//! binding removed with `Expires: 0`. Driven with a [`TransactionLayer`]
//! and `now`; [`RegistrationEvent`]s say when the state changes.
//!
//! ```text
//! start ──REGISTER──▶ Registering ──2xx──▶ Registered ──(refresh time)──▶ Registering …
//!                        │ 401/407: again with credentials (at most twice in a row)
//!                        └ other failure ─▶ Failed           unregister ──Expires: 0──▶ Unregistered
//! ```

use crate::sip::digest::DigestClient;
use crate::sip::headers::HeaderAccess;
use crate::sip::headers::scalar::parse_expires;
use crate::sip::request::{CallId, LocalVia, RequestBuilder, Tag};
use crate::sip::transaction::{Peer, TransactionId, TransactionLayer};
use crate::sip::{HeaderName, Message, Method, StartLine};
use rand::RngCore;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Challenges answered in a row before the registration fails.
const MAX_CHALLENGES: u8 = 2;

/// What a registration is made of.
#[derive(Debug, Clone)]
pub struct RegistrationConfig {
    /// The registrar (the PBX).
    pub registrar: Peer,
    /// The Request-URI, `sip:<domain>`.
    pub request_uri: String,
    /// The address of record, `<sip:user@domain>` (From and To).
    pub aor: String,
    /// The gateway's Contact for this user, e.g.
    /// `<sip:u1@192.0.2.1:5060;transport=udp>`: calls to the user come here.
    pub contact: String,
    /// The gateway's Via for this hop.
    pub via: LocalVia,
    /// `User-Agent`.
    pub user_agent: String,
    /// Username and password for digest challenges.
    pub credentials: Option<(String, String)>,
    /// The expiry asked for, seconds.
    pub expires: u32,
}

/// What the registration tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationEvent {
    /// The registrar accepted the binding for `expires` seconds (the
    /// first time, and after each refresh).
    Registered {
        /// The granted expiry.
        expires: u32,
    },
    /// The binding is removed (or the registration given up).
    Unregistered,
    /// The registrar refused, or did not answer (408), or could not be
    /// reached (503); nothing is retried.
    Failed {
        /// The status.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Registering,
    Registered { refresh_at: Instant },
    Unregistering,
    Done,
}

/// One registration; see the module docs.
#[derive(Debug)]
pub struct Registration {
    config: RegistrationConfig,
    call_id: CallId,
    from_tag: Tag,
    cseq: u32,
    expires: u32,
    state: State,
    tx: Option<TransactionId>,
    auth: Option<DigestClient>,
    challenges: u8,
    new_transactions: Vec<TransactionId>,
    events: VecDeque<RegistrationEvent>,
}

impl Registration {
    /// Sends the first REGISTER.
    pub fn start(
        now: Instant,
        config: RegistrationConfig,
        layer: &mut TransactionLayer,
        rng: &mut (impl RngCore + ?Sized),
    ) -> Result<Self, String> {
        let mut r = Registration {
            expires: config.expires,
            config,
            call_id: CallId::random(rng),
            from_tag: Tag::random(rng),
            cseq: 0,
            state: State::Registering,
            tx: None,
            auth: None,
            challenges: 0,
            new_transactions: Vec::new(),
            events: VecDeque::new(),
        };
        r.send(now, r.expires, layer, rng)?;
        Ok(r)
    }

    /// Removes the binding (`Expires: 0`); [`RegistrationEvent::Unregistered`]
    /// follows its answer (any answer: the binding is given up either way).
    pub fn unregister(
        &mut self,
        now: Instant,
        layer: &mut TransactionLayer,
        rng: &mut dyn RngCore,
    ) {
        if matches!(self.state, State::Unregistering | State::Done) {
            return;
        }
        self.state = State::Unregistering;
        self.challenges = 0;
        if self.send(now, 0, layer, rng).is_err() {
            self.finish(RegistrationEvent::Unregistered);
        }
    }

    /// Whether nothing more will happen.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The Call-ID of its REGISTERs.
    pub fn call_id(&self) -> &CallId {
        &self.call_id
    }

    /// Transactions started since the last call.
    pub fn take_transactions(&mut self) -> Vec<TransactionId> {
        std::mem::take(&mut self.new_transactions)
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<RegistrationEvent> {
        self.events.pop_front()
    }

    /// When the binding must be refreshed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Registered { refresh_at } => Some(refresh_at),
            _ => None,
        }
    }

    /// Refreshes the binding when its time has come.
    pub fn handle_timeout(
        &mut self,
        now: Instant,
        layer: &mut TransactionLayer,
        rng: &mut dyn RngCore,
    ) {
        if let State::Registered { refresh_at } = self.state
            && now >= refresh_at
        {
            self.state = State::Registering;
            self.challenges = 0;
            if let Err(reason) = self.send(now, self.expires, layer, rng) {
                self.fail(503, reason);
            }
        }
    }

    /// A response to one of its REGISTERs.
    pub fn on_response(
        &mut self,
        now: Instant,
        tx: TransactionId,
        response: &Message,
        layer: &mut TransactionLayer,
        rng: &mut dyn RngCore,
    ) {
        if self.tx != Some(tx) {
            return;
        }
        let Some(status) = response.status() else {
            return;
        };
        let unregistering = self.state == State::Unregistering;
        match status {
            100..=199 => {}
            200..=299 if unregistering => self.finish(RegistrationEvent::Unregistered),
            200..=299 => {
                self.challenges = 0;
                let granted = self.granted_expires(response);
                // Refresh well before the binding lapses: at 80 % of a long
                // expiry, half of a short one.
                let ahead = if granted > 60 {
                    u64::from(granted) / 5
                } else {
                    u64::from(granted) / 2
                };
                let refresh_at =
                    now + Duration::from_secs(u64::from(granted).saturating_sub(ahead).max(1));
                self.state = State::Registered { refresh_at };
                self.tx = None;
                self.events
                    .push_back(RegistrationEvent::Registered { expires: granted });
            }
            401 | 407 if self.challenges < MAX_CHALLENGES => {
                self.challenges += 1;
                let expires = if unregistering { 0 } else { self.expires };
                let answered = self
                    .learn_challenge(response, rng)
                    .and_then(|()| self.send(now, expires, layer, rng));
                if let Err(reason) = answered {
                    self.refused(status, reason, unregistering);
                }
            }
            423 if !unregistering => {
                match response
                    .headers
                    .get(HeaderName::MinExpires)
                    .and_then(|v| parse_expires(v).ok())
                {
                    Some(min) if min > self.expires => {
                        self.expires = min;
                        if let Err(reason) = self.send(now, min, layer, rng) {
                            self.fail(503, reason);
                        }
                    }
                    _ => self.fail(status, reason_of(response)),
                }
            }
            _ => self.refused(status, reason_of(response), unregistering),
        }
    }

    /// Its REGISTER timed out (408) or could not be sent (503).
    pub fn on_failure(&mut self, tx: TransactionId, status: u16) {
        if self.tx != Some(tx) {
            return;
        }
        let unregistering = self.state == State::Unregistering;
        let reason = if status == 408 {
            "no answer from the registrar"
        } else {
            "the registrar is unreachable"
        };
        self.refused(status, reason.into(), unregistering);
    }

    fn refused(&mut self, status: u16, reason: String, unregistering: bool) {
        if unregistering {
            self.finish(RegistrationEvent::Unregistered);
        } else {
            self.fail(status, reason);
        }
    }

    fn fail(&mut self, status: u16, reason: String) {
        self.finish(RegistrationEvent::Failed { status, reason });
    }

    fn finish(&mut self, event: RegistrationEvent) {
        if self.state != State::Done {
            self.state = State::Done;
            self.tx = None;
            self.events.push_back(event);
        }
    }

    /// The expiry the registrar granted our Contact: its `expires`
    /// parameter, else the Expires header, else what we asked.
    fn granted_expires(&self, response: &Message) -> u32 {
        let ours = contact_uri(&self.config.contact);
        // The header parser splits elements outside quotes and brackets
        // (a display name may hold a comma).
        let from_contact = response
            .contacts()
            .filter_map(Result::ok)
            .find(|c| c.uri.as_bytes().eq_ignore_ascii_case(ours.as_bytes()))
            .and_then(|c| c.params.get("expires").flatten())
            .and_then(|v| parse_expires(v).ok());
        let header = response.expires().ok().flatten();
        from_contact.or(header).unwrap_or(self.expires).max(1)
    }

    fn learn_challenge(&mut self, response: &Message, rng: &mut dyn RngCore) -> Result<(), String> {
        let (user, password) = self
            .config
            .credentials
            .clone()
            .ok_or("challenged, and no password was given")?;
        let client = self
            .auth
            .get_or_insert_with(|| DigestClient::new(user, password));
        client
            .respond_to(response, "REGISTER", &self.config.request_uri, rng)
            .map(|_| ())
            .map_err(|e| format!("cannot answer the challenge: {e}"))
    }

    /// Sends a REGISTER asking for `expires` seconds, with the credentials
    /// of the realms that challenged before.
    fn send(
        &mut self,
        now: Instant,
        expires: u32,
        layer: &mut TransactionLayer,
        rng: &mut (impl RngCore + ?Sized),
    ) -> Result<(), String> {
        self.cseq += 1;
        let c = &self.config;
        let mut register = RequestBuilder::new(
            Method::Register,
            c.request_uri.clone(),
            c.aor.clone(),
            c.aor.clone(),
            c.via.clone(),
        )
        .call_id(self.call_id.clone())
        .from_tag(self.from_tag.clone())
        .cseq(self.cseq)
        .contact(c.contact.clone())
        .user_agent(c.user_agent.clone())
        .header(HeaderName::Expires, expires.to_string())
        .build(rng)
        .map_err(|e| e.to_string())?
        .into_message();
        if let Some(auth) = &mut self.auth {
            let headers = auth
                .authorize("REGISTER", &c.request_uri)
                .map_err(|e| e.to_string())?;
            for h in headers {
                register.headers.push(h.name, h.value);
            }
        }
        let tx = layer
            .send_request(now, register, c.registrar)
            .map_err(|e| e.to_string())?;
        self.tx = Some(tx);
        self.new_transactions.push(tx);
        Ok(())
    }
}

/// The URI inside a Contact value (`<…>` or bare), lower-cased.
fn contact_uri(contact: &str) -> String {
    let inner = match (contact.find('<'), contact.find('>')) {
        (Some(a), Some(b)) if a < b => &contact[a + 1..b],
        _ => contact.split(';').next().unwrap_or(contact),
    };
    inner.trim().to_ascii_lowercase()
}

/// The reason phrase of a response.
fn reason_of(m: &Message) -> String {
    match &m.start {
        StartLine::Response { reason, .. } => String::from_utf8_lossy(reason).into_owned(),
        StartLine::Request { .. } => String::new(),
    }
}

#[cfg(test)]
mod tests;
