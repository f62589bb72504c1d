from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "operations.demo"
    label = "demo"
    verbose_name = "Sample backend"
