from django.urls import path

from operations import views

app_name = "operations"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("apis/<slug:api_slug>/", views.api_detail, name="api_detail"),
    path(
        "apis/<slug:api_slug>/operations/<slug:operation_slug>/",
        views.operation_detail,
        name="operation_detail",
    ),
    path(
        "apis/<slug:api_slug>/operations/<slug:operation_slug>/try",
        views.operation_try,
        name="operation_try",
    ),
    path("history/<int:exchange_id>/body", views.exchange_body, name="exchange_body"),
]
