#!/usr/bin/env python3
"""An independent reference for SRTP AEAD_AES_256_GCM keyed from a master key.

No RFC publishes a packet vector for AEAD_AES_256_GCM that starts from a
master key (RFC 7714 §16-17 give session keys). This recomputes libsrtp's
`srtp_validate_gcm` packets under AES-256 with Python's `cryptography`
(OpenSSL), following RFC 3711 §4.3 (the KDF; AES-256 as in RFC 6188, the
12-byte salt zero-padded to 14 bytes as in libsrtp) and RFC 7714 §8-§11,
without any of the gateway's code. Its output is pinned by
`aes_256_gcm_from_a_master_key_matches_an_independent_reference` in
sbc-core/src/media/srtp/aead/tests.rs.

    pip install cryptography && python3 aead_aes_256_gcm_reference.py
"""
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
import sys
def kdf(mk, ms, label, n):
    x = bytearray(ms + bytes(14 - len(ms)))   # 12-byte salt padded to 112 bits
    x[7] ^= label
    iv = bytes(x) + b"\0\0"
    e = Cipher(algorithms.AES(mk), modes.CTR(iv)).encryptor()
    return e.update(bytes(n))
mk = bytes(range(32)); ms = bytes.fromhex("a0a1a2a3a4a5a6a7a8a9aaab")
rk, rs = kdf(mk, ms, 0, 32), kdf(mk, ms, 2, 12)
ck, cs = kdf(mk, ms, 3, 32), kdf(mk, ms, 5, 12)
xor = lambda a, b: bytes(i ^ j for i, j in zip(a, b))
rtp = bytes.fromhex("800f1234decafbadcafebabe" + "ab" * 16)
ssrc, seq, roc = rtp[8:12], rtp[2:4], b"\0\0\0\0"
iv = xor(b"\0\0" + ssrc + roc + seq, rs)
srtp = rtp[:12] + AESGCM(rk).encrypt(iv, rtp[12:], rtp[:12])
rtcp = bytes.fromhex("81c8000bcafebabe" + "ab" * 16)
word = (0x80000001).to_bytes(4, "big")
iv = xor(b"\0\0" + rtcp[4:8] + b"\0\0" + (1).to_bytes(4, "big"), cs)
srtcp = rtcp[:8] + AESGCM(ck).encrypt(iv, rtcp[8:], rtcp[:8] + word) + word
print("srtp ", srtp.hex()); print("srtcp", srtcp.hex())
