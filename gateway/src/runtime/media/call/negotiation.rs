//! The offer/answer steps of a [`MediaCall`] after it was created: the
//! PBX's answer (which also writes the browser's answer, with exactly the
//! PBX's codecs), a call from the PBX (the browser is offered, its answer
//! becomes the PBX's), the late offer to a PBX that sent none, and
//! re-offers from either side.

use super::*;

impl MediaCall {
    /// The PBX's answer: the payload map, the RTP leg toward the PBX's
    /// address, and the bridge. The first one also answers the browser
    /// with exactly the PBX's codecs: that answer is returned.
    pub fn set_pbx_answer(
        &mut self,
        now: Instant,
        answer: &str,
        webrtc: &WebRtcConfig,
        rng: &mut impl RngCore,
    ) -> Result<Option<String>, MediaError> {
        let parsed = SessionDescription::parse(answer.as_bytes(), &Limits::default())
            .map_err(|e| MediaError::Sdp(e.into()))?;
        let (browser_offer, pending) = match &self.negotiation {
            Negotiation::FromBrowser { offer, pending } => (offer, pending),
            Negotiation::FromPbx { .. } => return self.pbx_reoffer(now, &parsed),
            // No offer of the gateway's is out yet to be answered.
            Negotiation::LateFromPbx { .. } => {
                return Err(MediaError::Sdp(TranslateError::AnswerMismatch));
            }
        };
        let media = pbx_answer_media(pending, &parsed).map_err(MediaError::Sdp)?;
        let browser_answer = if self.webrtc.is_none() {
            let codecs: Vec<Codec> = media
                .payload_map
                .pairs()
                .iter()
                .map(|p| p.codec.clone())
                .collect();
            let (leg, sdp) =
                WebRtcLeg::accept_offer_with(now, webrtc, browser_offer, &codecs, rng)?;
            self.webrtc = Some(leg);
            self.webrtc_deadline = Some(now);
            Some(sdp)
        } else {
            None
        };
        let config = bridge_config(&media.payload_map, rng);
        let srtp = media.sdes.as_ref().map(PbxSrtpContexts::new);
        if let Some(a) = &mut self.answered {
            // A new answer (re-INVITE): keep the latch logic and the
            // gateway's SSRCs and numbering; new address, map and keys.
            a.rtp.set_remote(now, media.pbx.rtp);
            a.bridge.renegotiate(config);
            a.pbx = media.pbx;
            a.codec = audio_codec(&media.payload_map);
            a.srtp = srtp;
        } else {
            let mut bridge = Bridge::new(now, config, ntp_now(), rng);
            if let Some(leg) = &self.webrtc {
                bridge.set_ssrc(Side::Browser, Ssrc(leg.ssrc()));
            }
            let rtp = RtpLeg::new(now, self.rtp_leg_config.clone(), media.pbx.rtp);
            self.answered = Some(Answered {
                rtp,
                bridge,
                pbx: media.pbx,
                srtp,
                codec: audio_codec(&media.payload_map),
            });
        }
        debug!(call = %self.id, map = ?media.payload_map.pairs(), "media call: PBX answered");
        Ok(browser_answer)
    }

    /// A call from the PBX: the WebRTC leg offers the PBX's codecs to the
    /// browser (that offer is returned); [`Self::set_browser_answer`]
    /// completes both sides. Without a PBX offer (`None`: a late offer) the
    /// leg offers G.711. With `sdes`, an offer of SDES-SRTP is taken (a
    /// plain RTP one still is), and a late offer is made with SDES;
    /// without, an SDES offer is refused.
    #[allow(clippy::too_many_arguments)]
    pub fn create_incoming(
        now: Instant,
        id: MediaCallId,
        pbx_offer: Option<&str>,
        webrtc: &WebRtcConfig,
        sip_ip: IpAddr,
        sockets: PbxSockets,
        rtp_leg_config: RtpLegConfig,
        sdes: bool,
        rng: &mut impl RngCore,
    ) -> Result<(MediaCall, String), MediaError> {
        let (negotiation, codecs) = match pbx_offer {
            Some(offer) => {
                let parsed = SessionDescription::parse(offer.as_bytes(), &Limits::default())
                    .map_err(|e| MediaError::Sdp(e.into()))?;
                let srtp = if sdes {
                    PbxSrtp::Sdes(MasterKey::random(rng))
                } else {
                    PbxSrtp::Off
                };
                let pending = read_pbx_offer(&parsed, &CodecPolicy::default(), &srtp)
                    .map_err(MediaError::Sdp)?;
                let codecs: Vec<Codec> = pending.formats.iter().map(|f| f.codec.clone()).collect();
                (Negotiation::FromPbx { pending, srtp }, codecs)
            }
            // G.711 first: whatever the browser puts first it sends, and
            // the PBX, which has said nothing yet, surely takes G.711.
            None => (
                Negotiation::LateFromPbx { sdes },
                vec![
                    Codec::Pcmu,
                    Codec::Pcma,
                    Codec::TelephoneEvent { clock_rate: 8000 },
                ],
            ),
        };
        let (leg, browser_offer) = WebRtcLeg::create_offer(now, webrtc, &codecs, rng)?;
        let rtp_port = sockets.rtp.local_addr().map_err(MediaError::Io)?.port();
        let call = MediaCall {
            id,
            leg_id: LegId(id.0),
            negotiation,
            pbx_side: SipSideAddr {
                ip: sip_ip,
                rtp_port,
            },
            webrtc: Some(leg),
            webrtc_deadline: Some(now),
            rtp_socket: sockets.rtp,
            rtcp_socket: sockets.rtcp,
            readers: sockets.readers,
            answered: None,
            rtp_leg_config,
            dead: false,
            buf: Vec::with_capacity(1500),
        };
        Ok((call, browser_offer))
    }

    /// The browser's answer to a call from the PBX: the WebRTC leg takes
    /// it, and the PBX's answer (the codecs the browser chose, on the PBX's
    /// payload types, at the call's RTP address) is returned; after a late
    /// offer, the gateway's offer to the PBX (the codecs the browser chose).
    pub fn set_browser_answer(
        &mut self,
        now: Instant,
        answer: &str,
        rng: &mut impl RngCore,
    ) -> Result<String, MediaError> {
        if let Negotiation::LateFromPbx { sdes } = self.negotiation {
            return self.late_offer_to_pbx(answer, sdes, rng);
        }
        let Negotiation::FromPbx { pending, .. } = &self.negotiation else {
            return Err(MediaError::Sdp(TranslateError::AnswerMismatch));
        };
        let parsed = SessionDescription::parse(answer.as_bytes(), &Limits::default())
            .map_err(|e| MediaError::Sdp(e.into()))?;
        let pbx_side = PbxSide {
            addr: self.pbx_side,
            rtcp: RtcpMode::NextPort,
            codecs: CodecPolicy::default(),
            ptime: None,
            srtp: PbxSrtp::Off,
        };
        let origin = GatewayOrigin {
            session_id: rng.random_range(1..=u64::from(u32::MAX)),
            version: 1,
        };
        let out =
            browser_answer_to_pbx(pending, &parsed, &pbx_side, origin).map_err(MediaError::Sdp)?;
        self.webrtc
            .as_mut()
            .ok_or(MediaError::NoSuchCall(self.id))?
            .accept_answer(answer)?;
        let config = bridge_config(&out.payload_map, rng);
        let mut bridge = Bridge::new(now, config, ntp_now(), rng);
        if let Some(leg) = &self.webrtc {
            bridge.set_ssrc(Side::Browser, Ssrc(leg.ssrc()));
        }
        let rtp = RtpLeg::new(now, self.rtp_leg_config.clone(), out.pbx.rtp);
        self.answered = Some(Answered {
            rtp,
            bridge,
            pbx: out.pbx,
            srtp: out.sdes.as_ref().map(PbxSrtpContexts::new),
            codec: audio_codec(&out.payload_map),
        });
        debug!(call = %self.id, map = ?out.payload_map.pairs(), "media call: browser answered the PBX's call");
        Ok(out.sdp.to_string())
    }

    /// A late offer: the browser's answer to the leg's offer is translated
    /// as a browser's offer would be into the gateway's offer to the PBX;
    /// from then on the call negotiates as a browser's call does (the PBX's
    /// answer, from its ACK, goes to [`Self::set_pbx_answer`]).
    fn late_offer_to_pbx(
        &mut self,
        answer: &str,
        sdes: bool,
        rng: &mut impl RngCore,
    ) -> Result<String, MediaError> {
        let parsed = SessionDescription::parse(answer.as_bytes(), &Limits::default())
            .map_err(|e| MediaError::Sdp(e.into()))?;
        // The PBX is offered exactly the codec the browser will send (the
        // first of its answer) and telephone-event: what the PBX answers
        // then matches what arrives from the browser.
        let first = parsed
            .media
            .iter()
            .find(|m| m.media == "audio" && m.port != 0)
            .and_then(|m| {
                PayloadFormat::all_of(m)
                    .into_iter()
                    .find(|f| !f.codec.is_telephone_event())
            })
            .ok_or(MediaError::Sdp(TranslateError::AnswerMismatch))?;
        let events = Codec::TelephoneEvent {
            clock_rate: first.codec.clock_rate(),
        };
        let pbx_side = PbxSide {
            addr: self.pbx_side,
            rtcp: RtcpMode::NextPort,
            codecs: CodecPolicy {
                allowed: vec![first.codec, events],
            },
            ptime: None,
            srtp: if sdes {
                PbxSrtp::Sdes(MasterKey::random(rng))
            } else {
                PbxSrtp::Off
            },
        };
        let origin = GatewayOrigin {
            session_id: rng.random_range(1..=u64::from(u32::MAX)),
            version: 1,
        };
        let pbx_offer =
            browser_offer_to_pbx(&parsed, &pbx_side, origin).map_err(MediaError::Sdp)?;
        self.webrtc
            .as_mut()
            .ok_or(MediaError::NoSuchCall(self.id))?
            .accept_answer(answer)?;
        self.negotiation = Negotiation::FromBrowser {
            offer: answer.to_owned(),
            pending: pbx_offer.pending,
        };
        debug!(call = %self.id, "media call: late offer made to the PBX");
        Ok(pbx_offer.sdp.to_string())
    }

    /// A new offer from the PBX in a call it placed (hold, a new address,
    /// a new SDES key): the RTP leg follows its address, and a new key of
    /// the PBX's replaces the context that unprotects what it sends; codecs
    /// and the gateway's own key stay as negotiated (the SIP leg answers
    /// with the gateway's last description).
    fn pbx_reoffer(
        &mut self,
        now: Instant,
        offer: &SessionDescription,
    ) -> Result<Option<String>, MediaError> {
        let Negotiation::FromPbx { srtp, .. } = &self.negotiation else {
            return Ok(None);
        };
        let again =
            read_pbx_offer(offer, &CodecPolicy::default(), srtp).map_err(MediaError::Sdp)?;
        let Some(a) = &mut self.answered else {
            return Ok(None);
        };
        match &mut a.srtp {
            // The line of the tag in use, wherever it now stands.
            Some(contexts) => {
                let keys = reoffered_keys(offer, &contexts.keys).map_err(MediaError::Sdp)?;
                if keys.receive != contexts.keys.receive {
                    contexts.receive = SrtpContext::new(keys.profile, &keys.receive);
                    contexts.keys = keys;
                }
            }
            // SRTP now, in a call set up without it.
            None if again.sdes.is_some() => {
                return Err(MediaError::Sdp(TranslateError::Attribute("crypto")));
            }
            None => {}
        }
        // Against the address in use, not the first offer's: A → B → A
        // must come back to A.
        if again.pbx.rtp != a.pbx.rtp {
            a.rtp.set_remote(now, again.pbx.rtp);
        }
        a.pbx = again.pbx;
        Ok(None)
    }

    /// A new offer from the browser (the leg must exist: the call was
    /// answered on the browser side).
    pub fn browser_reoffer(
        &mut self,
        sdp: &str,
        rng: &mut impl RngCore,
    ) -> Result<String, MediaError> {
        let leg = self
            .webrtc
            .as_mut()
            .ok_or(MediaError::NoSuchCall(self.id))?;
        Ok(leg.accept_reoffer(sdp, rng)?)
    }
}
