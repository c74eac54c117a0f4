"""A stand-in for Supabase Auth's signing keys: publishes a JWKS at
`/auth/v1/.well-known/jwks.json` and mints tokens the way Supabase does (ES256 or RS256 with a
`kid`, or HS256 with the legacy JWT secret; `aud=authenticated`, `iss=<url>/auth/v1`)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

LEGACY_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private: Any

    @classmethod
    def new(cls, algorithm: str) -> SigningKey:
        private: Any = (
            ec.generate_private_key(ec.SECP256R1())
            if algorithm == "ES256"
            else rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )
        return cls(kid=uuid.uuid4().hex, algorithm=algorithm, private=private)

    def jwk(self) -> dict[str, Any]:
        kind = ECAlgorithm if self.algorithm == "ES256" else RSAAlgorithm
        data: dict[str, Any] = kind.to_jwk(self.private.public_key(), as_dict=True)
        return {**data, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


@dataclass
class FakeSupabaseAuth:
    keys: list[SigningKey] = field(default_factory=lambda: [SigningKey.new("ES256")])
    jwks_requests: int = 0
    url: str = ""  # set by the test once the server is listening

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/auth/v1/.well-known/jwks.json", self._jwks)])

    async def _jwks(self, _: Request) -> JSONResponse:
        self.jwks_requests += 1
        return JSONResponse({"keys": [key.jwk() for key in self.keys]})

    def claims(self, sub: str, **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": f"{self.url}/auth/v1",
            "aud": "authenticated",
            "sub": sub,
            "role": "authenticated",
            "email": f"{sub}@example.com",
            "iat": now,
            "exp": now + 3600,
            **extra,
        }

    def token(self, sub: str, key: SigningKey | None = None, **extra: Any) -> str:
        key = key or self.keys[0]
        return jwt.encode(
            self.claims(sub, **extra),
            key.private,
            algorithm=key.algorithm,
            headers={"kid": key.kid},
        )

    def legacy_token(self, sub: str, secret: str = LEGACY_SECRET, **extra: Any) -> str:
        return jwt.encode(self.claims(sub, **extra), secret, algorithm="HS256")
