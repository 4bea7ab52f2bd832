//! What the browser asks of an answered call: hold and resume (a
//! re-INVITE), renegotiation of its own leg (ICE restart), a blind
//! transfer (REFER), and DTMF (RFC 4733 or SIP INFO).

use super::*;

impl BrowserCall {
    /// Holds or resumes the call toward the PBX (a re-INVITE); the `ok`
    /// and the `held`/`resumed` event follow once the PBX answered.
    pub async fn hold(
        &mut self,
        svc: &CallServices,
        id: &RequestId,
        held: bool,
    ) -> Result<(), ProtocolError> {
        let error = |code, message: String| ProtocolError::new(Some(id.clone()), code, message);
        if self.state != CallState::InCall || self.pending_hold.is_some() {
            return Err(error(
                ErrorCode::InvalidState,
                "hold needs an answered call with no hold in progress".into(),
            ));
        }
        let key = self.sip;
        let sent = svc
            .sip
            .call(move |gw, now, sip| gw.calls.set_hold(now, key, held, sip))
            .await;
        match sent {
            Some(Ok(())) => {
                self.pending_hold = Some((id.clone(), held));
                Ok(())
            }
            Some(Err(e)) => Err(error(ErrorCode::InvalidState, e.to_string())),
            None => Err(error(
                ErrorCode::Internal,
                "the SIP core has stopped".into(),
            )),
        }
    }

    /// A new offer from the browser (an ICE restart, say): the browser leg
    /// answers it; the PBX side is untouched.
    pub async fn renegotiate(
        &mut self,
        svc: &CallServices,
        id: &RequestId,
        sdp: String,
    ) -> Result<String, ProtocolError> {
        let error = |code, message: String| ProtocolError::new(Some(id.clone()), code, message);
        if self.state != CallState::InCall {
            return Err(error(
                ErrorCode::InvalidState,
                "renegotiation needs an answered call".into(),
            ));
        }
        svc.media
            .browser_reoffer(self.media, sdp)
            .await
            .map_err(|e| match e {
                MediaError::Sdp(_) | MediaError::WebRtc(_) => {
                    error(ErrorCode::BadSdp, format!("unusable offer: {e}"))
                }
                _ => error(ErrorCode::Internal, e.to_string()),
            })
    }

    /// Blind transfer to `to` (routed like a `call`'s target): a REFER to
    /// the PBX; the `ok` follows its 202, progress comes as `transfer`
    /// events.
    pub async fn transfer(
        &mut self,
        svc: &CallServices,
        id: &RequestId,
        to: &str,
    ) -> Result<(), ProtocolError> {
        let error = |code, message: String| ProtocolError::new(Some(id.clone()), code, message);
        if self.state != CallState::InCall || self.pending_transfer.is_some() {
            return Err(error(
                ErrorCode::InvalidState,
                "transfer needs an answered call with no transfer in progress".into(),
            ));
        }
        let target = svc
            .pbx
            .target
            .request_uri(to)
            .map_err(|e| error(ErrorCode::NoRoute, format!("cannot route {to:?}: {e}")))?;
        let key = self.sip;
        let sent = svc
            .sip
            .call(move |gw, now, sip| {
                gw.calls
                    .with_leg(key, |leg| leg.transfer(now, &target, sip.layer, sip.rng))
            })
            .await;
        match sent {
            Some(Ok(())) => {
                self.pending_transfer = Some(id.clone());
                Ok(())
            }
            Some(Err(e)) => Err(error(ErrorCode::InvalidState, e.to_string())),
            None => Err(error(
                ErrorCode::Internal,
                "the SIP core has stopped".into(),
            )),
        }
    }

    /// Sends DTMF toward the PBX: RFC 4733 on the PBX's payload type, or
    /// SIP INFO per key where the PBX offered no telephone-event.
    pub async fn dtmf(
        &mut self,
        svc: &CallServices,
        id: &RequestId,
        digits: &str,
        duration: Duration,
    ) -> Result<(), ProtocolError> {
        if self.state != CallState::InCall {
            return Err(ProtocolError::new(
                Some(id.clone()),
                ErrorCode::InvalidState,
                "DTMF needs an answered call",
            ));
        }
        match svc
            .media
            .send_dtmf(self.media, digits.to_owned(), duration)
            .await
        {
            Ok(()) => return Ok(()),
            Err(MediaError::NoTelephoneEvent) => {}
            Err(e) => {
                return Err(ProtocolError::new(
                    Some(id.clone()),
                    ErrorCode::Internal,
                    e.to_string(),
                ));
            }
        }
        let key = self.sip;
        let ms = u32::try_from(duration.as_millis()).unwrap_or(u32::MAX);
        for digit in digits.chars().map(|c| c.to_ascii_uppercase()) {
            let sent = svc
                .sip
                .call(move |gw, now, sip| gw.calls.send_dtmf_info(now, key, digit, ms, sip))
                .await;
            match sent {
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    return Err(ProtocolError::new(
                        Some(id.clone()),
                        ErrorCode::InvalidState,
                        e.to_string(),
                    ));
                }
                None => {
                    return Err(ProtocolError::new(
                        Some(id.clone()),
                        ErrorCode::Internal,
                        "the SIP core has stopped",
                    ));
                }
            }
        }
        Ok(())
    }
}
