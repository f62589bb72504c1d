from django.conf import settings
from django.db import models

from catalog.models import Operation
from httpcore.errors import ErrorKind


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
    # The Server select's choice it was sent to (console/servers.py: "gateway",
    # "service" or a catalog.ApiServer id; "" before choices were recorded, the first
    # one), and that server's URL then, to say which one when it is gone.
    server = models.CharField(max_length=20, blank=True)
    server_url = models.CharField(max_length=500, blank=True)
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
        app_label = "operations"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.method} {self.url}"

    @property
    def failed(self) -> bool:
        return bool(self.error_kind)


class Environment(models.Model):
    """A developer's named set of variables, usable as {{name}} in any Try it field.

    variables: [{"name", "value", "secret"}]; a secret value is kept encrypted
    (portal.secrets)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="environments"
    )
    name = models.CharField(max_length=100)
    variables = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "operations"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_environment_name")
        ]

    def __str__(self) -> str:
        return self.name


# --- Testers: saved requests, collections and runs ----------------------------------


class KeptFile(models.Model):
    """A file a call sent (a multipart file part, a file body), kept so that Save, Try
    again and replays send it again: with the Exchange of the call, or with the
    SavedRequest it was saved as. Its bytes are KeptFileChunks, written and read a chunk
    at a time (console/kept_files.py)."""

    exchange = models.ForeignKey(
        Exchange, null=True, blank=True, on_delete=models.CASCADE, related_name="files"
    )
    saved_request = models.ForeignKey(
        "operations.SavedRequest",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="files",
    )
    # The Try it field it was sent from: "part-<name>" or "file".
    field = models.CharField(max_length=300)
    name = models.CharField(max_length=200)  # httpcore.multipart.safe_filename
    content_type = models.CharField(max_length=200, blank=True)  # as the browser said
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "operations"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(exchange__isnull=False, saved_request__isnull=True)
                | models.Q(exchange__isnull=True, saved_request__isnull=False),
                name="kept_file_has_one_owner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.field}: {self.name}"


class KeptFileChunk(models.Model):
    file = models.ForeignKey(KeptFile, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        app_label = "operations"
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["file", "index"], name="unique_kept_file_chunk")
        ]

    def __str__(self) -> str:
        return f"{self.file_id}[{self.index}]"
