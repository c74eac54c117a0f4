"""Invitations to sign up, for admins (`ALLIN_SIGNUP=invite`): create (the code shown once), list,
revoke. See README "Security"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status
from pydantic import BaseModel, Field

from allin.api.deps import CurrentUser, ServicesDep
from allin.api.errors import AUTHENTICATED, error_responses
from allin.storage.invites import Invite
from allin.storage.text import StorableText

# 403: not an admin.
router = APIRouter(
    prefix="/api/v1/invites", tags=["invites"], responses=error_responses(*AUTHENTICATED, 403)
)

InviteId = Annotated[str, Path(pattern=r"^[0-9a-f-]{1,64}$", description="The invitation's id.")]


class NewInvite(BaseModel):
    email: StorableText | None = Field(
        None, min_length=3, max_length=320, description="Only this address may use it (optional)."
    )
    expires_in_days: int = Field(7, ge=1, le=90)


class CreatedInvite(BaseModel):
    code: str = Field(description="The invitation code: shown this once, never again.")
    link: str = Field(description="This server's sign-up page with the code filled in.")
    details: Invite


class InviteList(BaseModel):
    invites: list[Invite] = Field(description="Newest first, used and revoked ones included.")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Invite someone to sign up (admins; the code is shown only in this response)",
)
async def create_invite(
    body: NewInvite, request: Request, principal: CurrentUser, services: ServicesDep
) -> CreatedInvite:
    details, code = await services.auth.signup_policy.invite(
        principal, body.email.strip() if body.email else None, body.expires_in_days
    )
    # The UI opens on the sign-up form with the code filled in (`?invite=` is redacted in logs).
    link = str(request.base_url.replace_query_params(invite=code))
    return CreatedInvite(code=code, link=link, details=details)


@router.get("", summary="Every invitation (admins)")
async def list_invites(principal: CurrentUser, services: ServicesDep) -> InviteList:
    return InviteList(invites=await services.auth.signup_policy.list(principal))


@router.delete(
    "/{invite_id}",
    summary="Revoke an invitation (admins)",
    responses=error_responses(404),
)
async def revoke_invite(
    invite_id: InviteId, principal: CurrentUser, services: ServicesDep
) -> Invite:
    return await services.auth.signup_policy.revoke(principal, invite_id)
