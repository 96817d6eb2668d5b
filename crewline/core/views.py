from __future__ import annotations

import mimetypes

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crewline.core import selectors, services
from crewline.core.access import (
    get_for_org_or_404,
    member_required,
    office_required,
    owner_required,
)
from crewline.core.files import file_stream
from crewline.core.forms import (
    AuditFilterForm,
    BusinessHoursForm,
    InviteAcceptForm,
    InviteForm,
    JobTypeForm,
    LogoForm,
    MemberForm,
    OrganizationForm,
    ProfileForm,
    SignupForm,
    SkillForm,
    errors_to_form,
)
from crewline.core.middleware import SESSION_ORG_KEY
from crewline.core.models import Invitation, Member, Skill, User
from crewline.core.useragent import short_user_agent
from crewline.workorders.models import JobType

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _apply(form: Form, call) -> bool:
    """Run a service; its ValidationError becomes form errors. True if it succeeded."""
    try:
        call()
    except ValidationError as exc:
        errors_to_form(form, exc)
        return False
    return True


def _flash_error(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Office staff land on the dashboard; technicians on the field app."""
    member = request.member
    if member is None:
        return render(request, "core/no_membership.html", status=403)
    target = "dashboard:home" if member.is_office else "field:app"
    try:
        return redirect(reverse(target))
    except NoReverseMatch:
        return render(request, "core/home.html")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


# Accounts --------------------------------------------------------------------------------------

def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.member is not None:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result: dict = {}

        def call():
            result["member"] = services.organization_signup(
                organization_name=data["organization_name"], time_zone=data["time_zone"],
                full_name=data["full_name"], email=data["email"], password=data["password1"],
                labor_rate=data.get("labor_rate"))

        if _apply(form, call):
            member = result["member"]
            login(request, member.user, backend=MODEL_BACKEND)
            request.session[SESSION_ORG_KEY] = member.organization_id
            messages.success(request, _("Welcome to Crewline! Here is what to set up first."))
            return redirect("core:getting_started")
    return render(request, "registration/signup.html", {"form": form})


@owner_required
def getting_started(request: HttpRequest) -> HttpResponse:
    """The first screen after sign-up: what to set up, each a link, ticked once done."""
    steps = selectors.getting_started_steps(organization=request.organization)
    return render(request, "core/getting_started.html", {
        "steps": steps, "done": sum(1 for step in steps if step.done), "tab": "getting_started",
    })


@owner_required
@require_POST
def getting_started_hide(request: HttpRequest) -> HttpResponse:
    services.organization_hide_getting_started(organization=request.organization,
                                               by=request.member)
    messages.info(request, _("The getting-started list is hidden. It stays under Organization "
                             "settings."))
    return redirect("home")


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset flow, with links built from SITE_URL rather than the request's host."""

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


# Invitations -----------------------------------------------------------------------------------

def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_by_token(token)
    problem = services.invitation_problem(invitation)
    if problem:
        return render(request, "core/invite_problem.html", {"problem": problem},
                      status=404 if invitation is None else 410)
    context: dict = {"invitation": invitation, "invited_org": invitation.organization}
    user = request.user
    if user.is_authenticated:
        if user.email.lower() != invitation.email.lower():
            context["wrong_user"] = True
            return render(request, "core/invite_accept.html", context)
        form = Form(request.POST or None)
        if request.method == "POST" and _apply(form, lambda: services.invitation_accept(
                invitation=invitation, user=user)):
            request.session[SESSION_ORG_KEY] = invitation.organization_id
            messages.success(request, _("You joined %(org)s.")
                             % {"org": invitation.organization.name})
            return redirect("home")
        context["join_form"] = form
        return render(request, "core/invite_accept.html", context)
    if User.objects.filter(email__iexact=invitation.email).exists():
        context["needs_login"] = True
        return render(request, "core/invite_accept.html", context)
    form = InviteAcceptForm(request.POST or None, email=invitation.email)
    result: dict = {}
    if request.method == "POST" and form.is_valid():
        def call():
            result["member"] = services.invitation_accept(
                invitation=invitation, full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"])

        if _apply(form, call):
            member = result["member"]
            login(request, member.user, backend=MODEL_BACKEND)
            request.session[SESSION_ORG_KEY] = member.organization_id
            messages.success(request, _("Welcome to %(org)s!") % {"org": member.organization})
            return redirect("home")
    context["form"] = form
    return render(request, "core/invite_accept.html", context)


# Team ------------------------------------------------------------------------------------------

@office_required
def members(request: HttpRequest) -> HttpResponse:
    org = request.organization
    context = {
        "nav": "team",
        "members": selectors.member_list(organization=org),
        "invitations": (selectors.invitation_pending_list(organization=org)
                        if request.member.is_owner else []),
    }
    return render(request, "core/members.html", context)


@owner_required
def member_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _apply(
            form, lambda: services.invitation_create(
                organization=request.organization, email=form.cleaned_data["email"],
                role=form.cleaned_data["role"], by=request.member)):
        messages.success(request, _("Invitation sent to %(email)s.")
                         % {"email": form.cleaned_data["email"]})
        return redirect("core:members")
    return render(request, "core/member_invite.html", {"nav": "team", "form": form})


@owner_required
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_for_org_or_404(Invitation, request.organization, pk=pk)
    try:
        services.invitation_revoke(invitation=invitation, by=request.member)
        messages.success(request, _("The invitation to %(email)s was withdrawn.")
                         % {"email": invitation.email})
    except ValidationError as exc:
        _flash_error(request, exc)
    return redirect("core:members")


@owner_required
@require_POST
def invitation_resend(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_for_org_or_404(Invitation, request.organization, pk=pk)
    try:
        services.invitation_resend(invitation=invitation, by=request.member)
        messages.success(request, _("A new link was sent to %(email)s.")
                         % {"email": invitation.email})
    except ValidationError as exc:
        _flash_error(request, exc)
    return redirect("core:members")


@owner_required
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_for_org_or_404(Member.objects.select_related("user"), request.organization,
                                pk=pk)
    form = MemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
        # The form wrote its values onto the instance; the service compares with the database.
        member.refresh_from_db()
        if _apply(form, lambda: services.member_update(member=member, by=request.member,
                                                       **changes)):
            messages.success(request, _("%(name)s was updated.") % {"name": member.name})
            return redirect("core:members")
    from crewline.field.selectors import devices_of

    devices = list(devices_of(member))
    for device in devices:  # the app names a phone by its browser's User-Agent
        device.label = short_user_agent(device.name) or _("Unnamed phone")
    return render(request, "core/member_edit.html",
                  {"nav": "team", "form": form, "subject": member, "devices": devices})


@owner_required
@require_POST
def member_set_active(request: HttpRequest, pk: int, active: bool) -> HttpResponse:
    member = get_for_org_or_404(Member.objects.select_related("user"), request.organization,
                                pk=pk)
    try:
        services.member_set_active(member=member, by=request.member, active=active)
        message = (_("%(name)s was reactivated.") if active
                   else _("%(name)s was deactivated and can no longer log in to %(org)s."))
        messages.success(request, message % {"name": member.name,
                                             "org": request.organization.name})
    except ValidationError as exc:
        _flash_error(request, exc)
    return redirect("core:members")


# Profile ---------------------------------------------------------------------------------------

@member_required
def profile(request: HttpRequest) -> HttpResponse:
    member = request.member
    form = ProfileForm(request.POST or None, initial={
        "full_name": member.user.full_name, "phone": member.phone, "language": member.language,
        "notify_by_email": member.notify_by_email})
    if request.method == "POST" and form.is_valid() and _apply(
            form, lambda: services.profile_update(member=member, **form.cleaned_data)):
        messages.success(request, _("Your profile was saved."))
        return redirect("core:profile")
    return render(request, "core/profile.html",
                  {"form": form, "password_form": PasswordChangeForm(request.user)})


@member_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, form.user)
        services.password_changed(member=request.member)
        messages.success(request, _("Your password was changed."))
        return redirect("core:profile")
    member = request.member
    profile_form = ProfileForm(initial={"full_name": member.user.full_name,
                                        "phone": member.phone, "language": member.language,
                                        "notify_by_email": member.notify_by_email})
    return render(request, "core/profile.html",
                  {"form": profile_form, "password_form": form})


# Organization settings -------------------------------------------------------------------------

@owner_required
def settings_general(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = OrganizationForm(request.POST or None, instance=org, prefix="org")
    logo_form = LogoForm(prefix="logo")
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
        org.refresh_from_db()
        if _apply(form, lambda: services.organization_update(organization=org,
                                                             by=request.member, **changes)):
            messages.success(request, _("Settings saved."))
            return redirect("core:settings")
    return render(request, "core/settings_general.html",
                  {"form": form, "logo_form": logo_form, "tab": "general"})


@owner_required
@require_POST
def settings_logo(request: HttpRequest) -> HttpResponse:
    org = request.organization
    if request.POST.get("remove"):
        services.organization_set_logo(organization=org, by=request.member, logo=None)
        messages.success(request, _("The logo was removed."))
        return redirect("core:settings")
    logo_form = LogoForm(request.POST, request.FILES, prefix="logo")
    if logo_form.is_valid() and _apply(logo_form, lambda: services.organization_set_logo(
            organization=org, by=request.member, logo=logo_form.cleaned_data["logo"])):
        messages.success(request, _("The logo was updated."))
        return redirect("core:settings")
    form = OrganizationForm(instance=org, prefix="org")
    return render(request, "core/settings_general.html",
                  {"form": form, "logo_form": logo_form, "tab": "general"}, status=400)


@member_required
def logo(request: HttpRequest) -> HttpResponse:
    """The organization's logo, for its members only (media files are never public)."""
    org = request.organization
    if not org.logo:
        raise Http404("No logo.")
    content_type = mimetypes.guess_type(org.logo.name)[0] or "application/octet-stream"
    return file_stream(org.logo, filename=None, content_type=content_type,
                       cache_control="private, max-age=3600")


@owner_required
def settings_hours(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = BusinessHoursForm(request.POST or None, hours=org.business_hours)
    if request.method == "POST" and form.is_valid() and _apply(
            form, lambda: services.organization_set_business_hours(
                organization=org, by=request.member, hours=form.cleaned_data["hours"])):
        messages.success(request, _("Business hours saved."))
        return redirect("core:settings_hours")
    return render(request, "core/settings_hours.html", {"form": form, "tab": "hours"})


@owner_required
def job_types(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = JobTypeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _apply(
            form, lambda: services.job_type_create(organization=org, by=request.member,
                                                   **form.cleaned_data)):
        messages.success(request, _("Work order type added."))
        return redirect("core:job_types")
    return render(request, "core/settings_job_types.html", {
        "form": form, "tab": "job_types",
        "job_types": selectors.job_type_list(organization=org)})


@owner_required
def job_type_edit(request: HttpRequest, pk: int) -> HttpResponse:
    job_type = get_for_org_or_404(JobType, request.organization, pk=pk)
    form = JobTypeForm(request.POST or None, instance=job_type)
    if request.method == "POST" and form.is_valid():
        changes = dict(form.cleaned_data)
        job_type.refresh_from_db()
        if _apply(form, lambda: services.job_type_update(job_type=job_type, by=request.member,
                                                         **changes)):
            messages.success(request, _("Work order type saved."))
            return redirect("core:job_types")
    return render(request, "core/settings_job_type_edit.html",
                  {"form": form, "tab": "job_types", "job_type": job_type})


@owner_required
@require_POST
def job_type_set_active(request: HttpRequest, pk: int, active: bool) -> HttpResponse:
    job_type = get_for_org_or_404(JobType, request.organization, pk=pk)
    services.job_type_update(job_type=job_type, by=request.member, is_active=active)
    message = (_("%(name)s is available again.") if active
               else _("%(name)s is no longer offered for new work orders."))
    messages.success(request, message % {"name": job_type.name})
    return redirect("core:job_types")


@owner_required
def skills(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = SkillForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _apply(
            form, lambda: services.skill_create(organization=org, by=request.member,
                                                name=form.cleaned_data["name"])):
        messages.success(request, _("Skill added."))
        return redirect("core:skills")
    return render(request, "core/settings_skills.html", {
        "form": form, "tab": "skills", "skills": selectors.skill_list(organization=org)})


@owner_required
def skill_edit(request: HttpRequest, pk: int) -> HttpResponse:
    skill = get_for_org_or_404(Skill, request.organization, pk=pk)
    form = SkillForm(request.POST or None, initial={"name": skill.name})
    if request.method == "POST" and form.is_valid() and _apply(
            form, lambda: services.skill_rename(skill=skill, by=request.member,
                                                name=form.cleaned_data["name"])):
        messages.success(request, _("Skill renamed."))
        return redirect("core:skills")
    return render(request, "core/settings_skill_edit.html",
                  {"form": form, "tab": "skills", "skill": skill})


@owner_required
@require_POST
def skill_delete(request: HttpRequest, pk: int) -> HttpResponse:
    skill = get_for_org_or_404(Skill, request.organization, pk=pk)
    try:
        services.skill_delete(skill=skill, by=request.member)
        messages.success(request, _("Skill deleted."))
    except ValidationError as exc:
        _flash_error(request, exc)
    return redirect("core:skills")


# Audit log -------------------------------------------------------------------------------------

def _show(value: object) -> str:
    if value is None or value == []:
        return "—"
    if value == "":
        return _("(empty)")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_show(v)}" for k, v in value.items())
    return str(value)


def _change_rows(changes: object) -> list[tuple[str, str, str, bool]]:
    """``(field, before, after, created)`` rows; ``created`` when there was no before value.
    Entries not shaped ``{field: [before, after]}`` are shown as they are."""
    if not isinstance(changes, dict):
        return [("", "", _show(changes), True)]
    rows = []
    for field, values in changes.items():
        if isinstance(values, list) and len(values) == 2:
            before, after = values
            rows.append((field, _show(before), _show(after), before is None))
        else:
            rows.append((field, "", _show(values), True))
    return rows


@owner_required
def audit_log(request: HttpRequest) -> HttpResponse:
    org = request.organization
    members = Member.objects.for_org(org).select_related("user").order_by("user__full_name")
    form = AuditFilterForm(request.GET or None, members=members,
                           actions=selectors.audit_actions(organization=org))
    filters: dict = {}
    if form.is_bound and form.is_valid():
        filters = {"actor_id": form.cleaned_data["actor"],
                   "action": form.cleaned_data["action"],
                   "since": form.cleaned_data["since"], "until": form.cleaned_data["until"]}
    entries = selectors.audit_log_list(organization=org, **filters)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.short_user_agent = short_user_agent(entry.user_agent)
        entry.change_rows = _change_rows(entry.changes)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "core/audit_log.html",
                  {"form": form, "page": page, "query": query.urlencode()})
