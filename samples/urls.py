from django.urls import path

from samples import views

app_name = "samples"

urlpatterns = [
    path(
        "apis/<slug:api_slug>/operations/<slug:operation_slug>/samples",
        views.operation_samples,
        name="operation_samples",
    ),
]
