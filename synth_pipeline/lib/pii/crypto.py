"""Reversible encryption for authorized re-identification (the ``encrypt`` policy).

AES-256-GCM from the ``cryptography`` package: authenticated, with a random
96-bit nonce per value and the column name as associated data, so a token
cannot be moved to another column unnoticed. The key comes from
``SYNTH_PIPELINE_ENCRYPTION_KEY`` (32 random bytes, URL-safe base64; make one
with ``synth-pipeline keygen``). Without the key nothing can be reversed.
"""

from __future__ import annotations

import base64
import binascii
import os

import pandas as pd
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from synth_pipeline.lib.errors import PiiPolicyError

ENCRYPTION_KEY_ENV = "SYNTH_PIPELINE_ENCRYPTION_KEY"
PREFIX = "enc:v1:"


def new_key() -> str:
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()


def parse_key(key: str | None) -> bytes:
    if not key:
        raise PiiPolicyError(f"the encrypt policy needs {ENCRYPTION_KEY_ENV} (make one with `synth-pipeline keygen`)")
    try:
        raw = base64.urlsafe_b64decode(key.encode())
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise PiiPolicyError(f"{ENCRYPTION_KEY_ENV} must be 32 bytes in URL-safe base64 (see `synth-pipeline keygen`)")
    return raw


def encrypt_value(value: object, key: bytes, column: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, str(value).encode(), column.encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_value(token: str, key: bytes, column: str) -> str:
    if not token.startswith(PREFIX):
        raise PiiPolicyError("not a synth-pipeline encryption token")
    try:
        blob = base64.urlsafe_b64decode(token[len(PREFIX) :].encode())
        return AESGCM(key).decrypt(blob[:12], blob[12:], column.encode()).decode()
    except (InvalidTag, binascii.Error, ValueError):
        raise PiiPolicyError("token does not decrypt with this key and column") from None


def encrypt_series(series: pd.Series, key: bytes, column: str) -> pd.Series:
    return series.map(lambda v: None if pd.isna(v) else encrypt_value(v, key, column)).astype(object)
