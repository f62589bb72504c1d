"""The subscribe form of a product's page."""

from __future__ import annotations

from django import forms

from gateway.models import Product
from gateway.subscriptions import NAME_MAX_LENGTH


class SubscribeForm(forms.Form):
    name = forms.CharField(
        label="Subscription name",
        max_length=NAME_MAX_LENGTH,
        help_text="Tells your subscriptions apart, e.g. by application or environment.",
    )
    accept_terms = forms.BooleanField(label="I accept the terms of use", required=False)

    def __init__(self, *args, product: Product, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.product = product
        if product.terms:
            self.fields["accept_terms"].required = True
            self.fields["accept_terms"].error_messages["required"] = (
                "Accept the terms of use to subscribe."
            )
        else:
            del self.fields["accept_terms"]
