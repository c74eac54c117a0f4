"""Real accounts for tests, made through the app's own sign-up endpoint."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Account:
    user_id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def sign_up(base_url: str, email: str | None = None) -> Account:
    email = email or f"{uuid.uuid4().hex[:12]}@example.com"
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post(
            "/api/v1/auth/signup", json={"email": email, "password": PASSWORD}
        )
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(user_id=body["user_id"], email=email, token=body["access_token"])
