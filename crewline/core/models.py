"""Organizations (tenants), users, members and their roles, invitations and the audit log."""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from collections.abc import Iterable


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def default_business_hours() -> dict[str, list[str] | None]:
    hours: dict[str, list[str] | None] = {day: ["08:00", "17:00"] for day in WEEKDAYS[:5]}
    hours.update({"sat": None, "sun": None})
    return hours


def validate_business_hours(value: object) -> None:
    """Business hours: ``{"mon": ["08:00", "17:00"], ..., "sun": None}``; None means closed."""
    if not isinstance(value, dict) or set(value) != set(WEEKDAYS):
        raise ValidationError(_("Business hours need an entry for each day of the week."))
    for day, span in value.items():
        if span is None:
            continue
        if not (isinstance(span, list) and len(span) == 2
                and all(isinstance(s, str) for s in span)):
            raise ValidationError(_("Hours for %(day)s must be an opening and a closing time."),
                                  params={"day": day})
        try:
            start, end = (dt.datetime.strptime(s, "%H:%M").time() for s in span)
        except ValueError as exc:
            raise ValidationError(_("Hours for %(day)s must be written as HH:MM."),
                                  params={"day": day}) from exc
        if start >= end:
            raise ValidationError(_("On %(day)s the closing time must be after the opening time."),
                                  params={"day": day})


# Member colours, told apart on the board and in calendars; each dark enough for white text.
MEMBER_COLOURS = ("#0d6efd", "#c2255c", "#2b8a3e", "#d9480f", "#6741d9", "#0b7285",
                  "#a61e4d", "#5c940d", "#862e9c", "#1864ab", "#b35c00", "#495057")


class Paper(models.TextChoices):
    """The paper size of the organization's PDFs (reports, quotes, invoices); the values are
    Typst's names."""

    LETTER = "us-letter", _("Letter")
    A4 = "a4", _("A4")


# US Letter where it is the usual paper; A4 everywhere else.
LETTER_COUNTRIES = frozenset({"US", "CA", "MX", "PH", "CL", "CO", "VE", "GT", "CR", "PA", "DO",
                              "PR"})


def paper_for_country(country: str) -> str:
    """The usual paper in ``country`` (a two-letter code); Letter when it is not known."""
    country = (country or "").upper()
    if not country:
        return Paper.LETTER
    return Paper.LETTER if country in LETTER_COUNTRIES else Paper.A4


class Organization(models.Model):
    """A contractor's business: the tenant every other row belongs to."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC",
                                validators=[validate_timezone])
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    country = models.CharField(_("country"), max_length=2, default="US")
    paper = models.CharField(_("paper size"), max_length=10, choices=Paper.choices,
                             default=Paper.LETTER,
                             help_text=_("Of job reports, quotes and invoices."))
    # What members who follow the browser are written to in before they have used Crewline.
    language = models.CharField(_("language"), max_length=8, default=settings.LANGUAGE_CODE,
                                help_text=_("Of emails and alerts to members who follow the "
                                            "browser, until they have signed in."))
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    # Drive times between sites, estimated from the straight line (crewline.scheduling.travel):
    # roads are this much longer, driven at this average speed.
    road_factor = models.DecimalField(
        _("road factor"), max_digits=3, decimal_places=2, default=Decimal("1.30"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("3"))],
        help_text=_("How much longer the roads are than the straight line (1.30: 30% longer)."))
    travel_speed_kmh = models.PositiveSmallIntegerField(
        _("average speed (km/h)"), default=52,
        validators=[MinValueValidator(5), MaxValueValidator(130)],
        help_text=_("Driving speed between jobs, stops and traffic included."))
    business_hours = models.JSONField(_("business hours"), default=default_business_hours,
                                      validators=[validate_business_hours])
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.TextField(_("address"), blank=True)
    # When the owner dismissed the getting-started list (None: it is still offered).
    getting_started_hidden_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The next work order number; taken under a row lock by workorders.services.
    next_work_order_number = models.PositiveIntegerField(default=1001, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class OrgQuerySet(models.QuerySet):
    def for_org(self, organization: Organization | int) -> OrgQuerySet:
        org_id = organization if isinstance(organization, int) else organization.pk
        return self.filter(organization_id=org_id)


class OrgOwned(models.Model):
    """Base for every domain row: it belongs to exactly one organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+",
                                     verbose_name=_("organization"))

    objects = OrgQuerySet.as_manager()

    class Meta:
        abstract = True


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str):
        return self.get(email__iexact=username)


class User(AbstractUser):
    """A person who logs in, by email address. What they may do lives on their Member rows."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    objects = UserManager()

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    OFFICE = "office", _("Office")
    TECHNICIAN = "technician", _("Technician")


class Skill(OrgOwned):
    name = models.CharField(_("name"), max_length=80)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("organization", Lower("name"), name="skill_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Member(OrgOwned):
    """A user's place in an organization: role, and for technicians skills and home base."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    # New members get a colour no one else has (services.next_member_colour).
    colour = models.CharField(_("colour"), max_length=7, default=MEMBER_COLOURS[0])
    skills = models.ManyToManyField(Skill, blank=True, related_name="members",
                                    verbose_name=_("skills"))
    home_base = models.CharField(_("home base"), max_length=300, blank=True)
    home_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    home_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True,
                                help_text=_("Leave empty to follow the browser."))
    # The language of the member's last request, for what reaches them without one (emails,
    # notifications, Web Push) while ``language`` follows the browser.
    last_language = models.CharField(max_length=8, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    notify_by_email = models.BooleanField(_("email me about changes to my work"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="member_unique_user"),
        ]
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def name(self) -> str:
        return self.user.full_name or self.user.email

    @property
    def messages_language(self) -> str:
        """The language of what reaches the member outside a page: their own, else the one
        their browser asked for when they last used Crewline, else the organization's."""
        for code in (self.language, self.last_language, self.organization.language):
            if code in dict(settings.LANGUAGES):
                return code
        return settings.LANGUAGE_CODE

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def is_office(self) -> bool:
        """Owners and office staff: the people who run the back office."""
        return self.role in (Role.OWNER, Role.OFFICE)

    @property
    def is_technician(self) -> bool:
        return self.role == Role.TECHNICIAN


class Invitation(OrgOwned):
    """An emailed link that lets someone join the organization with a given role."""

    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_pending(self) -> bool:
        return (self.accepted_at is None and self.revoked_at is None
                and self.expires_at > timezone.now())


class AuditLog(OrgOwned):
    """Who changed what, when and from where; append-only and hash-chained per organization.

    ``hash`` is SHA-256 over this entry's content and the previous entry's hash, so editing or
    deleting any entry breaks the chain from that point on (``crewline audit-verify``).
    """

    seq = models.PositiveBigIntegerField(editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # PROTECT: the actor id is part of the hashed content, so it may never be nulled.
    actor = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["-seq"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "seq"], name="audit_unique_seq"),
        ]
        indexes = [
            models.Index(fields=["organization", "object_type", "object_id"],
                         name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_repr}"

    def content_fields(self) -> Iterable[tuple[str, object]]:
        """The fields the hash covers, in a fixed order."""
        return (
            ("organization", self.organization_id),
            ("seq", self.seq),
            ("created_at", self.created_at.astimezone(dt.UTC).isoformat()),
            ("actor", self.actor_id),
            ("actor_label", self.actor_label),
            ("action", self.action),
            ("object_type", self.object_type),
            ("object_id", self.object_id),
            ("object_repr", self.object_repr),
            ("changes", self.changes),
            ("ip", self.ip),
            ("user_agent", self.user_agent),
            ("prev_hash", self.prev_hash),
        )
