from django.contrib.auth import views as auth_views
from django.urls import path

from crewline.core import views
from crewline.core.forms import LoginForm

app_name = "core"

urlpatterns: list = [
    path("signup/", views.signup, name="signup"),
    path("getting-started/", views.getting_started, name="getting_started"),
    path("getting-started/hide/", views.getting_started_hide, name="getting_started_hide"),
    path("invite/<str:token>/", views.invite_accept, name="invite_accept"),
    path("team/", views.members, name="members"),
    path("team/invite/", views.member_invite, name="member_invite"),
    path("team/invitations/<int:pk>/revoke/", views.invitation_revoke,
         name="invitation_revoke"),
    path("team/invitations/<int:pk>/resend/", views.invitation_resend,
         name="invitation_resend"),
    path("team/<int:pk>/", views.member_edit, name="member_edit"),
    path("team/<int:pk>/deactivate/", views.member_set_active, {"active": False},
         name="member_deactivate"),
    path("team/<int:pk>/reactivate/", views.member_set_active, {"active": True},
         name="member_reactivate"),
    path("profile/", views.profile, name="profile"),
    path("profile/password/", views.password_change, name="password_change"),
    path("settings/", views.settings_general, name="settings"),
    path("settings/logo/", views.settings_logo, name="settings_logo"),
    path("settings/hours/", views.settings_hours, name="settings_hours"),
    path("settings/work-order-types/", views.job_types, name="job_types"),
    path("settings/work-order-types/<int:pk>/", views.job_type_edit, name="job_type_edit"),
    path("settings/work-order-types/<int:pk>/deactivate/", views.job_type_set_active,
         {"active": False}, name="job_type_deactivate"),
    path("settings/work-order-types/<int:pk>/reactivate/", views.job_type_set_active,
         {"active": True}, name="job_type_reactivate"),
    path("settings/skills/", views.skills, name="skills"),
    path("settings/skills/<int:pk>/", views.skill_edit, name="skill_edit"),
    path("settings/skills/<int:pk>/delete/", views.skill_delete, name="skill_delete"),
    path("logo/", views.logo, name="logo"),
    path("audit/", views.audit_log, name="audit_log"),
]

# Names used across the project without a namespace.
root_patterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True,
                                                authentication_form=LoginForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(),
         name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
]
