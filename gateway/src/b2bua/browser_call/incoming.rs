//! A call from the PBX to a registered browser: offered to the browser
//! ringing; the browser's `ringing`, `answer` and `reject` become the
//! SIP leg's 180, 200 and failure response.

use super::*;

impl BrowserCall {
    /// A call from the PBX, offered to the browser as `name`: its media
    /// (with the browser's offer already written) and its SIP leg.
    pub fn incoming(
        svc: &CallServices,
        name: String,
        media: MediaCallId,
        sip: CallKey,
    ) -> BrowserCall {
        BrowserCall {
            name,
            media,
            sip,
            state: CallState::Ringing,
            held_by_remote: false,
            pending_hold: None,
            from_pbx: true,
            pending_transfer: None,
            created: now(),
            answered_at: None,
            created_wall: SystemTime::now(),
            answered_wall: None,
        }
        .counted(svc)
    }

    /// The browser answers a call from the PBX with `sdp`: the PBX gets
    /// its 200 with the gateway's SDP.
    pub async fn answer(
        &mut self,
        svc: &CallServices,
        id: &RequestId,
        sdp: String,
    ) -> Result<(), ProtocolError> {
        let error = |code, message: String| ProtocolError::new(Some(id.clone()), code, message);
        if !self.from_pbx || self.state != CallState::Ringing {
            return Err(error(
                ErrorCode::InvalidState,
                "only a ringing incoming call can be answered".into(),
            ));
        }
        let pbx_answer = svc
            .media
            .set_browser_answer(self.media, sdp)
            .await
            .map_err(|e| match e {
                MediaError::Sdp(_) | MediaError::WebRtc(_) => {
                    error(ErrorCode::BadSdp, format!("unusable answer: {e}"))
                }
                _ => error(ErrorCode::Internal, e.to_string()),
            })?;
        let key = self.sip;
        let sdp = Bytes::from(pbx_answer);
        let sent = svc
            .sip
            .call(move |gw, now, sip| {
                gw.calls
                    .with_leg(key, |leg| leg.answer(now, sdp, sip.layer))
            })
            .await;
        match sent {
            Some(Ok(())) => {
                self.mark_answered(svc);
                Ok(())
            }
            Some(Err(e)) => Err(error(ErrorCode::InvalidState, e.to_string())),
            None => Err(error(
                ErrorCode::Internal,
                "the SIP core has stopped".into(),
            )),
        }
    }

    /// Tells the PBX the browser rings (180).
    pub async fn ringing(
        &mut self,
        svc: &CallServices,
        id: &RequestId,
    ) -> Result<(), ProtocolError> {
        let error = |code, message: String| ProtocolError::new(Some(id.clone()), code, message);
        if !self.from_pbx {
            return Err(error(
                ErrorCode::InvalidState,
                "not an incoming call".into(),
            ));
        }
        let key = self.sip;
        let sent = svc
            .sip
            .call(move |gw, now, sip| gw.calls.with_leg(key, |leg| leg.ringing(now, sip.layer)))
            .await;
        match sent {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(error(ErrorCode::InvalidState, e.to_string())),
            None => Err(error(
                ErrorCode::Internal,
                "the SIP core has stopped".into(),
            )),
        }
    }

    /// The browser declines a call from the PBX with `code`.
    pub async fn reject(
        &mut self,
        svc: &CallServices,
        id: &RequestId,
        code: u16,
    ) -> Result<Vec<Value>, ProtocolError> {
        if !self.from_pbx || self.state != CallState::Ringing {
            return Err(ProtocolError::new(
                Some(id.clone()),
                ErrorCode::InvalidState,
                "only a ringing incoming call can be rejected",
            ));
        }
        let key = self.sip;
        svc.sip.spawn(move |gw, now, sip| {
            let _ = gw.calls.with_leg(key, |leg| {
                leg.reject(now, code, sip.layer);
                Ok(())
            });
        });
        let end = Ending {
            by: EndedBy::Local,
            sip_status: Some(code),
            reason: "rejected",
        };
        self.finish(svc, CallResult::Rejected, end).await;
        Ok(vec![p::ended(
            &self.name,
            EndedBy::Local,
            Some(code),
            "rejected",
        )])
    }
}
