from __future__ import annotations

from django.apps import AppConfig


class DisclosuresConfig(AppConfig):
    name = "disclosures"
    verbose_name = "Disclosures"

    def ready(self) -> None:
        from . import sections  # noqa: F401  export section, package purger, demo seeder
