from django.conf import settings
from django.db import models
from django.urls import reverse

from operations.validators import validate_service_url, validate_url_template


class ApiQuerySet(models.QuerySet):
    def published(self) -> "ApiQuerySet":
        return self.filter(published=True)

    def matching(self, text: str) -> "ApiQuerySet":
        """APIs whose name, description or operation names contain the text."""
        text = text.strip()
        if not text:
            return self
        return self.filter(
            models.Q(name__icontains=text)
            | models.Q(description__icontains=text)
            | models.Q(operations__name__icontains=text)
        ).distinct()


class Api(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True, help_text="Markdown.")
    # A CharField: URLField's form field would quietly prepend a scheme to what an
    # admin typed, while the validator below says exactly what is wrong.
    service_url = models.CharField(
        "service URL",
        max_length=500,
        validators=[validate_service_url],
        help_text="Base URL of the backend, e.g. https://api.example.com/v1. Operation templates "
        "are appended to it.",
    )
    url_suffix = models.CharField(
        "URL suffix",
        max_length=100,
        blank=True,
        help_text="Path under which the API is published, e.g. azureml-demo.",
    )
    version = models.CharField(max_length=50, blank=True)
    published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ApiQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "API"
        verbose_name_plural = "APIs"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("operations:api_detail", kwargs={"api_slug": self.slug})


class HttpMethod(models.TextChoices):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"
    HEAD = "HEAD"
    OPTIONS = "OPTIONS"


# Methods whose requests carry a body in the Try it form.
METHODS_WITH_BODY = frozenset({HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH})


class Operation(models.Model):
    api = models.ForeignKey(
        Api, on_delete=models.CASCADE, related_name="operations", verbose_name="API"
    )
    name = models.CharField("display name", max_length=200)
    slug = models.SlugField(max_length=100)
    method = models.CharField(
        "HTTP verb", max_length=10, choices=HttpMethod.choices, default=HttpMethod.GET
    )
    url_template = models.CharField(
        "URL template",
        max_length=1000,
        validators=[validate_url_template],
        help_text="Appended to the service URL, e.g. "
        "/workspaces/{workspace}/services/{service}/execute?api-version={apiversion}",
    )
    description = models.TextField(blank=True, help_text="Markdown.")
    request_content_type = models.CharField(max_length=100, blank=True, default="application/json")
    body_example = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)
    tags = models.CharField(max_length=200, blank=True, help_text="Comma-separated.")

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["api", "slug"], name="unique_operation_slug_per_api")
        ]

    def __str__(self) -> str:
        return f"{self.api.name}: {self.name}"

    def get_absolute_url(self) -> str:
        return reverse(
            "operations:operation_detail",
            kwargs={"api_slug": self.api.slug, "operation_slug": self.slug},
        )

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]

    @property
    def takes_body(self) -> bool:
        return self.method in METHODS_WITH_BODY


class ParameterLocation(models.TextChoices):
    TEMPLATE = "template", "URL template (path or query)"
    QUERY = "query", "Query string"
    HEADER = "header", "Header"


class ParameterType(models.TextChoices):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"


class Parameter(models.Model):
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="parameters")
    name = models.CharField(max_length=200)
    location = models.CharField(
        max_length=10, choices=ParameterLocation.choices, default=ParameterLocation.TEMPLATE
    )
    required = models.BooleanField(default=False)
    default = models.CharField(max_length=2000, blank=True)
    allowed_values = models.TextField(blank=True, help_text="One value per line; empty for any.")
    type = models.CharField(max_length=10, choices=ParameterType.choices, default="string")
    description = models.TextField(blank=True)
    secret = models.BooleanField(
        default=False, help_text="Masked in history, pages and logs (keys, tokens)."
    )
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["operation", "location", "name"], name="unique_parameter_per_location"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def choices(self) -> list[str]:
        return [value.strip() for value in self.allowed_values.splitlines() if value.strip()]


class ResponseDoc(models.Model):
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="responses")
    status_code = models.PositiveSmallIntegerField()
    description = models.TextField(blank=True)
    content_type = models.CharField(max_length=100, blank=True, default="application/json")
    example = models.TextField(blank=True)

    class Meta:
        ordering = ["status_code", "id"]
        verbose_name = "documented response"

    def __str__(self) -> str:
        return str(self.status_code)


class ErrorKind(models.TextChoices):
    """How a call failed; the values are outbound.ErrorKind's."""

    INVALID_INPUT = "invalid_input", "Invalid request"
    BLOCKED = "blocked_destination", "Blocked destination"
    DNS = "dns", "Name does not resolve"
    CONNECT = "connect", "Connection failed"
    TIMEOUT = "timeout", "Timed out"
    TLS = "tls", "TLS failure"
    RESET = "reset", "Connection reset"
    TOO_LARGE = "too_large", "Too large"
    PROTOCOL = "protocol", "Protocol error"


class ExchangeQuerySet(models.QuerySet):
    def visible_to(self, *, user, session_key: str | None) -> "ExchangeQuerySet":
        if user is not None and user.is_authenticated:
            return self.filter(owner=user)
        if not session_key:
            return self.none()
        return self.filter(owner__isnull=True, session_key=session_key)


class Exchange(models.Model):
    """One call sent from the portal: what went out and what came back (or why not)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    session_key = models.CharField(max_length=64, blank=True, db_index=True)
    operation = models.ForeignKey(Operation, null=True, blank=True, on_delete=models.SET_NULL)
    operation_name = models.CharField(max_length=400)
    # The form's values with secrets masked, so that a call can be repeated.
    values = models.JSONField(default=dict)
    method = models.CharField(max_length=10)
    url = models.TextField()
    request_headers = models.JSONField(default=list, help_text="[name, value] pairs, masked.")
    request_body = models.TextField(blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    response_headers = models.JSONField(default=list, help_text="[name, value] pairs, masked.")
    response_body = models.BinaryField(default=b"")
    response_content_type = models.CharField(max_length=200, blank=True)
    response_size = models.PositiveBigIntegerField(default=0)
    truncated = models.BooleanField(default=False)
    duration_ms = models.FloatField(default=0)
    error_kind = models.CharField(max_length=30, blank=True, choices=ErrorKind.choices)
    error_message = models.TextField(blank=True)

    objects = ExchangeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.method} {self.url}"

    @property
    def failed(self) -> bool:
        return bool(self.error_kind)
