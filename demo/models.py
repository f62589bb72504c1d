import uuid
from datetime import datetime

from django.db import models
from django.utils import timezone


class JobStatus(models.TextChoices):
    # The values are AzureML's BES StatusCode strings, which clients compare against.
    NOT_STARTED = "NotStarted"
    RUNNING = "Running"
    FINISHED = "Finished"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


class DemoJob(models.Model):
    """A batch (BES) job of the sample backend.

    Running and Finished are not stored: they follow from `started_at` and
    `ends_at` compared with the clock, so every server process (and a restarted
    one) agrees on a job's state without a background worker.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.CharField(max_length=100)
    service = models.CharField(max_length=100)
    inputs = models.JSONField(help_text="The request's Inputs, as submitted (already validated).")
    global_parameters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # Fixed at start, so changing PORTAL_DEMO_JOB_SECONDS later does not move
    # the end of jobs that are already running.
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "service"])]
        verbose_name = "demo job"

    def __str__(self) -> str:
        return f"{self.workspace}/{self.service}/{self.id.hex}"

    def status_at(self, *, now: datetime) -> JobStatus:
        """The state by the clock alone; Failed and Cancelled are decided elsewhere
        (a job whose inputs cannot be processed fails; a deleted job is gone)."""
        if self.started_at is None or self.ends_at is None:
            return JobStatus.NOT_STARTED
        if now < self.ends_at:
            return JobStatus.RUNNING
        return JobStatus.FINISHED
