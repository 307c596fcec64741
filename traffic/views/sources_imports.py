"""Staff HTML pages for CDR sources and imports (billing, network operations and admin roles). Thin: forms in, services
and selectors out, errors shown next to the field they concern."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from voipxs.exceptions import ApplicationError

from ..models import Source
from ..selectors.sources_imports import cdr_import_get, cdr_import_list, ingest_purpose, source_list
from ..services.imports import cdr_import_rerun, cdr_import_upload
from ..services.sources import source_create
from .access import require_ingest_role


class SourceForm(forms.Form):
    name = forms.SlugField(label=_("Name"), max_length=60)
    format = forms.ChoiceField(label=_("Format"), choices=Source.Format.choices)
    timezone = forms.CharField(label=_("Time zone"), max_length=64, initial="Europe/Amsterdam")
    default_country = forms.CharField(label=_("Default country"), max_length=2, initial="NL")
    carrier = forms.CharField(label=_("Carrier or trunk"), max_length=100, required=False)
    columns = forms.CharField(
        label=_("Layout (cdr_custom mapping line, mod_cdr_csv template or Kamailio acc modparam lines)"),
        max_length=10_000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class UploadForm(forms.Form):
    source = forms.ModelChoiceField(label=_("Source"), queryset=Source.objects.order_by("name"), to_field_name="name")
    file = forms.FileField(label=_("CDR file"), allow_empty_file=False)


@login_required
def staff_sources(request: HttpRequest) -> HttpResponse:
    require_ingest_role(request)
    form = SourceForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                source = source_create(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                exc.add_to(form)
            else:
                messages.success(request, _("Source %(name)s added.") % {"name": source.name})
                return redirect("traffic:staff-sources")
        status = 400
    sources = source_list(actor=request.user, purpose=ingest_purpose(request.user))
    return render(request, "traffic/sources.html", {"form": form, "sources": sources}, status=status)


@login_required
def staff_imports(request: HttpRequest) -> HttpResponse:
    require_ingest_role(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                cdr_import = cdr_import_upload(source=form.cleaned_data["source"], upload=upload,
                                               file_name=upload.name or "", actor=request.user)
            except ApplicationError as exc:
                exc.add_to(form)
            else:
                messages.success(request, _("File received; import #%(id)s is queued.") % {"id": cdr_import.pk})
                return redirect("traffic:staff-import", import_id=cdr_import.pk)
        status = 400
    imports = cdr_import_list(actor=request.user, purpose=ingest_purpose(request.user))
    return render(request, "traffic/imports.html", {"form": form, "imports": imports}, status=status)


@login_required
def staff_import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    require_ingest_role(request)
    cdr_import = cdr_import_get(actor=request.user, import_id=import_id, purpose=ingest_purpose(request.user))
    report = cdr_import.report or {}
    return render(request, "traffic/imports_detail.html", {
        "imp": cdr_import, "rejected": report.get("rejected", []), "conflicts": report.get("conflicts", []),
        "rejected_total": report.get("rejected_total", 0), "truncated": report.get("truncated", False),
        "warnings": report.get("warnings", []), "warnings_total": report.get("warnings_total", 0),
    })


@login_required
@require_POST
def staff_import_rerun(request: HttpRequest, import_id: int) -> HttpResponse:
    """Import a failed import's stored file again (a new import; see services.imports.cdr_import_rerun)."""
    require_ingest_role(request)
    cdr_import = cdr_import_get(actor=request.user, import_id=import_id, purpose=ingest_purpose(request.user))
    try:
        rerun = cdr_import_rerun(cdr_import=cdr_import, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.shown())
        return redirect("traffic:staff-import", import_id=cdr_import.pk)
    messages.success(request, _("Import #%(old)s is run again as import #%(id)s.") % {"old": cdr_import.pk, "id": rerun.pk})
    return redirect("traffic:staff-import", import_id=rerun.pk)
