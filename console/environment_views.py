"""The environment pages (list, new, edit, delete) and Save as variable."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console import environments
from console.environment_forms import EnvironmentForm, VariableFormSet, variable_initial
from console.models import Environment, Exchange
from portal.typed_requests import SignedInRequest


@login_required
@require_GET
def environment_list(request: SignedInRequest) -> HttpResponse:
    listed = environments.environments_of(user=request.user)
    return render(request, "console/environment_list.html", {"environments": listed})


def _edit(request: SignedInRequest, environment: Environment | None) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = EnvironmentForm(data, instance=environment, owner=request.user)
    variables = VariableFormSet(data, initial=variable_initial(environment), prefix="var")
    if data is not None and form.is_valid() and variables.is_valid():
        saved = form.save(commit=False)
        saved.owner = request.user
        saved.variables = variables.variables()
        saved.save()
        return redirect("console:environment_list")
    context = {"form": form, "variables": variables, "environment": environment}
    return render(request, "console/environment_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def environment_new(request: SignedInRequest) -> HttpResponse:
    return _edit(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def environment_edit(request: SignedInRequest, environment_id: int) -> HttpResponse:
    environment = environments.owned_environment(user=request.user, environment_id=environment_id)
    return _edit(request, environment)


@login_required
@require_POST
def environment_delete(request: SignedInRequest, environment_id: int) -> HttpResponse:
    environment = environments.owned_environment(user=request.user, environment_id=environment_id)
    environment.delete()
    return redirect("console:environment_list")


@login_required
@require_POST
def save_variable(request: SignedInRequest, exchange_id: int) -> HttpResponse:
    """One value of the exchange's response saved as a variable: read from the stored
    exchange, never from the browser."""
    exchange = get_object_or_404(Exchange.objects.filter(owner=request.user), pk=exchange_id)
    environment = environments.owned_environment(
        user=request.user, environment_id=request.POST.get("environment", "")
    )
    key, name = request.POST.get("key", ""), request.POST.get("name", "").strip()
    context: dict = {"key": key, "name": name, "environment": environment}
    try:
        value = environments.value_from_exchange(exchange=exchange, key=key)
        context["secret"] = environments.set_variable(
            environment=environment, name=name, value=value
        )
    except environments.SaveRefused as error:
        context["error"] = str(error)
        # 200: htmx swaps in only a 2xx answer (base.html), and the form shows the error.
        return render(request, "console/_saved_variable.html", context)
    return render(request, "console/_saved_variable.html", context)
