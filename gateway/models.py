"""Products group APIs; developers subscribe to them and call the APIs through the gateway."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from gateway.keys import generate_key, hash_key, mask_key
from portal.secrets import decrypt, encrypt

if TYPE_CHECKING:
    from catalog.models import Api


class ProductQuerySet(models.QuerySet):
    def published(self) -> ProductQuerySet:
        return self.filter(published=True)


class QuotaPeriod(models.IntegerChoices):
    HOUR = 3600, "hour"
    DAY = 86400, "day"
    WEEK = 7 * 86400, "week"
    MONTH = 30 * 86400, "30 days"


class Product(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True, help_text="Markdown.")
    terms = models.TextField(
        "terms of use", blank=True, help_text="Shown to developers before they subscribe."
    )
    apis = models.ManyToManyField("operations.Api", related_name="products", blank=True)
    published = models.BooleanField(default=True)
    subscription_required = models.BooleanField(
        default=True,
        help_text="Gateway calls to its APIs need a subscription key.",
    )
    approval_required = models.BooleanField(
        default=False, help_text="An admin approves each new subscription before it works."
    )
    rate_limit_calls = models.PositiveIntegerField(
        "rate limit (calls)", default=0, help_text="Calls per rate period, sliding; 0 for none."
    )
    rate_limit_period_seconds = models.PositiveIntegerField("rate period (seconds)", default=60)
    quota_calls = models.PositiveIntegerField(
        "quota (calls)", default=0, help_text="Calls per quota period, fixed; 0 for none."
    )
    quota_period_seconds = models.PositiveIntegerField(
        "quota period", choices=QuotaPeriod.choices, default=QuotaPeriod.WEEK
    )
    order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    # Set on the products of querysets that ask for them: the published APIs a visitor may
    # see (gateway.products.visible_products), the subscription counts (the admin's list).
    shown_apis: list[Api]
    active_count: int
    pending_count: int

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("gateway:product_detail", kwargs={"product_slug": self.slug})


class SubscriptionState(models.TextChoices):
    SUBMITTED = "submitted", "awaiting approval"
    ACTIVE = "active", "active"
    SUSPENDED = "suspended", "suspended"
    CANCELLED = "cancelled", "cancelled"
    REJECTED = "rejected", "rejected"


class SubscriptionQuerySet(models.QuerySet):
    def owned_by(self, user: models.Model) -> SubscriptionQuerySet:
        return self.filter(user=user)

    def active(self) -> SubscriptionQuerySet:
        return self.filter(state=SubscriptionState.ACTIVE)

    def with_key_hash(self, key_hash: str) -> SubscriptionQuerySet:
        return self.filter(
            models.Q(primary_key_hash=key_hash) | models.Q(secondary_key_hash=key_hash)
        )


class KeySlot(models.TextChoices):
    PRIMARY = "primary", "primary"
    SECONDARY = "secondary", "secondary"


SUBSCRIPTION_NAME_MAX_LENGTH = 200


class Subscription(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="subscriptions")
    name = models.CharField(max_length=SUBSCRIPTION_NAME_MAX_LENGTH)
    state = models.CharField(
        max_length=10, choices=SubscriptionState.choices, default=SubscriptionState.SUBMITTED
    )
    state_comment = models.TextField(blank=True, help_text="Why the state last changed.")
    primary_key_hash = models.CharField(max_length=64, unique=True, editable=False)
    secondary_key_hash = models.CharField(max_length=64, unique=True, editable=False)
    primary_key_encrypted = models.TextField(editable=False)
    secondary_key_encrypted = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    state_changed_at = models.DateTimeField(default=timezone.now)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.product})"

    def save(self, *args, **kwargs) -> None:
        if not self.primary_key_hash:
            self.set_key(KeySlot.PRIMARY)
        if not self.secondary_key_hash:
            self.set_key(KeySlot.SECONDARY)
        super().save(*args, **kwargs)

    def set_key(self, slot: KeySlot | str) -> str:
        """A new random key for the slot; the caller saves. Returns the key."""
        key = generate_key()
        setattr(self, f"{slot}_key_hash", hash_key(key))
        setattr(self, f"{slot}_key_encrypted", encrypt(key))
        return key

    def key(self, slot: KeySlot | str) -> str:
        return decrypt(getattr(self, f"{slot}_key_encrypted"))

    def masked_key(self, slot: KeySlot | str) -> str:
        return mask_key(self.key(slot))


class CallSource(models.TextChoices):
    GATEWAY = "gateway", "gateway"
    TRY_IT = "tryit", "Try it"
    REPLAY = "replay", "replay"


class CallOutcome(models.TextChoices):
    FORWARDED = "forwarded", "forwarded"
    BACKEND_ERROR = "backend_error", "backend error"
    NO_KEY = "no_key", "no subscription key"
    INVALID_KEY = "invalid_key", "invalid subscription key"
    INACTIVE_SUBSCRIPTION = "inactive_subscription", "subscription not active"
    RATE_LIMITED = "rate_limited", "rate limit exceeded"
    QUOTA_EXCEEDED = "quota_exceeded", "quota exceeded"
    NOT_FOUND = "not_found", "no such operation"
    BAD_REQUEST = "bad_request", "bad request"


class GatewayCallQuerySet(models.QuerySet):
    def between(self, start, end) -> GatewayCallQuerySet:
        return self.filter(created_at__gte=start, created_at__lt=end)

    def of_user(self, user: models.Model) -> GatewayCallQuerySet:
        return self.filter(user=user)


class GatewayCall(models.Model):
    """One call through the gateway (or Try it through it): what analytics count."""

    created_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=10, choices=CallSource.choices, default=CallSource.GATEWAY)
    api = models.ForeignKey(
        "operations.Api", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    operation = models.ForeignKey(
        "operations.Operation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gateway_calls",
    )
    method = models.CharField(max_length=10)
    path = models.TextField(help_text="As called, with the subscription key and secrets masked.")
    outcome = models.CharField(max_length=25, choices=CallOutcome.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error_kind = models.CharField(max_length=30, blank=True)
    duration_ms = models.FloatField(default=0, help_text="The whole call, as the client saw it.")
    backend_duration_ms = models.FloatField(null=True, blank=True)
    request_bytes = models.PositiveBigIntegerField(default=0)
    response_bytes = models.PositiveBigIntegerField(default=0)
    client_address = models.GenericIPAddressField(null=True, blank=True)

    objects = GatewayCallQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_at"]),
            models.Index(fields=["api", "created_at"]),
            models.Index(fields=["operation", "created_at"]),
            models.Index(fields=["product", "created_at"]),
            models.Index(fields=["subscription", "created_at"]),
            models.Index(fields=["user", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status_code or self.outcome}"


class TryItChoice(models.Model):
    """The subscription a user last sent Try it calls to an API with; none for "(none)".

    The operation pages of the API open with it selected while it is still one of the
    user's active subscriptions for the API (gateway.tryit_choice).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    api = models.ForeignKey("operations.Api", on_delete=models.CASCADE, related_name="+")
    # A deleted subscription takes the choice with it: the page falls back to the rule.
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "api"], name="gateway_tryitchoice_user_api")
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.api}: {self.subscription or '(none)'}"
