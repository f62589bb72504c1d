from django.apps import AppConfig


class TestingConfig(AppConfig):
    name = "testing"
    verbose_name = "Saved requests, collections and runs"
