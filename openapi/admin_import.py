"""The admin's Import OpenAPI page: upload a document, preview the plan, confirm it.

Nothing is written before the confirmation. The upload keeps the document server-side
(openapi.pending) and shows what the import would add, change and remove; the
confirmation posts only the token, recomputes the plan and writes it unless it differs
from the previewed one. A document that does not look like a new version of the API its
title names needs a choice: update that API all the same, or create a new one.
"""

from __future__ import annotations

from typing import TypedDict, cast

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from openapi.documents import load_document, max_document_bytes
from openapi.models import PendingImport
from openapi.pending import PendingError, discard, keep, take
from openapi.plan import ImportPlan, apply_plan, free_slug, plan_import
from openapi.plans import OpenApiError
from openapi.sync import PlanChanged
from portal.typed_requests import SignedInRequest

UPDATE, NEW = "update", "new"
CHANGED_SINCE_PREVIEW = (
    "The API changed since the preview: nothing was imported. Review the new plan below."
)


class OpenApiImportForm(forms.Form):
    document = forms.FileField(
        label="OpenAPI document",
        help_text="JSON or YAML: Swagger 2.0, OpenAPI 3.0, 3.1 or 3.2, in one file (external "
        "$refs are refused: bundle the document first).",
    )
    api_slug = forms.SlugField(
        label="API slug",
        required=False,
        max_length=100,
        help_text="Empty: the slug of the document's title. An existing API with this slug is "
        "updated: operations added, changed, or marked removed when gone from the document. "
        "The next page shows every change before anything is written.",
    )
    service_url = forms.CharField(
        label="Service URL",
        required=False,
        max_length=500,
        help_text="Base URL of the backend, instead of the document's first server (needed when "
        "the document has none or a relative one).",
    )

    def clean_document(self):
        upload = self.cleaned_data["document"]
        limit = max_document_bytes()
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is larger than the limit of {limit // (1024 * 1024)} MB."
            )
        return upload


class OpenApiConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    # The previewed plan's, so that a change made since is shown, not written.
    fingerprint = forms.CharField(widget=forms.HiddenInput, required=False)
    target = forms.ChoiceField(
        label="Import into",
        choices=[(UPDATE, "Update the existing API"), (NEW, "Create a new API")],
        # The admin's radio list class: its choices take their own width, not the label's.
        widget=forms.RadioSelect(attrs={"class": "radiolist"}),
        required=False,
    )
    new_slug = forms.SlugField(label="New API's slug", max_length=100, required=False)

    def __init__(self, *args, plan: ImportPlan, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        api = plan.summary.api
        count = len(plan.reading.operations)
        cast(forms.ChoiceField, self.fields["target"]).choices = [
            (UPDATE, f'Update "{plan.existing_name}" ({api.slug}) with the changes listed above'),
            (NEW, f"Create a new API with the slug below, its {count} operations added"),
        ]

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if data.get("target") == NEW and not data.get("new_slug") and "new_slug" not in self.errors:
            self.add_error("new_slug", "Give the new API's slug.")
        return data


def _read(content: bytes, *, api_slug: str, service_url: str) -> tuple[dict, ImportPlan]:
    document = load_document(text=content)
    plan = plan_import(
        document=document, api_slug=api_slug or None, service_url=service_url or None
    )
    return document, plan


def _page(
    request: HttpRequest, model_admin: admin.ModelAdmin, template: str, **context
) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Import OpenAPI",
        **context,
    }
    return TemplateResponse(request, f"admin/operations/api/{template}", context)


def _upload_page(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,
    form: OpenApiImportForm,
    *,
    refusal: str = "",
) -> TemplateResponse:
    return _page(
        request,
        model_admin,
        "import_openapi.html",
        form=form,
        problem_count=len(form.non_field_errors()),
        refusal=refusal,
    )


def _preview_page(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,
    *,
    plan: ImportPlan,
    form: OpenApiConfirmForm,
    filename: str,
    notice: str = "",
) -> TemplateResponse:
    summary = plan.summary
    restored = set(summary.restored)
    return _page(
        request,
        model_admin,
        "import_openapi_preview.html",
        plan=plan,
        form=form,
        filename=filename,
        notice=notice,
        added=[(slug, summary.labels.get(slug, ""), slug in restored) for slug in summary.added],
        changed=[(slug, summary.labels.get(slug, "")) for slug in summary.changed],
        removed=[(slug, summary.labels.get(slug, "")) for slug in summary.removed],
    )


def _fresh_preview(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,
    *,
    plan: ImportPlan,
    token: str,
    filename: str,
    notice: str = "",
) -> TemplateResponse:
    form = OpenApiConfirmForm(
        plan=plan,
        initial={
            "token": token,
            "fingerprint": plan.fingerprint(),
            "new_slug": free_slug(base=plan.summary.api.slug),
        },
    )
    return _preview_page(
        request, model_admin, plan=plan, form=form, filename=filename, notice=notice
    )


def _new_api_plan(
    document: dict, *, form: OpenApiConfirmForm, service_url: str
) -> ImportPlan | None:
    """The plan of the document as a new API under the chosen slug; None, errors on the form."""
    new_slug = form.cleaned_data["new_slug"]
    try:
        plan = plan_import(document=document, api_slug=new_slug, service_url=service_url or None)
    except OpenApiError as error:
        for problem in error.problems:
            form.add_error(None, problem)
        return None
    if not plan.creates_api:
        form.add_error("new_slug", f"An API with the slug {new_slug!r} exists: choose another.")
        return None
    return plan


def _no_longer(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,
    *,
    pending: PendingImport,
    error: OpenApiError,
) -> TemplateResponse:
    """The upload form again: the kept document cannot be imported any more."""
    discard(pending=pending)
    form = OpenApiImportForm(
        initial={"api_slug": pending.api_slug, "service_url": pending.service_url}
    )
    problems = " ".join(error.problems)
    refusal = f"The document can no longer be imported: {problems}"
    return _upload_page(request, model_admin, form, refusal=refusal)


def _replanned(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,
    *,
    document: dict,
    pending: PendingImport,
    token: str,
) -> TemplateResponse:
    """The preview again, of the plan as it is now."""
    try:
        plan = plan_import(
            document=document,
            api_slug=pending.api_slug or None,
            service_url=pending.service_url or None,
        )
    except OpenApiError as error:
        return _no_longer(request, model_admin, pending=pending, error=error)
    return _changed_since_preview(request, model_admin, plan=plan, pending=pending, token=token)


def _changed_since_preview(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,
    *,
    plan: ImportPlan,
    pending: PendingImport,
    token: str,
) -> TemplateResponse:
    """The preview of the plan as it is now, saying that it is not the one confirmed."""
    return _fresh_preview(
        request,
        model_admin,
        plan=plan,
        token=token,
        filename=pending.filename,
        notice=CHANGED_SINCE_PREVIEW,
    )


class _Preview(TypedDict):
    """The preview page's arguments while a confirmation is checked."""

    plan: ImportPlan
    form: OpenApiConfirmForm
    filename: str


def upload(request: SignedInRequest, *, model_admin: admin.ModelAdmin) -> HttpResponse:
    """The upload form; a valid document is kept and its plan previewed, nothing written."""
    if request.method != "POST":
        form = OpenApiImportForm(initial={"api_slug": request.GET.get("api", "")})
        return _upload_page(request, model_admin, form)
    form = OpenApiImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_page(request, model_admin, form)
    uploaded = form.cleaned_data["document"]
    content = uploaded.read()
    api_slug = form.cleaned_data["api_slug"]
    service_url = form.cleaned_data["service_url"].strip()
    try:
        _, plan = _read(content, api_slug=api_slug, service_url=service_url)
    except OpenApiError as error:
        for problem in error.problems:
            form.add_error(None, problem)
        return _upload_page(request, model_admin, form)
    token = keep(
        user=request.user,
        content=content,
        filename=uploaded.name or "",
        api_slug=api_slug,
        service_url=service_url,
    )
    return _fresh_preview(request, model_admin, plan=plan, token=token, filename=uploaded.name)


def confirm(request: SignedInRequest, *, model_admin: admin.ModelAdmin) -> HttpResponse:
    """Write the previewed plan, or show why not (an expired token, a choice to make)."""
    token = request.POST.get("token", "")
    try:
        pending = take(user=request.user, token=token)
    except PendingError as error:
        return _upload_page(request, model_admin, OpenApiImportForm(), refusal=str(error))
    try:
        document, plan = _read(
            bytes(pending.document), api_slug=pending.api_slug, service_url=pending.service_url
        )
    except OpenApiError as error:
        # The database changed under the document (say, its API and service URL are gone).
        return _no_longer(request, model_admin, pending=pending, error=error)

    form = OpenApiConfirmForm(request.POST, plan=plan)
    preview: _Preview = {"plan": plan, "form": form, "filename": pending.filename}
    if not form.is_valid():
        return _preview_page(request, model_admin, **preview)
    target = form.cleaned_data["target"]
    if target == NEW:
        chosen = _new_api_plan(document, form=form, service_url=pending.service_url)
        if chosen is None:
            return _preview_page(request, model_admin, **preview)
    else:
        if form.cleaned_data["fingerprint"] != plan.fingerprint():
            return _changed_since_preview(
                request, model_admin, plan=plan, pending=pending, token=token
            )
        if not plan.same_identity and target != UPDATE:
            form.add_error(
                "target",
                f'Choose whether to update "{plan.existing_name}" or to create a new API.',
            )
            return _preview_page(request, model_admin, **preview)
        chosen = plan
    try:
        summary = apply_plan(plan=chosen)
    except PlanChanged:
        # Another import wrote the API between the check above and the write.
        return _replanned(request, model_admin, document=document, pending=pending, token=token)
    except OpenApiError as error:
        for problem in error.problems:
            form.add_error(None, problem)
        return _preview_page(request, model_admin, **preview)
    discard(pending=pending)
    model_admin.message_user(request, summary.headline, messages.SUCCESS)
    for change in summary.api_changes:
        model_admin.message_user(request, f"API {change}.", messages.INFO)
    for note in summary.notes:
        model_admin.message_user(request, note, messages.INFO)
    return redirect(reverse("admin:operations_api_change", args=[summary.api.pk]))
