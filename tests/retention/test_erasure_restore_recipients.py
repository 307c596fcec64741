"""GDPR art. 19 across a restore: a backup taken before an erasure holds neither the erasure nor the recipients
listed for it (the bodies the person's data was disclosed to, for the DPO to tell). `backup_restore` replays the
erasure (retention/backup/erasures.py) and the replay lists them again, so the restored database asks the DPO to
tell the same recipients as the database the erasure was done in (tests/test_erasure_restore.py has the rest)."""
from __future__ import annotations

import pytest

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_create
from tests.accounts.dsr_helpers import delivered_disclosure
from tests.factories import PASSWORD, make_user
from tests.retention.backup_helpers import take_backup
from tests.retention.erasure_child import snapshot
from tests.retention.test_erasure_restore import restore, restored_report

ERASURE = DataSubjectRequest.Kind.ERASURE


@pytest.mark.django_db(transaction=True)
def test_a_replayed_erasure_lists_the_recipients_to_tell_again(committed, places, restored_url, legal1):
    carol = make_user("carol", email="carol.recipients@example.org")
    told = delivered_disclosure(user=carol, officer=legal1, reference="TOLD-R1", secrecy_days=None)
    folder = take_backup(places)  # before the erasure: it has the disclosure, not the erasure
    erasure = dsr_request_create(user=carol, kind=ERASURE, password=PASSWORD)
    what = {"accounts": [carol.pk], "requests": [erasure.pk], "invoices": [], "cdrs": []}
    erased = snapshot(what)["requests"][str(erasure.pk)]["recipients"]
    assert erased == [[f"disclosure:{told.pk}", "Politie Eenheid Test", False]]

    assert "erasures: 1 replayed" in restore(restored_url, folder, places)
    report = restored_report(restored_url, "read", what)
    assert report["requests"][str(erasure.pk)]["recipients"] == erased
