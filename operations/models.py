from django.conf import settings
from django.db import models
from django.urls import reverse

from httpcore.outbound import ErrorKind
from operations.validators import (
    validate_header_name,
    validate_service_url,
    validate_url_template,
)


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
    subscription_key_header = models.CharField(
        "subscription key header",
        max_length=100,
        default="Ocp-Apim-Subscription-Key",
        validators=[validate_header_name],
        help_text="Header in which gateway callers send their subscription key.",
    )
    subscription_key_query = models.CharField(
        "subscription key query parameter",
        max_length=100,
        default="subscription-key",
        help_text="Query parameter that may carry the key instead; the header wins when both "
        "are sent.",
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


class OperationQuerySet(models.QuerySet):
    def current(self) -> "OperationQuerySet":
        """Operations still in the API: not removed by a later import."""
        return self.filter(removed=False)


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
    # The OpenAPI operationId; an import matches operations by it, else by verb and path.
    operation_id = models.CharField("operationId", max_length=200, blank=True)
    deprecated = models.BooleanField(default=False)
    # Gone from the latest imported document: kept, so that saved requests can say so.
    removed = models.BooleanField(default=False)

    objects = OperationQuerySet.as_manager()

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
    # Documented from OpenAPI documents; the console never sends cookies.
    COOKIE = "cookie", "Cookie (documented, not sendable)"


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
    # The form's values with secrets masked, so that a call can be repeated; the
    # secret values themselves are kept encrypted beside them.
    values = models.JSONField(default=dict)
    secret_values = models.TextField(blank=True, help_text="Encrypted.")
    # Made with another user's secrets (a replay of a collection shared with the caller):
    # only the masked values are kept, and Save and Try again leave the secrets empty.
    secrets_withheld = models.BooleanField(default=False)
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


# --- Testers: saved requests, collections and runs ----------------------------------


class CollectionQuerySet(models.QuerySet):
    def readable_by(self, user) -> "CollectionQuerySet":
        """Collections the user owns or that are shared with one of their groups."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            models.Q(owner=user) | models.Q(shares__group__in=user.groups.all())
        ).distinct()

    def runnable_by(self, user) -> "CollectionQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            models.Q(owner=user)
            | models.Q(shares__group__in=user.groups.all(), shares__access=ShareAccess.RUN)
        ).distinct()


class Collection(models.Model):
    """An ordered list of saved requests, with variables, that runs as one."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Response headers left out of comparisons because they change on every call.
    ignored_headers = models.CharField(
        max_length=500,
        default="Date, Server, Content-Length, Set-Cookie, Expires, Last-Modified, ETag, "
        "Age, X-Request-Id",
        help_text="Comma-separated response headers that replays do not compare.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CollectionQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("operations:collection_detail", kwargs={"collection_id": self.pk})

    @property
    def ignored_header_names(self) -> set[str]:
        return {name.strip().lower() for name in self.ignored_headers.split(",") if name.strip()}


class ShareAccess(models.TextChoices):
    READ = "read", "Read"
    RUN = "run", "Read and run"


class CollectionShare(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="shares")
    group = models.ForeignKey("auth.Group", on_delete=models.CASCADE, related_name="+")
    access = models.CharField(max_length=10, choices=ShareAccess.choices, default=ShareAccess.READ)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["collection", "group"], name="unique_share_per_group")
        ]

    def __str__(self) -> str:
        return f"{self.collection} → {self.group} ({self.access})"


class CollectionVariable(models.Model):
    """A {{name}} usable in any field of the collection's requests.

    A secret variable's value is stored encrypted (operations.secrets).
    """

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="variables")
    name = models.CharField(max_length=100)
    value = models.TextField(blank=True)
    secret = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "name"], name="unique_variable_name")
        ]

    def __str__(self) -> str:
        return self.name


class SavedRequest(models.Model):
    """A request kept to be replayed: its values, never its built URL."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="requests")
    name = models.CharField(max_length=200)
    order = models.PositiveIntegerField(default=0)
    operation = models.ForeignKey(
        Operation, null=True, blank=True, on_delete=models.SET_NULL, related_name="saved_requests"
    )
    # "API: operation" at save time, to name an operation that is gone.
    operation_label = models.CharField(max_length=400)
    # {"template": {name: value}, "query": [[k, v]], "headers": [[name, value]], "body": str|None};
    # values of secret headers are encrypted (operations.secrets).
    values = models.JSONField(default=dict)
    expected_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # [{"kind": "header_present"|"header_equals"|"json_present"|"json_equals"|
    #   "body_contains"|"duration_under", "target": str, "value": str}]
    checks = models.JSONField(default=list, blank=True)
    # [{"variable": name, "source": "json"|"header", "path": "$.a.b" or header name}]
    extract = models.JSONField(default=list, blank=True)
    # Repeat the call until this check holds, e.g. {"kind": "json_equals",
    # "target": "$.StatusCode", "value": "Finished"}; bounded by max_tries.
    repeat_until = models.JSONField(null=True, blank=True)
    repeat_max_tries = models.PositiveSmallIntegerField(default=1)
    repeat_delay_seconds = models.FloatField(default=1.0)
    baseline_status = models.PositiveSmallIntegerField(null=True, blank=True)
    baseline_reason = models.CharField(max_length=200, blank=True)
    baseline_headers = models.JSONField(default=list, blank=True)
    baseline_body = models.BinaryField(default=b"", blank=True)
    baseline_content_type = models.CharField(max_length=200, blank=True)
    baseline_duration_ms = models.FloatField(null=True, blank=True)
    baseline_captured_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["collection", "order", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("operations:saved_detail", kwargs={"saved_id": self.pk})


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"


class Run(models.Model):
    """One replay of a saved request or of a whole collection."""

    collection = models.ForeignKey(
        Collection, null=True, blank=True, on_delete=models.CASCADE, related_name="runs"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    total_steps = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Run {self.pk} ({self.status})"


class RunStep(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    saved_request = models.ForeignKey(
        SavedRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="steps"
    )
    name = models.CharField(max_length=200)
    order = models.PositiveIntegerField(default=0)
    exchange = models.ForeignKey(Exchange, null=True, blank=True, on_delete=models.SET_NULL)
    passed = models.BooleanField(default=False)
    # [{"label": str, "passed": bool, "detail": str}]
    check_results = models.JSONField(default=list)
    # What changed against the baseline (operations.diffing.ResponseDiff as a dict).
    diff = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    tries = models.PositiveSmallIntegerField(default=0)
    duration_ms = models.FloatField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class PendingImport(models.Model):
    """An OpenAPI document uploaded in the admin, kept from its preview to its confirmation."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    filename = models.CharField(max_length=255, blank=True)
    document = models.BinaryField()
    api_slug = models.CharField(max_length=100, blank=True)
    service_url = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.filename or 'document'} ({self.created_at:%Y-%m-%d %H:%M})"
