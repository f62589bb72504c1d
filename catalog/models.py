from django.db import models
from django.urls import reverse

from catalog.json_text import JSONTextField
from catalog.validators import validate_header_name, validate_service_url, validate_url_template


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
    # The imported document's shared definitions, normalised to OpenAPI 3 ({"openapi":
    # version, "components": {"schemas", "securitySchemes"}}): what the operations'
    # schema references point into (docs/design.md, "Documented schemas").
    openapi = JSONTextField("OpenAPI definitions", default=dict, blank=True)
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
        return reverse("catalog:api_detail", kwargs={"api_slug": self.slug})


class ApiServer(models.Model):
    """Another base URL the API is served at (the imported `servers`), which a developer
    may pick in Try it instead of the service URL."""

    api = models.ForeignKey(Api, on_delete=models.CASCADE, related_name="servers")
    url = models.CharField("URL", max_length=500, validators=[validate_service_url])
    description = models.CharField(max_length=200, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["api", "url"], name="unique_server_url_per_api")
        ]

    def __str__(self) -> str:
        return self.url


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
    # The imported operation object, normalised to OpenAPI 3 (parameters, requestBody,
    # responses, security), its schemas' $refs pointing into the API's definitions.
    openapi = JSONTextField("OpenAPI operation", default=dict, blank=True)

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
            "console:operation_detail",
            kwargs={"api_slug": self.api.slug, "operation_slug": self.slug},
        )

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]

    @property
    def takes_body(self) -> bool:
        """POST, PUT and PATCH; DELETE and OPTIONS when the document gives them a body
        (GET and HEAD bodies have no defined meaning, and are never sent)."""
        if self.method in METHODS_WITH_BODY:
            return True
        documented = isinstance(self.openapi, dict) and bool(self.openapi.get("requestBody"))
        return documented and self.method in {HttpMethod.DELETE, HttpMethod.OPTIONS}


class ParameterLocation(models.TextChoices):
    TEMPLATE = "template", "URL template (path or query)"
    QUERY = "query", "Query string"
    HEADER = "header", "Header"
    # Sent in one Cookie header (docs/design.md, "Cookies").
    COOKIE = "cookie", "Cookie"


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
