"""Products, subscribing, and a developer's subscriptions with their keys."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gateway import products, subscriptions
from gateway.forms import SubscribeForm
from gateway.models import Product, Subscription, SubscriptionState
from gateway.subscriptions import SubscriptionError
from portal.typed_requests import SignedInRequest


@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    cards = products.product_cards(user=request.user)
    return render(request, "gateway/products.html", {"cards": cards})


@require_GET
def product_detail(request: HttpRequest, product_slug: str) -> HttpResponse:
    product = products.get_product(user=request.user, product_slug=product_slug)
    form = None
    if request.user.is_authenticated:
        name = subscriptions.default_subscription_name(product=product, user=request.user)
        form = SubscribeForm(product=product, initial={"name": name})
    return render(request, "gateway/product_detail.html", _product_context(request, product, form))


@require_POST
def subscribe(request: HttpRequest, product_slug: str) -> HttpResponse:
    product = products.get_product(user=request.user, product_slug=product_slug)
    if not request.user.is_authenticated:
        return redirect_to_login(product.get_absolute_url())
    form = SubscribeForm(request.POST, product=product)
    if form.is_valid():
        try:
            subscription = subscriptions.subscribe(
                user=request.user,
                product=product,
                name=form.cleaned_data["name"],
                accepted_terms=form.cleaned_data.get("accept_terms", False),
            )
        except SubscriptionError as error:
            form.add_error(None, str(error))
        else:
            _tell_subscribed(request, subscription)
            return redirect("gateway:subscription_detail", subscription_id=subscription.pk)
    return render(request, "gateway/product_detail.html", _product_context(request, product, form))


@login_required
@require_GET
def subscription_list(request: SignedInRequest) -> HttpResponse:
    rows = products.subscription_rows(user=request.user)
    return render(request, "gateway/subscriptions.html", {"rows": rows})


@login_required
@require_GET
def subscription_detail(request: SignedInRequest, subscription_id: int) -> HttpResponse:
    subscription = products.owned_subscription(user=request.user, subscription_id=subscription_id)
    return _detail_page(request, subscription)


@never_cache
@login_required
@require_GET
def subscription_key(request: SignedInRequest, subscription_id: int, slot: str) -> HttpResponse:
    """One key in the clear, fetched when its owner presses Show or Copy; never cached."""
    subscription = products.owned_subscription(user=request.user, subscription_id=subscription_id)
    key_slot = products.key_slot(slot)
    if subscription.state != SubscriptionState.ACTIVE:
        error = f"The subscription is {subscription.get_state_display()}: its keys are not shown."
        return JsonResponse({"error": error}, status=409)
    return JsonResponse({"slot": key_slot.value, "key": subscription.key(key_slot)})


@login_required
@require_http_methods(["GET", "POST"])
def regenerate_key(request: SignedInRequest, subscription_id: int, slot: str) -> HttpResponse:
    """GET asks for confirmation (the page without JavaScript); POST makes the new key."""
    subscription = products.owned_subscription(user=request.user, subscription_id=subscription_id)
    key_slot = products.key_slot(slot)
    if request.method == "GET":
        return _confirm_page(request, subscription, action="regenerate", slot=key_slot.value)
    try:
        subscriptions.regenerate_key(subscription=subscription, slot=key_slot)
    except SubscriptionError as error:
        return _detail_page(request, subscription, error=str(error), status=409)
    messages.success(
        request,
        f"The {key_slot.label} key of “{subscription.name}” is new: the old one no longer works.",
    )
    return redirect(_next_page(request, subscription))


@login_required
@require_http_methods(["GET", "POST"])
def cancel_subscription(request: SignedInRequest, subscription_id: int) -> HttpResponse:
    subscription = products.owned_subscription(user=request.user, subscription_id=subscription_id)
    if request.method == "GET":
        return _confirm_page(request, subscription, action="cancel", slot="")
    try:
        subscriptions.cancel(subscription=subscription, by=request.user)
    except SubscriptionError as error:
        return _detail_page(request, subscription, error=str(error), status=409)
    messages.success(request, f"“{subscription.name}” is cancelled: its keys no longer work.")
    return redirect(_next_page(request, subscription))


def _product_context(
    request: HttpRequest, product: Product, form: SubscribeForm | None
) -> dict[str, object]:
    return {
        "product": product,
        "limits": products.limits_in_words(product=product),
        "apis": product.shown_apis,
        "form": form,
        "my_subscriptions": products.user_subscriptions_of(user=request.user, product=product),
    }


def _tell_subscribed(request: HttpRequest, subscription: Subscription) -> None:
    if subscription.state == SubscriptionState.ACTIVE:
        messages.success(
            request, f"You are subscribed to {subscription.product.name}: your keys work now."
        )
    else:
        messages.info(
            request,
            f"Your subscription to {subscription.product.name} awaits approval by an "
            "administrator. Its keys appear here once it is approved.",
        )


def _detail_page(
    request: HttpRequest, subscription: Subscription, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "row": products.subscription_row(subscription=subscription),
        "apis": products.published_apis_of(product=subscription.product),
        "error": error,
    }
    return render(request, "gateway/subscription_detail.html", context, status=status)


def _confirm_page(
    request: HttpRequest, subscription: Subscription, *, action: str, slot: str
) -> HttpResponse:
    context = {
        "subscription": subscription,
        "action": action,
        "slot": slot,
        "allowed": subscriptions.can(action=action, subscription=subscription),
        "next": _next_page(request, subscription),
    }
    return render(request, "gateway/subscription_confirm.html", context)


def _next_page(request: HttpRequest, subscription: Subscription) -> str:
    """Back to the page the button was on (the list or the detail), if it is ours."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("gateway:subscription_detail", kwargs={"subscription_id": subscription.pk})
