from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from demo.models import DemoJob


@admin.register(DemoJob)
class DemoJobAdmin(admin.ModelAdmin):
    """Read-only: jobs are created and changed through the backend's API only."""

    list_display = ["id", "workspace", "service", "status", "created_at", "started_at"]
    list_filter = ["workspace", "service"]
    readonly_fields = [
        "id",
        "workspace",
        "service",
        "inputs",
        "global_parameters",
        "created_at",
        "started_at",
        "ends_at",
    ]

    @admin.display(description="status")
    def status(self, job: DemoJob) -> str:
        return job.status_at(now=timezone.now()).value

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DemoJob | None = None) -> bool:
        return False
