from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import forms, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),  # POST only (Django 5)
    path("numbers/", views.my_numbers, name="numbers"),
    path("numbers/masking/", views.my_number_masking, name="number-masking"),
    path("numbers/itemisation/", views.my_itemisation, name="itemisation"),
    path("billing-address/", views.billing_address_edit, name="billing-address"),
    path("security/", views.security, name="security"),
    path("security/call-setup-tokens/", views.call_setup_token_create, name="call-setup-token-create"),
    path("security/call-setup-tokens/<int:token_id>/revoke/", views.call_setup_token_revoke,
         name="call-setup-token-revoke"),
    path("security/recovery-codes/", views.recovery_codes_regenerate, name="recovery-codes"),
    path("security/two-factor/disable/", views.two_factor_disable, name="two-factor-disable"),
    path("two-factor/", views.two_factor_verify, name="two-factor"),
    path("two-factor/setup/", views.two_factor_setup, name="two-factor-setup"),
    path("password/change/", auth_views.PasswordChangeView.as_view(
        template_name="accounts/password_change.html", form_class=forms.PasswordChangeThroughServiceForm,
        success_url=reverse_lazy("accounts:password-change-done")), name="password-change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(
        template_name="accounts/password_change_done.html"), name="password-change-done"),
    path("password/reset/", views.PasswordResetView.as_view(  # rate-limited per address and client
        template_name="accounts/password_reset.html", form_class=forms.PasswordResetByIndexForm,
        email_template_name="accounts/password_reset_email.txt",
        subject_template_name="accounts/password_reset_subject.txt",
        success_url=reverse_lazy("accounts:password-reset-done")), name="password-reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(
        template_name="accounts/password_reset_done.html"), name="password-reset-done"),
    path("password/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(
        template_name="accounts/password_reset_confirm.html", form_class=forms.SetPasswordThroughServiceForm,
        success_url=reverse_lazy("accounts:password-reset-complete")), name="password-reset-confirm"),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(
        template_name="accounts/password_reset_complete.html"), name="password-reset-complete"),
]
