from django.urls import path

from console import authorize_views, environment_views, history_views, views

app_name = "console"

urlpatterns = [
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
    path("apis/<slug:api_slug>/authorize", authorize_views.authorize, name="authorize"),
    path("apis/<slug:api_slug>/authorize/logout", authorize_views.log_out, name="authorize_logout"),
    path("authorize/callback", authorize_views.callback, name="authorize_callback"),
    path("history/", history_views.history, name="history"),
    path("history/<int:exchange_id>/", history_views.exchange_detail, name="exchange_detail"),
    path("history/<int:exchange_id>/body", views.exchange_body, name="exchange_body"),
    path(
        "history/<int:exchange_id>/content",
        history_views.exchange_content,
        name="exchange_content",
    ),
    path(
        "history/<int:exchange_id>/files/<int:file_id>",
        views.exchange_file,
        name="exchange_file",
    ),
    path(
        "history/<int:exchange_id>/save-variable",
        environment_views.save_variable,
        name="save_variable",
    ),
    path("environments/", environment_views.environment_list, name="environment_list"),
    path("environments/new", environment_views.environment_new, name="environment_new"),
    path(
        "environments/<int:environment_id>/edit",
        environment_views.environment_edit,
        name="environment_edit",
    ),
    path(
        "environments/<int:environment_id>/delete",
        environment_views.environment_delete,
        name="environment_delete",
    ),
]
