"""Legal officers' pages (everything under /disclosures/ except notices/), and the customer's own notices page.
Thin: forms parse, services and selectors decide; a step on a request (verify, approve, deliver, ...) is dispatched
through the table in transitions.py, the one the API uses. Anyone without the legal officer role gets 404 on the
staff pages: customers never learn that a disclosure exists.

- authorities.py: the register of authorities and its confirmed changes
- requests.py: a request's intake, page, steps and package download
- pages.py: the dashboard, the transparency report, the legal-basis table, the customer's notices
"""
from .authorities import (
    authorities,
    authority_certificate,
    authority_certificate_confirmation,
    authority_certificate_discarding,
    authority_domains,
    authority_domains_confirmation,
    authority_domains_discarding,
    authority_verification,
)
from .pages import bases, dashboard, notices, report
from .requests import detail, download, request_new, transition

__all__ = [
    "authorities", "authority_certificate", "authority_certificate_confirmation", "authority_certificate_discarding",
    "authority_domains", "authority_domains_confirmation", "authority_domains_discarding", "authority_verification",
    "bases", "dashboard", "notices", "report", "detail", "download", "request_new", "transition",
]
