from django.urls import path

from operations import openapi_views, sample_views, tester_views, views

app_name = "operations"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("apis/<slug:api_slug>/", views.api_detail, name="api_detail"),
    path("apis/<slug:api_slug>/openapi.json", openapi_views.openapi_json, name="openapi_json"),
    path("apis/<slug:api_slug>/openapi.yaml", openapi_views.openapi_yaml, name="openapi_yaml"),
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
    path(
        "apis/<slug:api_slug>/operations/<slug:operation_slug>/samples",
        sample_views.operation_samples,
        name="operation_samples",
    ),
    path("history/", tester_views.history, name="history"),
    path("history/<int:exchange_id>/", tester_views.exchange_detail, name="exchange_detail"),
    path("history/<int:exchange_id>/body", views.exchange_body, name="exchange_body"),
    path("history/<int:exchange_id>/save", tester_views.save_exchange, name="save_exchange"),
    path("saved/", tester_views.saved_list, name="saved_list"),
    path("saved/<int:saved_id>/", tester_views.saved_detail, name="saved_detail"),
    path("saved/<int:saved_id>/edit", tester_views.saved_edit, name="saved_edit"),
    path("saved/<int:saved_id>/replay", tester_views.saved_replay, name="saved_replay"),
    path("collections/new", tester_views.collection_new, name="collection_new"),
    path(
        "collections/<int:collection_id>/",
        tester_views.collection_detail,
        name="collection_detail",
    ),
    path(
        "collections/<int:collection_id>/edit",
        tester_views.collection_edit,
        name="collection_edit",
    ),
    path("collections/<int:collection_id>/run", tester_views.collection_run, name="collection_run"),
    path("runs/<int:run_id>/", tester_views.run_detail, name="run_detail"),
    path(
        "runs/steps/<int:step_id>/baseline",
        tester_views.step_as_baseline,
        name="step_as_baseline",
    ),
]
