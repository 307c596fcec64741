"""Issue 16, item 9: the password-reset form had no rate limit (30 mails to one address in 2.3 s)."""
from __future__ import annotations

import pytest
from django.core import mail

RESET = "/accounts/password/reset/"

pytestmark = pytest.mark.usefixtures("fresh_limits")


@pytest.mark.django_db
class PasswordResetLimitTests:
    def test_it_mails_one_address_at_most_three_times_an_hour(self, client, alice):
        answers = [client.post(RESET, {"email": "alice@example.org"}).status_code for _ in range(30)]
        assert answers[:3] == [302, 302, 302]
        assert set(answers[3:]) == {429}
        assert len(mail.outbox) == 3

    def test_it_says_why_and_in_the_form(self, client, alice):
        for _ in range(3):
            client.post(RESET, {"email": "alice@example.org"})
        page = client.post(RESET, {"email": "alice@example.org"}).content.decode()
        assert "Too many password-reset requests" in page and 'aria-invalid="true"' in page

    def test_it_answers_an_unknown_address_exactly_as_a_known_one(self, client, alice):
        known = [client.post(RESET, {"email": "alice@example.org"}).status_code for _ in range(5)]
        unknown = [client.post(RESET, {"email": "nobody@example.org"}).status_code for _ in range(5)]
        assert known == unknown == [302, 302, 302, 429, 429]

    def test_one_client_cannot_mail_many_addresses(self, client, alice):
        answers = [client.post(RESET, {"email": f"someone{i}@example.org"}).status_code for i in range(12)]
        assert answers[:10] == [302] * 10 and answers[10:] == [429, 429]

    def test_a_forged_forwarded_header_does_not_reset_the_client_limit(self, client, alice):
        answers = [client.post(RESET, {"email": f"x{i}@example.org"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code
                   for i in range(12)]
        assert answers[10:] == [429, 429]
