from django.contrib import admin
from django.http import HttpRequest

from console.models import Exchange


@admin.register(Exchange)
class ExchangeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "operation_name", "method", "status_code", "error_kind", "owner")
    list_filter = ("error_kind", "method")
    search_fields = ("operation_name", "url")
    # The encrypted secrets are for their owner's Save and Try again, not for the admin.
    exclude = ("secret_values",)
    readonly_fields = [
        field.name for field in Exchange._meta.fields if field.name != "secret_values"
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
