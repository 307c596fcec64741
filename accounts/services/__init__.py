"""Every write to accounts goes through here, one module per concern; callers import the submodule.

- users.py: contractors and users (create, the admin's change form, password, masking, itemised bills,
  language)
- roles.py: roles, the second admin's approval of SECOND_ADMIN_ROLES (RoleGrant), mail to a staff role
- numbers.py: phone numbers and their validity periods (assign, release, relabel)
- sign_in.py: API tokens, two-factor devices and recovery codes, failed sign-in records
- call_setup_tokens.py: the click-to-call extension's tokens (call set-up only; digest stored, revocable)
- closing.py: closing an account, anonymising it, and both at once for erasure

The data-subject workflow's services are accounts/dsr/ (services.py, erasure.py, export.py).
"""
