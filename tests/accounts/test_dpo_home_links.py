"""The DPO's home page links every list of theirs, the restrictions of GDPR art. 18 too (they had to be found
through another DPO page's menu)."""
from __future__ import annotations

import pytest

from tests.factories import verified_client

pytestmark = pytest.mark.django_db


class DpoHomeLinksTests:
    @pytest.mark.parametrize("language, label", [("en", "Restrictions (GDPR art. 18)"),
                                                 ("nl", "Beperkingen (AVG art. 18)")])
    def test_it_links_the_restrictions_with_the_other_lists(self, client, dpo, language, label):
        verified_client(client, dpo)
        client.cookies["django_language"] = language
        page = client.get("/").content.decode()
        link = f'<li><a href="/privacy-requests/dpo/restrictions/">{label}</a></li>'
        assert link in page
        assert page.index('href="/privacy-requests/dpo/"') < page.index(link) < page.index(
            'href="/privacy-requests/dpo/breaches/"')
