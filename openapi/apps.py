from django.apps import AppConfig


class OpenapiConfig(AppConfig):
    name = "openapi"
    verbose_name = "OpenAPI import and export"
