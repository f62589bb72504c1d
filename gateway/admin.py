"""Admin for products, subscriptions (decided through gateway/subscriptions.py) and calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from gateway import subscriptions
from gateway.models import GatewayCall, KeySlot, Product, Subscription, SubscriptionState
from gateway.products import limits_in_words
from gateway.subscriptions import SubscriptionError

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "published",
        "subscription_required",
        "approval_required",
        "limits",
        "active_subscriptions",
        "pending_subscriptions",
        "order",
    )
    list_editable = ("order",)
    list_filter = ("published", "approval_required", "subscription_required")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("apis",)
    fieldsets = (
        (None, {"fields": ("name", "slug", "description", "apis", "published", "order")}),
        (
            "Access",
            {
                "fields": ("subscription_required", "approval_required", "terms"),
                "description": "Developers accept the terms, when there are any, to subscribe.",
            },
        ),
        (
            "Limits",
            {
                "fields": (
                    ("rate_limit_calls", "rate_limit_period_seconds"),
                    ("quota_calls", "quota_period_seconds"),
                ),
                "description": "Per subscription. The rate slides over its period (the gateway "
                "answers 429 past it); the quota counts calls per fixed period (403 past it). "
                "0 calls means no limit.",
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                active_count=Count(
                    "subscriptions", filter=Q(subscriptions__state=SubscriptionState.ACTIVE)
                ),
                pending_count=Count(
                    "subscriptions", filter=Q(subscriptions__state=SubscriptionState.SUBMITTED)
                ),
            )
        )

    @admin.display(description="limits")
    def limits(self, product: Product) -> str:
        return limits_in_words(product=product)

    @admin.display(description="active subscriptions", ordering="active_count")
    def active_subscriptions(self, product: Product) -> int:
        return product.active_count

    @admin.display(description="awaiting approval", ordering="pending_count")
    def pending_subscriptions(self, product: Product) -> int:
        return product.pending_count


def _state_action(
    action: str, *, done: str
) -> Callable[[SubscriptionAdmin, HttpRequest, QuerySet[Subscription]], None]:
    """An admin action that takes each selected subscription through one transition."""
    change = getattr(subscriptions, action)

    def run(model_admin: SubscriptionAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        changed, skipped = 0, []
        for subscription in queryset.select_related("product", "user"):
            try:
                change(subscription=subscription, by=request.user)
            except SubscriptionError as error:
                skipped.append(f"“{subscription.name}” ({error})")
            else:
                changed += 1
        model_admin.message_user(
            request,
            f"{done.capitalize()} {changed} subscription{'s' if changed != 1 else ''}.",
            messages.SUCCESS if changed else messages.INFO,
        )
        if skipped:
            model_admin.message_user(
                request,
                f"Skipped {len(skipped)}: {'; '.join(skipped)}",
                messages.WARNING,
            )

    run.__name__ = action
    return admin.action(description=action.capitalize())(run)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "product", "state", "created_at", "state_changed_at")
    list_filter = ("state", "product")
    list_select_related = ("user", "product")
    search_fields = ("name", "user__username", "user__email")
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)
    actions = (
        _state_action("approve", done="approved"),
        _state_action("reject", done="rejected"),
        _state_action("suspend", done="suspended"),
        _state_action("reactivate", done="reactivated"),
        _state_action("cancel", done="cancelled"),
    )
    readonly_fields = (
        "primary_key_masked",
        "secondary_key_masked",
        "created_at",
        "activated_at",
        "state_changed_at",
    )

    def get_fields(self, request: HttpRequest, obj: Subscription | None = None) -> _FieldGroups:
        fields: list[str | list[str] | tuple[str, ...]] = [
            "user",
            "product",
            "name",
            "state",
            "state_comment",
        ]
        if obj is not None:
            fields += list(self.readonly_fields)
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Subscription | None = None):
        # A state changes through the actions, which check the transition; a new
        # subscription may start in any state.
        if obj is None:
            return ()
        return ("user", "product", "state", *self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: Subscription, form, change: bool) -> None:
        if not change:
            obj.state_changed_at = timezone.now()
            if obj.state == SubscriptionState.ACTIVE:
                obj.activated_at = obj.state_changed_at
        super().save_model(request, obj, form, change)

    @admin.display(description="primary key")
    def primary_key_masked(self, subscription: Subscription) -> str:
        return subscription.masked_key(KeySlot.PRIMARY)

    @admin.display(description="secondary key")
    def secondary_key_masked(self, subscription: Subscription) -> str:
        return subscription.masked_key(KeySlot.SECONDARY)


@admin.register(GatewayCall)
class GatewayCallAdmin(admin.ModelAdmin):
    """Calls are facts: admins read them, nobody writes them by hand."""

    list_display = (
        "created_at",
        "method",
        "path",
        "outcome",
        "status_code",
        "duration_ms",
        "api",
        "product",
        "subscription",
        "user",
    )
    list_filter = ("outcome", "source", "api", "product")
    list_select_related = ("api", "product", "subscription", "user")
    search_fields = ("path", "subscription__name", "user__username")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: GatewayCall | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: GatewayCall | None = None) -> bool:
        return False
