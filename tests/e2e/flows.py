"""Steps several browser tests take the same way: an officer's sign-in, an officer's intake of a disclosure request
with its written order, and a customer's data export from asking to the downloaded ZIP."""
from __future__ import annotations

import zipfile
from datetime import timedelta
from pathlib import Path

from django.utils.timezone import localtime, now
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.e2e.conftest import login
from tests.factories import PASSWORD


def officer_sign_in(page, live_server, user) -> None:
    """`user` signs in with their TOTP device, in a browser with no one else signed in."""
    page.context.clear_cookies()
    device = TOTPDevice.objects.get(user=user)
    # django-otp refuses a code of a time step already used (replay protection); a second sign-in of
    # the same officer within 30 s would need the next step, so let the device forget the last one.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    device.refresh_from_db()
    login(page, live_server, user.username, PASSWORD, device)


def disclosure_take_in(page, *, authority, reference: str, basis: str, document: str, deadline_days: int) -> None:
    """From the officer's start page: the intake form filled for alice's number over the last 30 days, the
    written order filed with it, sent."""
    with page.expect_navigation():
        page.get_by_role("link", name="Take in a disclosure request").first.click()
    page.select_option("#id_authority", str(authority.pk))
    page.fill("#id_reference", reference)
    page.select_option("#id_legal_basis", basis)
    page.check("input[name=categories][value=traffic_data]")
    page.fill("#id_numbers", "020 555 0101")
    today = localtime(now()).date()
    page.fill("#id_window_start", (today - timedelta(days=30)).isoformat())
    page.fill("#id_window_end", (today + timedelta(days=1)).isoformat())
    page.fill("#id_deadline", localtime(now() + timedelta(days=deadline_days)).strftime("%Y-%m-%dT%H:%M"))
    page.set_input_files("#id_document", files=[{"name": document, "mimeType": "application/pdf",
                                                 "buffer": b"%PDF-1.7 signed order"}])
    page.check("#id_document_is_order")
    with page.expect_navigation():
        page.locator("#request-form button[type=submit]").click()


def data_export_download(page, tmp_path: Path) -> zipfile.ZipFile:
    """From a signed-in customer's page: ask for a copy of one's data, and download the ZIP once it is ready."""
    with page.expect_navigation():
        page.get_by_role("link", name="Your privacy").first.click()
    page.select_option("#id_kind", "access")
    with page.expect_navigation():
        page.get_by_role("button", name="Send request").click()
    page.reload()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download your data (ZIP)").click()
    path = tmp_path / "export.zip"
    info.value.save_as(path)
    return zipfile.ZipFile(path)
