"""The AWS KMS signer: an asymmetric ``ECC_NIST_P256`` key that signs with ``ECDSA_SHA_256``.

The private key never leaves KMS; ``get_public_key`` gives the public half once (cached),
whose fingerprint is the ``key_id`` written into documents and trusted-keys files. A
message is sent as is (``MessageType=RAW``, at most 4,096 bytes: a document's statement is
far shorter; a longer message is refused with ``SigningError``, never truncated). Retries
and timeouts are botocore's own (``standard`` mode); the endpoint comes from boto3's
``AWS_ENDPOINT_URL_KMS`` / ``AWS_ENDPOINT_URL`` or ``endpoint_url``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Final

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.signing.port import ECDSA_P256_SHA256, SigningError
from adapters.signing.public import key_id_of, public_pem

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

KEY_SPEC = "ECC_NIST_P256"
SIGNING_ALGORITHM: Final = "ECDSA_SHA_256"
MAX_RAW_MESSAGE = 4096


class KmsSigner:
    """Signs with a KMS key; ``kms_key_id`` is KMS's name for it (id, ARN or alias)."""

    algorithm = ECDSA_P256_SHA256

    def __init__(
        self,
        kms_key_id: str,
        *,
        client: KMSClient | None = None,
        endpoint_url: str | None = None,
        max_attempts: int = 5,
    ) -> None:
        self.kms_key_id = kms_key_id
        self.endpoint_url = endpoint_url
        self.max_attempts = max_attempts
        self._client = client
        self._public: ec.EllipticCurvePublicKey | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> KMSClient:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    config = Config(retries={"mode": "standard", "max_attempts": self.max_attempts})
                    self._client = boto3.session.Session().client(
                        "kms", endpoint_url=self.endpoint_url or None, config=config
                    )
        return self._client

    def _public_key(self) -> ec.EllipticCurvePublicKey:
        if self._public is None:
            try:
                response = self.client.get_public_key(KeyId=self.kms_key_id)
            except (ClientError, BotoCoreError) as error:
                raise SigningError(f"KMS key {self.kms_key_id!r}: {error}") from error
            # KeySpec (CustomerMasterKeySpec in older answers, and moto's).
            spec = response.get("KeySpec") or response.get("CustomerMasterKeySpec")
            if spec != KEY_SPEC or SIGNING_ALGORITHM not in response.get("SigningAlgorithms", []):
                raise SigningError(
                    f"KMS key {self.kms_key_id!r} is {spec!r}; signing needs a {KEY_SPEC} key "
                    f"with {SIGNING_ALGORITHM} (KeyUsage SIGN_VERIFY)"
                )
            key = serialization.load_der_public_key(response["PublicKey"])
            if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(
                key.curve, ec.SECP256R1
            ):
                raise SigningError(f"KMS key {self.kms_key_id!r} gave no P-256 public key")
            self._public = key
        return self._public

    @property
    def key_id(self) -> str:
        return key_id_of(self._public_key())

    def public_key_pem(self) -> str:
        return public_pem(self._public_key())

    def sign(self, message: bytes) -> bytes:
        """The DER ECDSA signature of ``message`` (SHA-256) made by KMS."""
        self._public_key()  # a key that cannot sign is refused before anything is sent
        if len(message) > MAX_RAW_MESSAGE:
            raise SigningError(
                f"a {len(message)}-byte message is longer than KMS signs ({MAX_RAW_MESSAGE})"
            )
        try:
            response = self.client.sign(
                KeyId=self.kms_key_id,
                Message=message,
                MessageType="RAW",
                SigningAlgorithm=SIGNING_ALGORITHM,
            )
        except (ClientError, BotoCoreError) as error:
            raise SigningError(f"KMS key {self.kms_key_id!r} did not sign: {error}") from error
        return response["Signature"]

    def __repr__(self) -> str:
        return f"KmsSigner({self.kms_key_id!r})"
