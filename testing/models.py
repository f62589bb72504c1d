from django.conf import settings
from django.db import models
from django.urls import reverse

from catalog.models import Operation
from console.models import Exchange


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
        app_label = "operations"
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("testing:collection_detail", kwargs={"collection_id": self.pk})

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
        app_label = "operations"
        constraints = [
            models.UniqueConstraint(fields=["collection", "group"], name="unique_share_per_group")
        ]

    def __str__(self) -> str:
        return f"{self.collection} → {self.group} ({self.access})"


class CollectionVariable(models.Model):
    """A {{name}} usable in any field of the collection's requests.

    A secret variable's value is stored encrypted (portal.secrets).
    """

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="variables")
    name = models.CharField(max_length=100)
    value = models.TextField(blank=True)
    secret = models.BooleanField(default=False)

    class Meta:
        app_label = "operations"
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
    # {"template": {name: value}, "query": [[k, v]], "headers": [[name, value]],
    #  "cookies": [[name, value]], "body": str|None}; values of secret headers and
    # cookies are encrypted (portal.secrets).
    values = models.JSONField(default=dict)
    # The server it is sent to, as Exchange.server and server_url keep it.
    server = models.CharField(max_length=20, blank=True)
    server_url = models.CharField(max_length=500, blank=True)
    expected_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # [{"kind": "header_present"|"header_equals"|"json_present"|"json_equals"|
    #   "body_contains"|"duration_under"|"schema", "target": str, "value": str}]
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
        app_label = "operations"
        ordering = ["collection", "order", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("testing:saved_detail", kwargs={"saved_id": self.pk})


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
        app_label = "operations"
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
    # What changed against the baseline (testing.diffing.ResponseDiff as a dict).
    diff = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    tries = models.PositiveSmallIntegerField(default=0)
    duration_ms = models.FloatField(default=0)

    class Meta:
        app_label = "operations"
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name
