"""Reversible encryption for authorized re-identification (the ``encrypt`` policy).

AES-256-GCM from the ``cryptography`` package: authenticated, with a random
96-bit nonce per value, and the dataset, column and row key as associated
data, so a token moved to another row, column or dataset no longer decrypts. The key comes from
``SYNTH_PIPELINE_ENCRYPTION_KEY`` (32 random bytes, URL-safe base64; make one
with ``synth-pipeline keygen``). Without the key nothing can be reversed.
"""

from __future__ import annotations

import base64
import binascii
import json
import os

import pandas as pd
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from synth_pipeline.lib.errors import PiiPolicyError

ENCRYPTION_KEY_ENV = "SYNTH_PIPELINE_ENCRYPTION_KEY"
TOKEN_KEY_ENV = "SYNTH_PIPELINE_TOKEN_KEY"
PREFIX = "enc:v2:"
# An HMAC key must be at least as long as `keygen`'s 256-bit keys in text (43+ characters) and not repetitive.
MIN_TOKEN_KEY_CHARS = 32
MIN_TOKEN_KEY_DISTINCT = 12


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


def token_key_bytes(key: str) -> bytes:
    """The HMAC key of the tokenize policy; a short or repetitive key makes tokens guessable, so it is refused."""
    if len(key) < MIN_TOKEN_KEY_CHARS or len(set(key)) < MIN_TOKEN_KEY_DISTINCT:
        raise PiiPolicyError(
            f"{TOKEN_KEY_ENV} is too weak: it needs at least {MIN_TOKEN_KEY_CHARS} characters, "
            f"{MIN_TOKEN_KEY_DISTINCT} of them distinct (make one with `synth-pipeline keygen`)"
        )
    return key.encode()


def associated_data(dataset: str, column: str, row_key: object) -> bytes:
    """What a token is bound to: it decrypts only for this dataset, column and row."""
    return json.dumps([dataset, column, str(row_key)]).encode()


def encrypt_value(value: object, key: bytes, dataset: str, column: str, row_key: object) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, str(value).encode(), associated_data(dataset, column, row_key))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_value(token: str, key: bytes, dataset: str, column: str, row_key: object) -> str:
    if not token.startswith(PREFIX):
        raise PiiPolicyError("not a synth-pipeline encryption token (enc:v2)")
    try:
        blob = base64.urlsafe_b64decode(token[len(PREFIX) :].encode())
        return AESGCM(key).decrypt(blob[:12], blob[12:], associated_data(dataset, column, row_key)).decode()
    except (InvalidTag, binascii.Error, ValueError):
        raise PiiPolicyError("token does not decrypt with this key for this dataset, column and row") from None


def encrypt_series(series: pd.Series, key: bytes, dataset: str, column: str, row_keys: pd.Series) -> pd.Series:
    return pd.Series(
        [
            None if pd.isna(v) else encrypt_value(v, key, dataset, column, r)
            for v, r in zip(series, row_keys, strict=True)
        ],
        index=series.index,
        dtype=object,
    )
