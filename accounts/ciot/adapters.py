"""How the subscriber file reaches the CIOT: one small interface, so the transport can change without
touching the sync, the log or the alert.

The official CIOT connection specification (the "aansluitvoorwaarden"/interface documents the Ministry of
Justice and Security gives connected providers) is not public, and could not be found (README, "CIOT
subscriber file"). `CsvFileAdapter` therefore writes the fields the Bvgt names (LEGAL.md 1.5) as a full
snapshot, UTF-8, semicolon-separated, one row per number period and address version, for whatever
pickup the connection agreement sets. A real connector implements `CiotAdapter.deliver` and is named in
the CIOT_ADAPTER setting.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from .selectors import FIELDS, CiotRecord

FILE_NAME = "ciot-subscribers.csv"
FORMAT_VERSION = "voipxs-ciot-1"


class CiotAdapter(Protocol):
    name: str

    def deliver(self, *, records: list[CiotRecord], run_id: int, generated_at: datetime) -> str:
        """Deliver the full snapshot; return its SHA-256 (hex). Raise on any failure: the run is then
        logged as failed and the DPO and administrators are alerted."""


def _ts(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else ""


def _neutral(value: str) -> str:
    """A cell starting with = + - @ is a formula to a spreadsheet: quote it (names and streets are free text)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") and not value[1:].replace(" ", "").isdigit() else value


def render_csv(records: list[CiotRecord], *, generated_at: datetime) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    # No timestamp in the file: the same data gives the same bytes (and hash), so a run can tell whether
    # anything changed; the run log holds the time.
    writer.writerow([f"#format={FORMAT_VERSION}", f"records={len(records)}"])
    writer.writerow(FIELDS)
    for r in records:
        writer.writerow([_neutral(r.number), r.service_type, _neutral(r.name), _neutral(r.street),
                         _neutral(r.house_number), _neutral(r.postcode), _neutral(r.town),
                         _ts(r.valid_from), _ts(r.valid_to)])
    return out.getvalue().encode("utf-8")


class CsvFileAdapter:
    """Writes the snapshot to CIOT_EXPORT_DIR/ciot-subscribers.csv, replacing the last one atomically."""

    name = "csv-file"

    def deliver(self, *, records: list[CiotRecord], run_id: int, generated_at: datetime) -> str:
        data = render_csv(records, generated_at=generated_at)
        directory = settings.CIOT_EXPORT_DIR
        os.makedirs(directory, mode=0o700, exist_ok=True)
        tmp = os.path.join(directory, f".{FILE_NAME}.{run_id}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, os.path.join(directory, FILE_NAME))
        return hashlib.sha256(data).hexdigest()


def ciot_adapter() -> CiotAdapter:
    return import_string(settings.CIOT_ADAPTER)()
