"""Enrolment: coordinators invite people (a list, or a CSV upload) and share join links; people join, leave, or
are taken off. The routes an invitation's link opens take its token, not a sign-in (``invitations_blp``)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.accounts import audit, cookie
from api.accounts.routes import EXAMPLE_TOKEN, signed_in_body
from api.accounts.schemas import TokenSchema
from api.common.docs import PUBLIC, documents_errors
from api.common.schemas import PaginationArgs
from api.database import db_session
from api.programmes.enrolment_schemas import (
    EXAMPLE_PARTICIPANT,
    FunnelSchema,
    InvitationPageSchema,
    InviteListSchema,
    InviteReportSchema,
    JoinLinkPageSchema,
    LeaveSchema,
    MyProgrammeInvitationsSchema,
    ParticipantCapacitySchema,
    ParticipantPageSchema,
    ProgrammeInvitationListArgs,
    ProgrammeInvitationPreviewSchema,
    ProgrammeInvitationRegisterSchema,
    ProgrammeInvitationSchema,
    ProgrammeJoinLinkCreateSchema,
    ProgrammeJoinLinkPreviewSchema,
    ProgrammeJoinLinkSchema,
    ProgrammeParticipantListArgs,
    ProgrammeParticipantSchema,
    ProgrammeTokenSchema,
    UploadSchema,
)
from api.programmes.routes import blp
from api.ratelimit import limit_public_reads, limit_registrations
from api.security import current_actor, require_login
from models import AuthEventKind
from workflows.programmes import enrolment, invitations, join_links, roster, rows
from workflows.programmes.rows import InviteReport

invitations_blp = Blueprint("programme_invitations", __name__, url_prefix="/api/v1/programme-invitations",
                            description="An invitation to a programme, answered with the token its mail carries.")
join_links_blp = Blueprint("programme_join_links", __name__, url_prefix="/api/v1/programme-join-links",
                           description="A programme's join link, read before signing in.")
EXAMPLE_TOKEN_BODY = {"token": "Xq3k9vN2wT8rL0aB5cD7eF1gH3iJ5kL7mN9oP1qR3sT"}


def _report(report: InviteReport) -> dict[str, Any]:
    return {"invited": [asdict(row) for row in report.invited], "skipped": [asdict(row) for row in report.skipped],
            "errors": [asdict(row) for row in report.errors]}


def _link_preview(token: str) -> dict[str, Any]:
    """What a join link joins: its programme and role (422 when it no longer works)."""
    link, programme = join_links.inspect_link(db_session(), token)
    return {"programme": _summary(programme), "role": link.link.role}


def _summary(programme: Any) -> dict[str, Any]:
    return {name: getattr(programme, name) for name in ("id", "name", "description", "starts_on", "ends_on")} | {
        "status": programme.status.value}


@blp.route("/<uuid:programme_id>/invitations")
class Invitations(MethodView):
    @blp.doc(operationId="listProgrammeInvitations")
    @blp.arguments(ProgrammeInvitationListArgs, location="query")
    @blp.response(200, InvitationPageSchema)
    @documents_errors(blp, 401, 403, 404, 422)
    def get(self, args: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """The programme's invitations, newest first (its coordinators), with where each one's mail stands."""
        return roster.list_invitations(db_session(), current_actor(), programme_id, **args)

    @blp.doc(operationId="inviteToProgramme")
    @blp.arguments(InviteListSchema, example={"invitees": [
        {"email": "lin@example.com", "name": "Lin", "role": "mentee"},
        {"email": "ada@example.com", "name": "Ada", "role": "mentor", "capacity": 3}]})
    @blp.response(200, InviteReportSchema)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def post(self, body: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Invite a typed list (its coordinators). Each entry is checked on its own: the good ones are invited at
        once, the others reported with their place (`line`, from 1); an address twice (in any case) is invited
        once; one already invited or taking part is passed over (`skipped`). The mails go out once the programme
        takes participants, at most `PROGRAMME_INVITATIONS_PER_HOUR` an hour; the rest wait their turn. 400 for a
        closed programme."""
        invitees, errors = rows.read_list(body["invitees"])
        return _report(invitations.invite(db_session(), current_actor(), programme_id, invitees, errors))


@blp.route("/<uuid:programme_id>/invitations/upload")
class InvitationUpload(MethodView):
    @blp.doc(operationId="uploadProgrammeInvitations")
    @blp.arguments(UploadSchema, location="files")
    @blp.response(200, InviteReportSchema)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def post(self, files: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Invite the people of a CSV file (its coordinators): as the list does, each row reported with its line in
        the file. Cells are kept as typed, never evaluated (a cell such as `=HYPERLINK(…)` is a name like any
        other). 400 for a file that is no such table (not UTF-8, no `email` and `role` header) or holds more rows
        than allowed; 413 beyond the request size limit, refused before it is read."""
        invitees, errors = rows.read_csv(files["file"].read())
        return _report(invitations.invite(db_session(), current_actor(), programme_id, invitees, errors))


@blp.route("/<uuid:programme_id>/invitations/<uuid:invitation_id>/withdraw")
class WithdrawInvitation(MethodView):
    @blp.doc(operationId="withdrawProgrammeInvitation")
    @blp.response(200, ProgrammeInvitationSchema)
    @documents_errors(blp, 400, 401, 403, 404)
    def post(self, programme_id: uuid.UUID, invitation_id: uuid.UUID) -> Any:
        """Withdraw a pending invitation (its coordinators): its link stops working; an unsent mail never goes."""
        return invitations.withdraw_invitation(db_session(), current_actor(), programme_id, invitation_id)


@blp.route("/<uuid:programme_id>/invitations/<uuid:invitation_id>/resend")
class ResendInvitation(MethodView):
    @blp.doc(operationId="resendProgrammeInvitation")
    @blp.response(200, ProgrammeInvitationSchema)
    @documents_errors(blp, 400, 401, 403, 404, 409)
    def post(self, programme_id: uuid.UUID, invitation_id: uuid.UUID) -> Any:
        """Mail a waiting invitation again with the same link (its coordinators): it lapses 14 days from now,
        lapsed or not, and its mail goes within the programme's hourly cap; 409 while its mail is owed or within
        24 hours of the last (`errors.retry_at`); 400 for one answered or withdrawn, or where no mail goes."""
        return invitations.resend_invitation(db_session(), current_actor(), programme_id, invitation_id)


@blp.route("/invitations/mine")
class MyInvitations(MethodView):
    @blp.doc(operationId="listMyProgrammeInvitations")
    @blp.response(200, MyProgrammeInvitationsSchema)
    @documents_errors(blp, 401)
    def get(self) -> Any:
        """The pending invitations of your address, once it is confirmed, to programmes taking participants."""
        return {"items": [{"id": invitation.id, "programme": _summary(programme), "role": invitation.role,
                           "expires_at": invitation.expires_at}
                          for invitation, programme in invitations.my_invitations(db_session(), current_actor())]}


@blp.route("/invitations/<uuid:invitation_id>/accept")
class AcceptMyInvitation(MethodView):
    @blp.doc(operationId="acceptMyProgrammeInvitation")
    @blp.response(200, ProgrammeParticipantSchema, example=EXAMPLE_PARTICIPANT)
    @documents_errors(blp, 400, 401, 404, 409, 422)
    def post(self, invitation_id: uuid.UUID) -> Any:
        """Join with one of your invitations (one click). 409 when you already take part; 422 once it expired or
        was withdrawn."""
        return enrolment.participant_view(db_session(),
                                          invitations.accept_mine(db_session(), current_actor(), invitation_id))


@blp.route("/join")
class JoinByLink(MethodView):
    @blp.doc(operationId="joinProgramme")
    @blp.arguments(ProgrammeTokenSchema, example=EXAMPLE_TOKEN_BODY)
    @blp.response(200, ProgrammeParticipantSchema, example=EXAMPLE_PARTICIPANT)
    @documents_errors(blp, 400, 401, 403, 409, 422)
    def post(self, body: dict[str, Any]) -> Any:
        """Join with a join link's token, in its role. 422 once it expired, was revoked or is used up; 409 when you
        already take part; 403 when a coordinator took you off (only a new invitation brings you back)."""
        return enrolment.participant_view(db_session(),
                                          join_links.join_by_link(db_session(), current_actor(), body["token"]))


@blp.route("/join/preview")
class JoinLinkPreview(MethodView):
    @blp.doc(operationId="previewProgrammeJoinLink")
    @blp.arguments(ProgrammeTokenSchema, example=EXAMPLE_TOKEN_BODY)
    @blp.response(200, ProgrammeJoinLinkPreviewSchema)
    @documents_errors(blp, 401, 422)
    def post(self, body: dict[str, Any]) -> Any:
        """What a join link joins: the programme and the role (signed in). 422 when it no longer works."""
        return _link_preview(body["token"])


@join_links_blp.route("/preview")
class PublicJoinLinkPreview(MethodView):
    @join_links_blp.doc(operationId="previewProgrammeJoinLinkSignedOut", security=PUBLIC)
    @join_links_blp.arguments(ProgrammeTokenSchema, example=EXAMPLE_TOKEN_BODY)
    @join_links_blp.response(200, ProgrammeJoinLinkPreviewSchema)
    @documents_errors(join_links_blp, 422, 429)
    def post(self, body: dict[str, Any]) -> Any:
        """What a join link joins, for one not signed in yet (the token is the key): the programme and the role,
        so its page can name them before asking to sign in or register. 422 when it no longer works."""
        limit_public_reads()
        return _link_preview(body["token"])


@blp.route("/<uuid:programme_id>/join-links")
class JoinLinks(MethodView):
    @blp.doc(operationId="listProgrammeJoinLinks")
    @blp.arguments(PaginationArgs, location="query")
    @blp.response(200, JoinLinkPageSchema)
    @documents_errors(blp, 401, 403, 404, 422)
    def get(self, args: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """The programme's join links, newest first, with their tokens (its coordinators)."""
        return join_links.list_links(db_session(), current_actor(), programme_id, **args)

    @blp.doc(operationId="createProgrammeJoinLink")
    @blp.arguments(ProgrammeJoinLinkCreateSchema, example={"role": "mentee", "max_uses": 40,
                                                 "expires_at": "2031-03-01T00:00:00Z"})
    @blp.response(201, ProgrammeJoinLinkSchema)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def post(self, body: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Make a join link (its coordinators): anyone signed in who opens it joins in its role, until it expires
        or is used `max_uses` times. 400 past 50 working links, or an expiry not an hour to a year away."""
        return join_links.create_link(db_session(), current_actor(), programme_id, **body)


@blp.route("/<uuid:programme_id>/join-links/<uuid:link_id>/revoke")
class RevokeJoinLink(MethodView):
    @blp.doc(operationId="revokeProgrammeJoinLink")
    @blp.response(200, ProgrammeJoinLinkSchema)
    @documents_errors(blp, 401, 403, 404)
    def post(self, programme_id: uuid.UUID, link_id: uuid.UUID) -> Any:
        """Revoke a join link (its coordinators): it stops working at once."""
        return join_links.revoke_link(db_session(), current_actor(), programme_id, link_id)


@blp.route("/<uuid:programme_id>/participants")
class Participants(MethodView):
    @blp.doc(operationId="listProgrammeParticipants")
    @blp.arguments(ProgrammeParticipantListArgs, location="query")
    @blp.response(200, ParticipantPageSchema, example={"items": [EXAMPLE_PARTICIPANT], "next_cursor": None})
    @documents_errors(blp, 401, 404, 422)
    def get(self, args: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Its participants, newest first. Its coordinators see everyone who took part, with address and status;
        a participant sees those taking part now, by name and role (no address); 404 for anyone else."""
        return roster.list_participants(db_session(), current_actor(), programme_id, **args)


@blp.route("/<uuid:programme_id>/funnel")
class Funnel(MethodView):
    @blp.doc(operationId="getProgrammeFunnel")
    @blp.response(200, FunnelSchema, example={"roles": [{"role": "mentee", "invited": 18, "joined": 16,
                                                        "intake_done": 15, "matched": 14, "meeting": 12, "met": 9}]})
    @documents_errors(blp, 401, 403, 404)
    def get(self, programme_id: uuid.UUID) -> Any:
        """Its enrolment funnel, a row per role (its coordinators and admins): those invited (taking part, or an
        invitation waiting), joined, intake done, matched, meeting and met. Each step but the first is the
        participants' list's `step` filter: the people a count counts."""
        return {"roles": roster.funnel(db_session(), current_actor(), programme_id)}


@blp.route("/<uuid:programme_id>/participants/<uuid:participant_id>")
class ParticipantItem(MethodView):
    @blp.doc(operationId="updateProgrammeParticipant")
    @blp.arguments(ParticipantCapacitySchema, example={"capacity": 3})
    @blp.response(200, ProgrammeParticipantSchema, example=EXAMPLE_PARTICIPANT)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def patch(self, body: dict[str, Any], programme_id: uuid.UUID, participant_id: uuid.UUID) -> Any:
        """Set a mentor's capacity, the mentees they take at once (its coordinators, or the mentor)."""
        return enrolment.set_capacity(db_session(), current_actor(), programme_id, participant_id, body["capacity"])


@blp.route("/<uuid:programme_id>/participants/<uuid:participant_id>/remove")
class RemoveParticipant(MethodView):
    @blp.doc(operationId="removeProgrammeParticipant")
    @blp.response(200, ProgrammeParticipantSchema, example=EXAMPLE_PARTICIPANT)
    @documents_errors(blp, 400, 401, 403, 404)
    def post(self, programme_id: uuid.UUID, participant_id: uuid.UUID) -> Any:
        """Take a participant off (its coordinators; they are told): their record stays, and they come back only
        by a new invitation. 400 when already taken off."""
        return enrolment.remove(db_session(), current_actor(), programme_id, participant_id)


@blp.route("/<uuid:programme_id>/leave")
class Leave(MethodView):
    @blp.doc(operationId="leaveProgramme")
    @blp.arguments(LeaveSchema, example={"reason": "I changed teams"})
    @blp.response(200, ProgrammeParticipantSchema, example=EXAMPLE_PARTICIPANT)
    @documents_errors(blp, 401, 404, 422)
    def post(self, body: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Leave a programme you take part in, saying why if you wish: its coordinators are told (with your
        reason), your pairings in it end (the other of each pair is told) and their coming sessions are cancelled;
        your record stays. A join link or an invitation brings you back."""
        return enrolment.leave(db_session(), current_actor(), programme_id, **body)


# --- the routes an invitation's mail leads to -----------------------------------------------------------------------


@invitations_blp.route("/preview")
class InvitationPreview(MethodView):
    @invitations_blp.doc(operationId="previewProgrammeInvitation", security=PUBLIC)
    @invitations_blp.arguments(ProgrammeTokenSchema, example=EXAMPLE_TOKEN_BODY)
    @invitations_blp.response(200, ProgrammeInvitationPreviewSchema)
    @documents_errors(invitations_blp, 422, 429)
    def post(self, body: dict[str, Any]) -> Any:
        """What an invitation's link is for (no sign-in: the token is the key): the programme, the role, the
        address, whether it can still be answered, and whether that address has an account (sign in and accept,
        or register). 422 for an unknown token."""
        limit_public_reads()
        view = invitations.inspect_invitation(db_session(), body["token"])
        invitation = view.invitation
        return {"programme": _summary(view.programme), "email": invitation.email, "name": invitation.name,
                "role": invitation.role, "status": invitation.status, "expires_at": invitation.expires_at,
                "usable": view.usable, "account_exists": view.account_exists}


@invitations_blp.route("/accept")
class AcceptInvitation(MethodView):
    @invitations_blp.doc(operationId="acceptProgrammeInvitation")
    @invitations_blp.arguments(ProgrammeTokenSchema, example=EXAMPLE_TOKEN_BODY)
    @invitations_blp.response(200, ProgrammeParticipantSchema, example=EXAMPLE_PARTICIPANT)
    @documents_errors(invitations_blp, 400, 401, 403, 409, 422)
    def post(self, body: dict[str, Any]) -> Any:
        """Join with an invitation's token, signed in to the account of its address (403 for another account). 422
        once it expired, was withdrawn or answered; 400 when the programme takes no participants now."""
        require_login()
        return enrolment.participant_view(
            db_session(), invitations.accept_invitation(db_session(), current_actor(), body["token"]))


@invitations_blp.route("/decline")
class DeclineInvitation(MethodView):
    @invitations_blp.doc(operationId="declineProgrammeInvitation", security=PUBLIC)
    @invitations_blp.arguments(ProgrammeTokenSchema, example=EXAMPLE_TOKEN_BODY)
    @invitations_blp.response(200, ProgrammeInvitationSchema)
    @documents_errors(invitations_blp, 422, 429)
    def post(self, body: dict[str, Any]) -> Any:
        """Decline an invitation (no sign-in: the token is the key); its coordinators see it declined."""
        limit_public_reads()
        return invitations.decline_invitation(db_session(), body["token"])


@invitations_blp.route("/register")
class RegisterFromInvitation(MethodView):
    @invitations_blp.doc(operationId="registerFromProgrammeInvitation", security=PUBLIC)
    @invitations_blp.arguments(ProgrammeInvitationRegisterSchema, example={**EXAMPLE_TOKEN_BODY, "display_name": "Lin",
                                                                  "password": "a longer passphrase nobody has seen"})
    @invitations_blp.response(201, TokenSchema, example=EXAMPLE_TOKEN)
    @documents_errors(invitations_blp, 400, 403, 409, 422, 429)
    def post(self, body: dict[str, Any]) -> Any:
        """Create the account of the invited address and join (rate-limited as registrations are): the address
        counts as confirmed, since the invitation's mail reached it. Signs you in (the tokens of `POST
        /auth/token`; with `refresh_cookie`, the refresh token as a cookie). 409 when the address has an account: sign
        in and accept. 403 when the address's organisation signs its people in with its own provider only: sign in
        there, then accept the invitation."""
        limit_registrations()
        by_cookie = body.pop("refresh_cookie")
        user, _ = invitations.register_from_invitation(db_session(), body.pop("token"), **body)
        audit.record(AuthEventKind.SIGNED_IN, user.id)
        return cookie.deliver(signed_in_body(user), cookie=by_cookie)
