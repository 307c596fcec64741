"""Give the seeded privacy-policy version (0004) its Dutch text, from voipxs/privacy-policy.nl.txt.

A translation does not change the version: it is the same policy, now readable in Dutch (GDPR art. 12). So the
version keeps its number, publication date and summary, no new version is made, and no user is told of a change
or asked to see the policy again (PolicyNoticeSeen is untouched).

Only where the English text is still exactly the seed text (voipxs/privacy-policy.txt, which 0004 read): a
deployment whose DPO edited the policy keeps it as it is, without a Dutch text that would no longer match it. The
versions published when a retention period changed carry the newest text forward (policy_version_generated), so
every version whose English text is the seed gets the Dutch; a Dutch text already given is never overwritten.
The seeded version's summary, which 0004 wrote in English, gets its Dutch too (`summaries`, as a generated version
has them), so the page's version history reads in Dutch as well.
"""
from __future__ import annotations

from pathlib import Path

from django.db import migrations

VOIPXS = Path(__file__).resolve().parent.parent.parent / "voipxs"
SEED_EN = VOIPXS / "privacy-policy.txt"
SEED_NL = VOIPXS / "privacy-policy.nl.txt"
SEED_SUMMARY = "First published version."  # as 0004 wrote it


def seed_dutch_text(apps, schema_editor) -> int:
    """Returns how many versions got the Dutch text (for tests, which call it directly)."""
    PolicyVersion = apps.get_model("accounts", "PolicyVersion")
    if not (SEED_EN.exists() and SEED_NL.exists()):
        return 0
    english, dutch = SEED_EN.read_text(encoding="utf-8"), SEED_NL.read_text(encoding="utf-8")
    PolicyVersion.objects.filter(version="1", summary=SEED_SUMMARY, summaries={}).update(
        summaries={"en": SEED_SUMMARY, "nl": "Eerste gepubliceerde versie."})
    return PolicyVersion.objects.filter(text=english, text_nl="").update(text_nl=dutch)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0028_policyversion_text_nl")]
    operations = [migrations.RunPython(seed_dutch_text, migrations.RunPython.noop)]
