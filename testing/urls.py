from django.urls import path

from testing import views

app_name = "testing"

urlpatterns = [
    path("history/<int:exchange_id>/save", views.save_exchange, name="save_exchange"),
    path("saved/", views.saved_list, name="saved_list"),
    path("saved/<int:saved_id>/", views.saved_detail, name="saved_detail"),
    path("saved/<int:saved_id>/edit", views.saved_edit, name="saved_edit"),
    path("saved/<int:saved_id>/files/<int:file_id>", views.saved_file, name="saved_file"),
    path(
        "saved/<int:saved_id>/files/<int:file_id>/replace",
        views.saved_file_replace,
        name="saved_file_replace",
    ),
    path(
        "saved/<int:saved_id>/files/<int:file_id>/remove",
        views.saved_file_remove,
        name="saved_file_remove",
    ),
    path("saved/<int:saved_id>/replay", views.saved_replay, name="saved_replay"),
    path(
        "saved/<int:saved_id>/baseline/content",
        views.baseline_content,
        name="baseline_content",
    ),
    path("saved/<int:saved_id>/baseline/body", views.baseline_body, name="baseline_body"),
    path("collections/new", views.collection_new, name="collection_new"),
    path(
        "collections/<int:collection_id>/",
        views.collection_detail,
        name="collection_detail",
    ),
    path(
        "collections/<int:collection_id>/edit",
        views.collection_edit,
        name="collection_edit",
    ),
    path("collections/<int:collection_id>/run", views.collection_run, name="collection_run"),
    path("runs/<int:run_id>/", views.run_detail, name="run_detail"),
    path(
        "runs/steps/<int:step_id>/baseline",
        views.step_as_baseline,
        name="step_as_baseline",
    ),
]
