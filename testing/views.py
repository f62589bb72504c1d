"""Pages for testers: saved requests, collections and their runs."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog import selectors
from console.downloads import attachment, extension_for
from console.kept_files import KeptFileForm, download, replace_file, shown_files
from console.models import Exchange
from console.rendering import RenderedBody, render_body, render_exchange_body, shown_parts
from console.tryit import withheld_names
from console.uploads import capped_uploads
from gateway.public_urls import portal_url
from httpcore.ratelimit import TooManyCalls
from portal.typed_requests import SignedInRequest
from testing import actions, preparation, replay
from testing.forms import (
    CollectionForm,
    SavedRequestForm,
    SaveExchangeForm,
    ShareFormSet,
    VariableFormSet,
)
from testing.models import Collection, Run, RunStep, SavedRequest


def _address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _too_many_calls(request: HttpRequest, template: str, context: dict, error: TooManyCalls):
    """The page again with the refusal, as Try it answers (429 and Retry-After)."""
    response = render(request, template, {**context, "refused": str(error)}, status=429)
    response["Retry-After"] = str(error.retry_after)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def save_exchange(request: SignedInRequest, exchange_id: int) -> HttpResponse:
    visible = Exchange.objects.visible_to(user=request.user, session_key=None)
    exchange = get_object_or_404(visible.select_related("operation__api"), pk=exchange_id)
    form = SaveExchangeForm(
        request.POST or None,
        user=request.user,
        initial={"name": exchange.operation.name if exchange.operation else "Saved request"},
    )
    if request.method == "POST" and form.is_valid():
        saved = actions.save_exchange(
            exchange=exchange,
            user=request.user,
            name=form.cleaned_data["name"],
            collection=form.cleaned_data["collection"],
            new_collection_name=form.cleaned_data["new_collection_name"],
        )
        return redirect(saved)
    context = {"exchange": exchange, "form": form, "withheld": withheld_names(exchange)}
    return render(request, "testing/save_exchange.html", context)


@login_required
@require_GET
def saved_list(request: SignedInRequest) -> HttpResponse:
    collections = (
        Collection.objects.readable_by(request.user)
        .select_related("owner")
        .prefetch_related("requests__operation__api")
    )
    return render(request, "testing/saved_list.html", {"collections": collections})


@login_required
@require_http_methods(["GET", "POST"])
def collection_new(request: SignedInRequest) -> HttpResponse:
    form = CollectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.instance.owner = request.user
        collection = form.save()
        return redirect(collection)
    return render(request, "testing/collection_form.html", {"form": form})


@login_required
@require_GET
def collection_detail(request: SignedInRequest, collection_id: int) -> HttpResponse:
    collection = actions.readable_collection(user=request.user, collection_id=collection_id)
    return render(
        request, "testing/collection_detail.html", _collection_context(request, collection)
    )


@login_required
@require_http_methods(["GET", "POST"])
def collection_edit(request: SignedInRequest, collection_id: int) -> HttpResponse:
    collection = actions.owned_collection(user=request.user, collection_id=collection_id)
    data = request.POST if request.method == "POST" else None
    form = CollectionForm(data, instance=collection)
    variables = VariableFormSet(data, instance=collection, prefix="variables")
    shares = ShareFormSet(data, instance=collection, prefix="shares")
    if data is not None and form.is_valid() and variables.is_valid() and shares.is_valid():
        form.save()
        variables.save()
        shares.save()
        return redirect(collection)
    context = {"collection": collection, "form": form, "variables": variables, "shares": shares}
    return render(request, "testing/collection_edit.html", context)


@login_required
@require_POST
def collection_run(request: SignedInRequest, collection_id: int) -> HttpResponse:
    collection = actions.runnable_collection(user=request.user, collection_id=collection_id)
    try:
        run = actions.start_collection_run(
            collection=collection, user=request.user, address=_address(request)
        )
    except TooManyCalls as error:
        context = _collection_context(request, collection)
        return _too_many_calls(request, "testing/collection_detail.html", context, error)
    return redirect("testing:run_detail", run_id=run.pk)


@login_required
@require_GET
def run_detail(request: SignedInRequest, run_id: int) -> HttpResponse:
    runs = Run.objects.filter(collection__in=Collection.objects.readable_by(request.user))
    run = get_object_or_404(runs.select_related("collection"), pk=run_id)
    steps = list(run.steps.select_related("exchange", "saved_request"))
    failed = sum(1 for step in steps if not step.passed)
    template = "testing/_run_progress.html" if request.htmx else "testing/run_detail.html"
    return render(request, template, {"run": run, "steps": steps, "failed": failed})


@login_required
@require_GET
def saved_detail(request: SignedInRequest, saved_id: int) -> HttpResponse:
    saved = actions.readable_saved_request(user=request.user, saved_id=saved_id)
    return render(request, "testing/saved_detail.html", _saved_context(request, saved))


@login_required
@require_GET
def saved_file(request: SignedInRequest, saved_id: int, file_id: int) -> HttpResponseBase:
    """A kept file of a saved request, for whoever may read the saved request."""
    saved = actions.readable_saved_request(user=request.user, saved_id=saved_id)
    return download(get_object_or_404(saved.files, pk=file_id))


@login_required
@require_POST
@capped_uploads
def saved_file_replace(request: SignedInRequest, saved_id: int, file_id: int) -> HttpResponse:
    saved = actions.owned_saved_request(user=request.user, saved_id=saved_id)
    kept = get_object_or_404(saved.files, pk=file_id)
    form = KeptFileForm(request.POST, request.FILES)
    if form.is_valid():
        replace_file(kept=kept, upload=form.cleaned_data["file"])
        return redirect("testing:saved_edit", saved_id=saved.pk)
    context = _edit_context(request, saved, files_form=form)
    return render(request, "testing/saved_edit.html", context)


@login_required
@require_POST
def saved_file_remove(request: SignedInRequest, saved_id: int, file_id: int) -> HttpResponse:
    saved = actions.owned_saved_request(user=request.user, saved_id=saved_id)
    get_object_or_404(saved.files, pk=file_id).delete()
    return redirect("testing:saved_edit", saved_id=saved.pk)


def _edit_context(
    request: SignedInRequest,
    saved: SavedRequest,
    *,
    form: SavedRequestForm | None = None,
    files_form: KeptFileForm | None = None,
) -> dict:
    return {
        "saved": saved,
        "form": form
        or SavedRequestForm(instance=saved, user=request.user, portal_url=portal_url(request)),
        "files": shown_files(saved.files.all()),
        "files_form": files_form or KeptFileForm(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def saved_edit(request: SignedInRequest, saved_id: int) -> HttpResponse:
    saved = actions.owned_saved_request(user=request.user, saved_id=saved_id)
    form = SavedRequestForm(
        request.POST or None, instance=saved, user=request.user, portal_url=portal_url(request)
    )
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect(saved)
    return render(request, "testing/saved_edit.html", _edit_context(request, saved, form=form))


@login_required
@require_POST
def saved_replay(request: SignedInRequest, saved_id: int) -> HttpResponse:
    saved = actions.runnable_saved_request(user=request.user, saved_id=saved_id)
    context = _saved_context(request, saved)
    try:
        run, outcome = actions.replay_on_request(
            saved=saved, user=request.user, address=_address(request)
        )
    except TooManyCalls as error:
        return _too_many_calls(request, "testing/saved_detail.html", context, error)
    context["outcome"] = outcome
    context["diff"] = actions.shown_diff(outcome.diff)
    context["step"] = run.steps.first()
    context["outcome_body"] = render_exchange_body(outcome.exchange) if outcome.exchange else None
    return render(request, "testing/saved_detail.html", context)


@login_required
@require_POST
def step_as_baseline(request: SignedInRequest, step_id: int) -> HttpResponse:
    steps = RunStep.objects.filter(saved_request__collection__owner=request.user)
    step = get_object_or_404(steps.select_related("saved_request", "exchange"), pk=step_id)
    saved = step.saved_request
    assert saved is not None  # the filter above goes through it
    if step.exchange is not None and step.exchange.status_code is not None:
        replay.capture_baseline(saved=saved, exchange=step.exchange)
    return redirect(saved)


def _collection_context(request: SignedInRequest, collection: Collection) -> dict:
    return {
        "collection": collection,
        "requests": collection.requests.select_related("operation__api"),
        "runs": collection.runs.all()[:10],
        "is_owner": collection.owner_id == request.user.pk,
        "can_run": actions.can_run(user=request.user, collection=collection),
    }


def _saved_context(request: SignedInRequest, saved: SavedRequest) -> dict:
    operation = saved.operation
    return {
        "saved": saved,
        "callable": operation is not None
        and selectors.can_call(user=request.user, operation=operation),
        "gone": preparation.gone_message(saved),
        "server": actions.shown_server(saved=saved, user=request.user),
        "values": actions.shown_values(saved),
        "files": shown_files(saved.files.all()),
        "expected": actions.shown_expectations(saved),
        "is_owner": saved.collection.owner_id == request.user.pk,
        "can_run": actions.can_run(user=request.user, collection=saved.collection),
        # ?parts= is the baseline's Show more / Show all / Show less without script.
        "baseline_body": _baseline_body(saved, parts=request.GET.get("parts")),
    }


def _baseline_body(saved: SavedRequest, *, parts: str | None) -> RenderedBody:
    return render_body(
        body=bytes(saved.baseline_body),
        content_type=saved.baseline_content_type,
        parts=shown_parts(parts),
    )


def _readable_baseline(request: HttpRequest, saved_id: int) -> SavedRequest:
    """A saved request whose baseline the visitor may read: 404 for anyone else, the
    anonymous included (a body is never a sign-in page away)."""
    if not request.user.is_authenticated:
        raise Http404("No such saved request.")
    return actions.readable_saved_request(user=request.user, saved_id=saved_id)


@require_GET
def baseline_content(request: HttpRequest, saved_id: int) -> HttpResponse:
    """The baseline's body, as many parts as ?parts= asks (Show more, Show all, Show
    less), for whoever may read the saved request."""
    saved = _readable_baseline(request, saved_id)
    rendered = _baseline_body(saved, parts=request.GET.get("parts"))
    if rendered.kind not in ("json", "text"):
        raise Http404("The baseline has no text to show.")
    context = {"saved": saved, "baseline_body": rendered}
    return render(request, "testing/_baseline_content.html", context)


@require_GET
def baseline_body(request: HttpRequest, saved_id: int) -> HttpResponse:
    """The baseline's whole body as a download, for whoever may read the saved request."""
    saved = _readable_baseline(request, saved_id)
    filename = f"baseline-{saved.pk}{extension_for(saved.baseline_content_type)}"
    return attachment(body=bytes(saved.baseline_body), filename=filename)
