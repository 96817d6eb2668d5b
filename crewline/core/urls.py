from django.contrib.auth import views as auth_views
from django.urls import path

from crewline.core import views

app_name = "core"

urlpatterns: list = []

# Names used across the project without a namespace.
root_patterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
