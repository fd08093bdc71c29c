"""The `encryption` mapper's ciphers, as Airbyte's EncryptionMapper writes them.

RSA: the public key is the hex of its DER (X.509 SubjectPublicKeyInfo) encoding, as Airbyte
takes it (a PEM text is accepted too); PKCS#1 v1.5 padding (Java's "RSA"); the value is the
hex of the ciphertext. AES: the key is hex (16, 24 or 32 bytes); the value is the hex of a
random 16-byte IV followed by the ciphertext (ECB: no IV; GCM: a 12-byte nonce, then the
ciphertext and its tag). Both fail on input they cannot take (RSA: longer than the key allows;
AES with NoPadding in CBC or ECB: not a multiple of 16 bytes): the relay records the change.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from cryptography.hazmat.primitives import padding as block_padding
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

AES_MODES = ("CBC", "CFB", "OFB", "CTR", "GCM", "ECB")
AES_PADDINGS = ("PKCS5Padding", "NoPadding")

Encrypt = Callable[[bytes], str]


class CipherError(ValueError):
    """A key or cipher setting that cannot be used; the message says which and why."""


def rsa_encrypter(public_key: str) -> Encrypt:
    """Encrypt with an RSA public key (hex of DER, or PEM)."""
    text = public_key.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = load_pem_public_key(text.encode())
        else:
            key = load_der_public_key(bytes.fromhex(text))
    except ValueError as exc:
        raise CipherError(
            f"publicKey is not an RSA public key (hex of DER, or PEM): {exc}"
        ) from exc
    if not isinstance(key, RSAPublicKey):
        raise CipherError("publicKey is not an RSA public key")
    pad = rsa_padding.PKCS1v15()

    def encrypt(data: bytes) -> str:
        return key.encrypt(data, pad).hex()

    return encrypt


def aes_encrypter(key_hex: str, mode: str, padding: str) -> Encrypt:
    """Encrypt with an AES key (hex), a block mode and a padding, as Airbyte names them."""
    try:
        key = bytes.fromhex(key_hex.strip())
    except ValueError as exc:
        raise CipherError("key is not hexadecimal") from exc
    if len(key) not in (16, 24, 32):
        raise CipherError(
            f"key must be 16, 24 or 32 bytes (32, 48 or 64 hex digits), not {len(key)}"
        )
    if mode not in AES_MODES:
        raise CipherError(f"mode must be one of {', '.join(AES_MODES)}, not {mode!r}")
    if padding not in AES_PADDINGS:
        raise CipherError(f"padding must be one of {', '.join(AES_PADDINGS)}, not {padding!r}")
    algorithm = algorithms.AES(key)
    padded = padding == "PKCS5Padding" and mode in ("CBC", "ECB")  # the stream modes need none

    def encrypt(data: bytes) -> str:
        if padded:
            padder = block_padding.PKCS7(128).padder()
            data = padder.update(data) + padder.finalize()
        if mode == "GCM":
            nonce = os.urandom(12)
            gcm = Cipher(algorithm, modes.GCM(nonce)).encryptor()
            body = gcm.update(data) + gcm.finalize()
            return (nonce + body + gcm.tag).hex()
        iv = b"" if mode == "ECB" else os.urandom(16)
        block_mode: modes.Mode
        if mode == "CBC":
            block_mode = modes.CBC(iv)
        elif mode == "CFB":
            block_mode = modes.CFB(iv)
        elif mode == "OFB":
            block_mode = modes.OFB(iv)
        elif mode == "CTR":
            block_mode = modes.CTR(iv)
        else:
            block_mode = modes.ECB()
        cipher = Cipher(algorithm, block_mode).encryptor()
        return (iv + cipher.update(data) + cipher.finalize()).hex()

    return encrypt
