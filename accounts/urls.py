from django.contrib.auth import views as auth_views
from django.urls import path

from . import views, views_security
from .forms import LoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html", authentication_form=LoginForm,
                                                redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("activate/<str:token>/", views.activate, name="activate"),
    path("act-for/", views.act_for, name="act_for"),
    path("team/", views.team, name="team"),
    path("team/new/", views.subaccount_create, name="subaccount_create"),
    path("team/<int:pk>/", views.subaccount_edit, name="subaccount_edit"),
    path("team/<int:pk>/active/", views.subaccount_toggle, name="subaccount_toggle"),
    path("team/<int:pk>/resend/", views.subaccount_resend, name="subaccount_resend"),
    path("team/<int:pk>/reset/", views_security.subaccount_reset, name="subaccount_reset"),
    path("password-reset/", views_security.password_reset, name="password_reset"),
    path("security/", views_security.security, name="security"),
    path("security/password/", views_security.password_change, name="password_change"),
    path("security/second-factor/setup/", views_security.second_factor_setup, name="second_factor_setup"),
    path("security/second-factor/verify/", views_security.second_factor_verify, name="second_factor_verify"),
    path("security/recovery-codes/", views_security.recovery_codes_renew, name="recovery_codes_renew"),
    path("security/api-tokens/", views_security.api_token_list, name="api_tokens"),
    path("security/api-tokens/<int:pk>/revoke/", views_security.api_token_revoke, name="api_token_revoke"),
    path("security/browsers/<int:pk>/revoke/", views_security.trusted_browser_revoke, name="trusted_browser_revoke"),
]
