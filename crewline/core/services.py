"""Writes to organizations, people, invitations, skills and work order types.

Every service records an audit entry in the same transaction as the change it makes, with the
before and after values of the fields it touched.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from decimal import Decimal
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from crewline.core import timezones
from crewline.core.audit import audit_record, diff, organization_write_lock, snapshot
from crewline.core.models import (
    MEMBER_COLOURS,
    Invitation,
    Member,
    Organization,
    Paper,
    Role,
    Skill,
    User,
    paper_for_country,
    validate_business_hours,
    validate_timezone,
)
from crewline.workorders.models import JobType

INVITATION_DAYS = 7
ORGANIZATION_FIELDS = ("name", "time_zone", "currency", "email", "phone", "address",
                       "paper", "language", "road_factor", "travel_speed_kmh")
MEMBER_FIELDS = ("role", "skills", "colour", "phone", "home_base")
JOB_TYPE_FIELDS = ("name", "default_kind", "default_duration_minutes", "is_active")


# Organizations ---------------------------------------------------------------------------------

def _unique_slug(name: str) -> str:
    base = slugify(name)[:50].strip("-") or "org"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def organization_signup(*, organization_name: str, time_zone: str, full_name: str, email: str,
                        password: str, labor_rate: Decimal | None = None) -> Member:
    """Create an organization and its first owner. The password must already be validated.

    The owner's address is the organization's reply-to address until they set another, so that
    customers' replies reach someone from the first email on; ``labor_rate`` (if given) is the
    default hourly labor rate.
    """
    validate_timezone(time_zone)
    email = email.strip().lower()
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError({"email": _("An account with this email address already "
                                              "exists. Log in instead.")})
        organization = Organization.objects.create(
            name=organization_name.strip(), slug=_unique_slug(organization_name),
            time_zone=time_zone, email=email,
            paper=paper_for_country(timezones.country_for_zone(time_zone)),
        )
        user = User.objects.create_user(email=email, password=password,
                                        full_name=full_name.strip())
        member = Member.objects.create(organization=organization, user=user, role=Role.OWNER,
                                       colour=next_member_colour(organization))
        audit_record(organization=organization, actor=member, action="organization.create",
                     obj=organization,
                     changes={"name": [None, organization.name],
                              "time_zone": [None, organization.time_zone],
                              "email": [None, email], "paper": [None, organization.paper]})
        audit_record(organization=organization, actor=member, action="member.create",
                     obj=member, changes={"email": [None, email], "role": [None, Role.OWNER]})
        if labor_rate:
            from crewline.billing.services import default_labor_rate_set

            default_labor_rate_set(organization=organization, hourly_rate=labor_rate,
                                   by=member)
    return member


def organization_hide_getting_started(*, organization: Organization, by: Member
                                      ) -> Organization:
    """The owner has seen enough of the getting-started list: stop offering it."""
    with transaction.atomic():
        if organization.getting_started_hidden_at is None:
            organization.getting_started_hidden_at = timezone.now()
            organization.save(update_fields=["getting_started_hidden_at"])
            audit_record(organization=organization, actor=by,
                         action="organization.getting_started_hidden", obj=organization,
                         changes={"getting_started_hidden_at":
                                  [None, organization.getting_started_hidden_at]})
    return organization


def organization_update(*, organization: Organization, by: Member, **changes) -> Organization:
    """Change the organization's details (any of ``ORGANIZATION_FIELDS``)."""
    unknown = set(changes) - set(ORGANIZATION_FIELDS)
    if unknown:
        raise TypeError(f"organization_update got unknown fields: {sorted(unknown)}")
    if "time_zone" in changes:
        try:
            validate_timezone(changes["time_zone"])
        except ValidationError as exc:
            raise ValidationError({"time_zone": exc.messages}) from exc
    if "paper" in changes and changes["paper"] not in Paper.values:
        raise ValidationError({"paper": _("Choose Letter or A4.")})
    if "language" in changes and changes["language"] not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose a valid language.")})
    for name in ("road_factor", "travel_speed_kmh"):
        if name in changes:
            field = Organization._meta.get_field(name)
            try:
                changes[name] = field.clean(changes[name], organization)
            except ValidationError as exc:
                raise ValidationError({name: exc.messages}) from exc
    with transaction.atomic():
        before = snapshot(organization, changes)
        for name, value in changes.items():
            setattr(organization, name, value)
        after = snapshot(organization, changes)
        changed = diff(before, after)
        if changed:
            organization.save(update_fields=list(changed))
            audit_record(organization=organization, actor=by, action="organization.update",
                         obj=organization, changes=changed)
    return organization


def organization_set_business_hours(*, organization: Organization, by: Member,
                                    hours: dict) -> Organization:
    try:
        validate_business_hours(hours)
    except ValidationError as exc:
        raise ValidationError({"business_hours": exc.messages}) from exc
    with transaction.atomic():
        before = organization.business_hours
        if before != hours:
            organization.business_hours = hours
            organization.save(update_fields=["business_hours"])
            audit_record(organization=organization, actor=by,
                         action="organization.business_hours", obj=organization,
                         changes={"business_hours": [before, hours]})
    return organization


MAX_LOGO_BYTES = 2 * 1024 * 1024


def organization_set_logo(*, organization: Organization, by: Member,
                          logo: UploadedFile | None) -> Organization:
    """Replace (or with ``None`` remove) the logo; the file gets a random name."""
    if logo is not None and logo.size > MAX_LOGO_BYTES:
        raise ValidationError({"logo": _("The logo must be 2 MB or smaller.")})
    with transaction.atomic():
        old_file = organization.logo.name
        if logo is None:
            organization.logo = ""
        else:
            suffix = PurePath(logo.name).suffix.lower()[:8]
            organization.logo.save(f"{uuid.uuid4().hex}{suffix}", logo, save=False)
        organization.save(update_fields=["logo"])
        audit_record(organization=organization, actor=by, action="organization.logo",
                     obj=organization,
                     changes={"logo": [old_file or None, organization.logo.name or None]})
    if old_file and old_file != organization.logo.name:
        organization.logo.storage.delete(old_file)
    return organization


# Invitations -----------------------------------------------------------------------------------

def _send_invitation(invitation: Invitation, token: str) -> None:
    link = settings.SITE_URL + reverse("core:invite_accept", args=[token])
    context = {"invitation": invitation, "organization": invitation.organization,
               "link": link, "days": INVITATION_DAYS,
               "inviter": invitation.invited_by.name if invitation.invited_by else ""}
    subject = render_to_string("core/email/invitation_subject.txt", context).strip()
    body = render_to_string("core/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email])


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, Invitation.hash_token(token)


def invitation_create(*, organization: Organization, email: str, role: str,
                      by: Member) -> Invitation:
    """Invite ``email`` to join with ``role``; emails a link valid for 7 days.

    Only the token's hash is stored, so the link exists only in the email.
    """
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a valid role.")})
    with transaction.atomic():
        existing = Member.objects.filter(organization=organization,
                                         user__email__iexact=email).first()
        if existing is not None:
            message = (_("%(email)s is already a member.") if existing.is_active
                       else _("%(email)s is a deactivated member; reactivate them instead."))
            raise ValidationError({"email": message % {"email": email}})
        now = timezone.now()
        if Invitation.objects.filter(organization=organization, email__iexact=email,
                                     accepted_at=None, revoked_at=None,
                                     expires_at__gt=now).exists():
            raise ValidationError({"email": _("%(email)s already has a pending invitation; "
                                              "resend it instead.") % {"email": email}})
        token, token_hash = _new_token()
        invitation = Invitation.objects.create(
            organization=organization, email=email, role=role, token_hash=token_hash,
            invited_by=by, created_at=now, expires_at=now + dt.timedelta(days=INVITATION_DAYS),
        )
        audit_record(organization=organization, actor=by, action="invitation.create",
                     obj=invitation, changes={"email": [None, email], "role": [None, role]})
    _send_invitation(invitation, token)
    return invitation


def invitation_resend(*, invitation: Invitation, by: Member) -> Invitation:
    """Send a fresh link (the old one stops working) valid for another 7 days."""
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(_("This invitation was already used or revoked."))
    with transaction.atomic():
        token, token_hash = _new_token()
        before = invitation.expires_at
        invitation.token_hash = token_hash
        invitation.expires_at = timezone.now() + dt.timedelta(days=INVITATION_DAYS)
        invitation.save(update_fields=["token_hash", "expires_at"])
        audit_record(organization=invitation.organization, actor=by, action="invitation.resend",
                     obj=invitation, changes={"expires_at": [before, invitation.expires_at]})
    _send_invitation(invitation, token)
    return invitation


def invitation_revoke(*, invitation: Invitation, by: Member) -> Invitation:
    if invitation.accepted_at:
        raise ValidationError(_("This invitation was already accepted."))
    with transaction.atomic():
        if invitation.revoked_at is None:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
            audit_record(organization=invitation.organization, actor=by,
                         action="invitation.revoke", obj=invitation,
                         changes={"revoked_at": [None, invitation.revoked_at]})
    return invitation


def invitation_problem(invitation: Invitation | None) -> str:
    """Why the invitation cannot be accepted, in the user's words; empty if it can."""
    if invitation is None:
        return _("This invitation link is not valid. Check that you copied the whole link.")
    if invitation.accepted_at:
        return _("This invitation has already been used. Log in to continue.")
    if invitation.revoked_at:
        return _("This invitation was withdrawn. Ask the person who invited you for a new one.")
    if invitation.expires_at <= timezone.now():
        return _("This invitation has expired. Ask the person who invited you to send it again.")
    return ""


def invitation_accept(*, invitation: Invitation, user: User | None = None,
                      full_name: str = "", password: str = "") -> Member:
    """Join the organization: as ``user`` (who must own the invited email address), or as a new
    user made from ``full_name`` and an already validated ``password``."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        problem = invitation_problem(invitation)
        if problem:
            raise ValidationError(problem)
        if user is None:
            if User.objects.filter(email__iexact=invitation.email).exists():
                raise ValidationError(_("An account with this email address already exists. "
                                        "Log in to accept the invitation."))
            user = User.objects.create_user(email=invitation.email, password=password,
                                            full_name=full_name.strip())
        elif user.email.lower() != invitation.email.lower():
            raise ValidationError(_("This invitation is for another email address."))
        organization = invitation.organization
        member = Member.objects.filter(organization=organization, user=user).first()
        if member is not None and member.is_active:
            raise ValidationError(_("You are already a member of %(org)s.")
                                  % {"org": organization.name})
        if member is None:
            member = Member.objects.create(organization=organization, user=user,
                                           role=invitation.role,
                                           colour=next_member_colour(organization))
            changes = {"email": [None, user.email], "role": [None, invitation.role]}
        else:
            changes = {"is_active": [False, True], "role": [member.role, invitation.role]}
            member.is_active, member.role = True, invitation.role
            member.save(update_fields=["is_active", "role"])
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = member
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(organization=organization, actor=member, action="invitation.accept",
                     obj=invitation, changes={"accepted_at": [None, invitation.accepted_at]})
        audit_record(organization=organization, actor=member, action="member.create",
                     obj=member, changes=changes)
    return member


# Members ---------------------------------------------------------------------------------------

def next_member_colour(organization: Organization) -> str:
    """A colour of ``MEMBER_COLOURS`` that no active member has yet (the board and the
    calendars tell people apart by it); past twelve people the palette goes round again."""
    used = set(Member.objects.filter(organization=organization, is_active=True)
               .values_list("colour", flat=True))
    for colour in MEMBER_COLOURS:
        if colour not in used:
            return colour
    count = Member.objects.filter(organization=organization).count()
    return MEMBER_COLOURS[count % len(MEMBER_COLOURS)]


def _guard_last_owner(member: Member) -> None:
    """Refuse a change that would leave the organization without an active owner."""
    owners = list(Member.objects.select_for_update(no_key=True)
                  .filter(organization_id=member.organization_id, role=Role.OWNER,
                          is_active=True).values_list("pk", flat=True))
    if owners == [member.pk]:
        raise ValidationError(_("%(name)s is the only active owner. Make someone else an owner "
                                "first.") % {"name": member.name})


def member_update(*, member: Member, by: Member, **changes) -> Member:
    """Change a member's role, skills, colour, phone or home base (``MEMBER_FIELDS``)."""
    unknown = set(changes) - set(MEMBER_FIELDS)
    if unknown:
        raise TypeError(f"member_update got unknown fields: {sorted(unknown)}")
    if "role" in changes and changes["role"] not in Role.values:
        raise ValidationError({"role": _("Choose a valid role.")})
    if "skills" in changes:
        for skill in changes["skills"]:
            if skill.organization_id != member.organization_id:
                raise ValidationError({"skills": _("Choose skills of this organization.")})
    with transaction.atomic():
        # The organization before the member's row, as every change that locks members does.
        organization_write_lock(member.organization_id)
        if (changes.get("role", member.role) != Role.OWNER and member.role == Role.OWNER
                and member.is_active):
            try:
                _guard_last_owner(member)
            except ValidationError as exc:
                raise ValidationError({"role": exc.messages}) from exc
        before = snapshot(member, changes)
        fields = []
        for name, value in changes.items():
            if name == "skills":
                member.skills.set(value)
            else:
                setattr(member, name, value)
                fields.append(name)
        if fields:
            member.save(update_fields=fields)
        changed = diff(before, snapshot(member, changes))
        if changed:
            audit_record(organization=member.organization, actor=by, action="member.update",
                         obj=member, changes=changed)
    return member


def member_set_active(*, member: Member, by: Member, active: bool) -> Member:
    """Deactivate (the member can no longer use the organization) or reactivate a member."""
    with transaction.atomic():
        organization_write_lock(member.organization_id)
        if member.is_active == active:
            return member
        if not active and member.role == Role.OWNER:
            _guard_last_owner(member)
        member.is_active = active
        member.save(update_fields=["is_active"])
        audit_record(organization=member.organization, actor=by,
                     action="member.reactivate" if active else "member.deactivate",
                     obj=member, changes={"is_active": [not active, active]})
    return member


def member_last_language_record(*, member: Member, language: str) -> None:
    """Remember the language of the member's request (a listed one), for the emails and alerts
    they get while their own setting follows the browser. Not audited: the member chose
    nothing; a row is written only when the language changes."""
    if language not in dict(settings.LANGUAGES) or language == member.last_language:
        return
    Member.objects.filter(pk=member.pk).update(last_language=language)
    member.last_language = language


def profile_update(*, member: Member, full_name: str, phone: str, language: str,
                   notify_by_email: bool | None = None) -> Member:
    """The member's own details: name (on the user), phone, language ("" = the browser's) and
    whether to be emailed about changes to their work (None leaves it as it is)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose a valid language.")})
    with transaction.atomic():
        organization_write_lock(member.organization_id)
        user = member.user
        fields = ("phone", "language", "notify_by_email")
        before = {"full_name": user.full_name, **snapshot(member, fields)}
        user.full_name = full_name.strip()
        user.save(update_fields=["full_name"])
        member.phone, member.language = phone.strip(), language
        if notify_by_email is not None:
            member.notify_by_email = notify_by_email
        member.save(update_fields=list(fields))
        changed = diff(before, {"full_name": user.full_name, **snapshot(member, fields)})
        if changed:
            audit_record(organization=member.organization, actor=member,
                         action="profile.update", obj=member, changes=changed)
    return member


def password_changed(*, member: Member) -> None:
    """Record that the member changed their password (the hash itself is never logged)."""
    audit_record(organization=member.organization, actor=member, action="user.password_change",
                 obj=member)


# Skills ----------------------------------------------------------------------------------------

def _check_skill_name(organization: Organization, name: str, exclude: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the skill a name.")})
    clash = Skill.objects.filter(organization=organization, name__iexact=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise ValidationError({"name": _("There is already a skill called %(name)s.")
                               % {"name": name}})
    return name


def skill_create(*, organization: Organization, name: str, by: Member) -> Skill:
    with transaction.atomic():
        name = _check_skill_name(organization, name)
        skill = Skill.objects.create(organization=organization, name=name)
        audit_record(organization=organization, actor=by, action="skill.create", obj=skill,
                     changes={"name": [None, name]})
    return skill


def skill_rename(*, skill: Skill, name: str, by: Member) -> Skill:
    with transaction.atomic():
        name = _check_skill_name(skill.organization, name, exclude=skill.pk)
        before = skill.name
        if before != name:
            skill.name = name
            skill.save(update_fields=["name"])
            audit_record(organization=skill.organization, actor=by, action="skill.rename",
                         obj=skill, changes={"name": [before, name]})
    return skill


def skill_delete(*, skill: Skill, by: Member) -> None:
    """Delete a skill that no member has."""
    with transaction.atomic():
        if skill.members.exists():
            raise ValidationError(_("%(name)s is still given to members; remove it from them "
                                    "first.") % {"name": skill.name})
        audit_record(organization=skill.organization, actor=by, action="skill.delete",
                     obj=skill, changes={"name": [skill.name, None]})
        skill.delete()


# Work order types ------------------------------------------------------------------------------

def _check_job_type_name(organization: Organization, name: str,
                         exclude: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the work order type a name.")})
    clash = JobType.objects.filter(organization=organization, name__iexact=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise ValidationError({"name": _("There is already a work order type called "
                                         "%(name)s.") % {"name": name}})
    return name


def job_type_create(*, organization: Organization, name: str, default_kind: str,
                    default_duration_minutes: int, by: Member) -> JobType:
    with transaction.atomic():
        name = _check_job_type_name(organization, name)
        job_type = JobType(organization=organization, name=name, default_kind=default_kind,
                           default_duration_minutes=default_duration_minutes)
        job_type.full_clean(exclude=["organization"], validate_constraints=False)
        job_type.save()
        audit_record(organization=organization, actor=by, action="job_type.create",
                     obj=job_type,
                     changes=diff({}, snapshot(job_type, JOB_TYPE_FIELDS)))
    return job_type


def job_type_update(*, job_type: JobType, by: Member, **changes) -> JobType:
    """Change a work order type (any of ``JOB_TYPE_FIELDS``; ``is_active`` deactivates it)."""
    unknown = set(changes) - set(JOB_TYPE_FIELDS)
    if unknown:
        raise TypeError(f"job_type_update got unknown fields: {sorted(unknown)}")
    with transaction.atomic():
        if "name" in changes:
            changes["name"] = _check_job_type_name(job_type.organization, changes["name"],
                                                   exclude=job_type.pk)
        before = snapshot(job_type, changes)
        for name, value in changes.items():
            setattr(job_type, name, value)
        job_type.full_clean(exclude=["organization"], validate_constraints=False)
        changed = diff(before, snapshot(job_type, changes))
        if changed:
            job_type.save(update_fields=list(changed))
            action = "job_type.update"
            if list(changed) == ["is_active"]:
                action = "job_type.reactivate" if job_type.is_active else "job_type.deactivate"
            audit_record(organization=job_type.organization, actor=by, action=action,
                         obj=job_type, changes=changed)
    return job_type
