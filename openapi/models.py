from django.conf import settings
from django.db import models


class PendingImport(models.Model):
    """An OpenAPI document uploaded in the admin, kept from its preview to its confirmation."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    filename = models.CharField(max_length=255, blank=True)
    document = models.BinaryField()
    api_slug = models.CharField(max_length=100, blank=True)
    service_url = models.CharField(max_length=500, blank=True)

    class Meta:
        app_label = "operations"

    def __str__(self) -> str:
        return f"{self.filename or 'document'} ({self.created_at:%Y-%m-%d %H:%M})"
