"""The analytics page's filter form: the time range and, for the scope, the API,
operation, product and subscription (query parameters of a GET form)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import cast

from django import forms
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.utils import timezone

from analytics import ranges
from analytics.ranges import TimeRange
from analytics.selectors import Filters, sees_all_calls
from catalog.models import Api, Operation
from gateway.models import GatewayCall, Product, Subscription

CUSTOM = "custom"
RANGE_CHOICES = [
    *((key, name) for key, (name, _span) in ranges.PRESETS.items()),
    (CUSTOM, "Custom range"),
]
_DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class _SubscriptionChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, with_owner: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.with_owner = with_owner

    def label_from_instance(self, obj: Subscription) -> str:
        if self.with_owner:
            return f"{obj.name} ({obj.user.get_username()}, {obj.product.name})"
        return f"{obj.name} ({obj.product.name})"


class _OperationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Operation) -> str:
        return f"{obj.name} ({obj.method})"


def _datetime_field(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_DATETIME_LOCAL),
    )


class AnalyticsFilterForm(forms.Form):
    """Always bound (to the query string, defaults filled in), so the page can tell a
    bad value from a missing one. `from` and `to` are Python keywords, hence added in
    __init__."""

    range = forms.ChoiceField(label="Time range", choices=RANGE_CHOICES, required=False)
    api = forms.ModelChoiceField(
        label="API", queryset=Api.objects.none(), required=False, empty_label="All APIs"
    )
    operation = _OperationChoiceField(
        label="Operation",
        queryset=Operation.objects.none(),
        required=False,
        empty_label="All operations",
    )
    product = forms.ModelChoiceField(
        label="Product", queryset=Product.objects.none(), required=False, empty_label="All products"
    )

    def __init__(
        self, data: dict | None = None, *, user: User, now: datetime | None = None
    ) -> None:
        data = data.copy() if data is not None else {}
        if not data.get("range") and not (data.get("from") or data.get("to")):
            data["range"] = ranges.DEFAULT_PRESET
        super().__init__(data)
        self.user = user
        self.now = now or timezone.now()
        self.staff = sees_all_calls(user=user)
        self.fields["from"] = _datetime_field("From")
        self.fields["to"] = _datetime_field("To")
        cast(forms.ModelChoiceField, self.fields["api"]).queryset = self._apis()
        cast(forms.ModelChoiceField, self.fields["product"]).queryset = self._products()
        self.fields["subscription"] = _SubscriptionChoiceField(
            label="Subscription",
            queryset=self._subscriptions(),
            required=False,
            empty_label="All subscriptions",
            with_owner=self.staff,
        )
        self._limit_operations(data.get("api"))

    def _own_calls(self) -> QuerySet[GatewayCall]:
        return GatewayCall.objects.of_user(self.user).order_by()

    def _apis(self) -> QuerySet[Api]:
        if self.staff:
            return Api.objects.order_by("name")
        called = self._own_calls().exclude(api=None).values("api_id")
        return Api.objects.filter(Q(published=True) | Q(pk__in=called)).order_by("name")

    def _products(self) -> QuerySet[Product]:
        if self.staff:
            return Product.objects.order_by("order", "name")
        subscribed = Subscription.objects.owned_by(self.user).values("product_id")
        return Product.objects.filter(Q(published=True) | Q(pk__in=subscribed)).order_by(
            "order", "name"
        )

    def _subscriptions(self) -> QuerySet[Subscription]:
        subscriptions = Subscription.objects.select_related("product", "user")
        if not self.staff:
            subscriptions = subscriptions.owned_by(self.user)
        return subscriptions.order_by("name", "pk")

    def _limit_operations(self, api_value: object) -> None:
        """The operation select lists the chosen API's operations. Without an API the
        list would be every operation of every API, so the choice is not offered then,
        though a link naming an operation still works."""
        field = cast(forms.ModelChoiceField, self.fields["operation"])
        api = None
        if isinstance(api_value, str) and re.fullmatch(r"[0-9]{1,18}", api_value):
            apis = cast(forms.ModelChoiceField, self.fields["api"]).queryset
            api = apis.filter(pk=int(api_value)).first() if apis is not None else None
        if api is not None:
            field.queryset = Operation.objects.filter(api=api).order_by("order", "name")
        else:
            field.queryset = Operation.objects.select_related("api")
            field.widget = forms.HiddenInput()
            self.operation_needs_api = True
            return
        self.operation_needs_api = False

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        # No range but a From or To: the custom range those describe.
        custom = CUSTOM if cleaned.get("from") or cleaned.get("to") else ""
        cleaned["range"] = cleaned.get("range") or custom or ranges.DEFAULT_PRESET
        if cleaned["range"] == CUSTOM:
            self._check_custom_range(cleaned)
        return cleaned

    def _check_custom_range(self, cleaned: dict) -> None:
        start, end = cleaned.get("from"), cleaned.get("to")
        if "from" in self.errors or "to" in self.errors:
            return
        if start is None or end is None:
            self.add_error(None, "A custom range needs both a From and a To time.")
        elif start >= end:
            self.add_error("to", "The end of the range must come after its start.")
        elif end - start > ranges.MAX_RANGE:
            days = ranges.MAX_RANGE.days
            self.add_error("to", f"A range can span at most {days} days.")

    def time_range(self) -> TimeRange:
        if self.cleaned_data["range"] == CUSTOM:
            return TimeRange(start=self.cleaned_data["from"], end=self.cleaned_data["to"])
        return ranges.preset_range(preset=self.cleaned_data["range"], now=self.now)

    def filters(self) -> Filters:
        return Filters(
            time_range=self.time_range(),
            api=self.cleaned_data.get("api"),
            operation=self.cleaned_data.get("operation"),
            product=self.cleaned_data.get("product"),
            subscription=self.cleaned_data.get("subscription"),
        )
