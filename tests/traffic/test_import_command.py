"""`manage.py import_cdrs`: JSON summary over files, exit status only for files refused whole."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from traffic.models import Cdr, CdrImport
from traffic.services.sources import source_create

pytest.importorskip("traffic.importers", reason="the CDR parsers (traffic/importers) are not in the tree yet")


def row(uid: str, billsec: int = 61) -> str:
    return (f'"","0205550101","0699993678","ctx","""Alice"" <0205550101>","SIP/a-1","SIP/b-1","Dial","",'
            f'"2026-05-04 10:00:00","2026-05-04 10:00:05","2026-05-04 10:01:06",66,{billsec},"ANSWERED",'
            f'"DOCUMENTATION","{uid}",""')


@pytest.fixture
def pbx(db):
    return source_create(name="pbx-cmd", format="asterisk-csv", timezone="Europe/Amsterdam")


class ImportCdrsCommandTests:
    def test_it_prints_exactly_the_json_summary_over_all_files(self, pbx, alice, tmp_path):
        one = tmp_path / "one.csv"
        one.write_text("\n".join([row("c.1"), row("c.2"), '"short","row"']) + "\n")
        two = tmp_path / "two.csv"
        two.write_text("\n".join([row("c.2"), row("c.1", billsec=9), row("c.3")]) + "\n")
        out = StringIO()

        call_command("import_cdrs", "--source", "pbx-cmd", "--json", str(one), str(two), stdout=out)

        summary = json.loads(out.getvalue())
        assert list(summary) == ["imported", "duplicates", "conflicts", "rejected"]
        assert (summary["imported"], summary["duplicates"], summary["conflicts"]) == (3, 1, 1)
        assert [r["line"] for r in summary["rejected"]] == [3] and summary["rejected"][0]["reason"]
        assert Cdr.objects.count() == 3 and CdrImport.objects.count() == 2

    def test_it_exits_non_zero_only_when_a_file_is_refused_entirely(self, pbx, tmp_path):
        cel = tmp_path / "CEL.csv"
        cel.write_text('"CHAN_START","1335310195.513823","","","","","","s","default","TinCan/string","","","3","",'
                       '"1335310195.0","1335310195.0","","","",""\n')
        good = tmp_path / "good.csv"
        good.write_text(row("g.1") + "\n" + "garbage\n")
        out, err = StringIO(), StringIO()

        call_command("import_cdrs", "--source", "pbx-cmd", str(good), stdout=out, stderr=err)  # rejected row: exit 0
        with pytest.raises(CommandError, match="1 file"):
            call_command("import_cdrs", "--source", "pbx-cmd", str(cel), stdout=out, stderr=err)
        assert "event log" in err.getvalue()
        assert Cdr.objects.count() == 1

    def test_it_refuses_an_unknown_source_or_a_format_that_is_not_the_declared_one(self, pbx, tmp_path):
        path = tmp_path / "x.csv"
        path.write_text(row("x.1") + "\n")
        with pytest.raises(CommandError, match="--source"):
            call_command("import_cdrs", "--source", "nope", str(path))
        with pytest.raises(CommandError, match="--format"):
            call_command("import_cdrs", "--source", "pbx-cmd", "--format", "freeswitch-csv", str(path))
        assert not Cdr.objects.exists()

    def test_it_prints_no_number_or_name(self, pbx, alice, tmp_path):
        path = tmp_path / "x.csv"
        path.write_text(row("p.1") + "\n")
        out, err = StringIO(), StringIO()
        call_command("import_cdrs", "--source", "pbx-cmd", str(path), stdout=out, stderr=err)
        text = out.getvalue() + err.getvalue()
        assert "imported 1" in text
        assert "0205550101" not in text and "Alice" not in text
