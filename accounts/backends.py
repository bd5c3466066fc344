"""Password login. An account unused for ACCOUNT_INACTIVITY_DAYS is locked when it tries (in case the
daily task has not run yet). A disabled or locked account with the right password comes back to the
login form, which says why it is refused (``LoginForm.confirm_login_allowed``), rather than a bare
"wrong password"; it never gets a session: ``get_user`` knows only active accounts."""

from django.contrib.auth.backends import ModelBackend

from .services import lock_if_inactive


class AccountBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            lock_if_inactive(user)
        return user

    def user_can_authenticate(self, user):
        return True  # the form refuses the inactive, saying why

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None
