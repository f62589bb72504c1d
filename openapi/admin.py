"""The admin's OpenAPI import: the API admin with an upload, a preview and a confirmation."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path

from catalog.admin import ApiAdmin
from catalog.models import Api
from openapi import admin_import
from portal.typed_requests import SignedInRequest


class ApiImportAdmin(ApiAdmin):
    def get_urls(self):
        return [
            path(
                "import-openapi/",
                self.admin_site.admin_view(self.import_openapi_view),
                name="operations_api_import_openapi",
            ),
            *super().get_urls(),
        ]

    def can_import(self, request: HttpRequest) -> bool:
        user = request.user
        return self.has_add_permission(request) and all(
            user.has_perm(f"operations.{action}")
            for action in ("change_api", "add_operation", "change_operation")
        )

    def import_openapi_view(self, request: SignedInRequest) -> HttpResponse:
        """Upload an OpenAPI document, preview what it changes, confirm: create or sync the API."""
        if not self.can_import(request):
            raise PermissionDenied
        if request.method == "POST" and "token" in request.POST:
            return admin_import.confirm(request, model_admin=self)
        return admin_import.upload(request, model_admin=self)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import_openapi": self.can_import(request)}
        return super().changelist_view(request, extra_context=extra_context)


admin.site.unregister(Api)
admin.site.register(Api, ApiImportAdmin)
