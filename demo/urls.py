from django.urls import re_path

from demo import views

app_name = "demo"

# Segments are bounded to the model's column sizes; anything longer or any
# other path falls through to the JSON 404 at the end.
_SERVICE = r"^workspaces/(?P<workspace>[^/]{1,100})/services/(?P<service>[^/]{1,100})"
_JOB = _SERVICE + r"/jobs/(?P<jobid>[^/]{1,100})"

urlpatterns = [
    re_path(_SERVICE + r"/execute\Z", views.execute, name="execute"),
    re_path(_SERVICE + r"/jobs\Z", views.submit_job, name="jobs"),
    re_path(_JOB + r"\Z", views.job, name="job"),
    re_path(_JOB + r"/start\Z", views.start_job, name="start-job"),
    re_path(r"^oauth/profile\Z", views.oauth_profile, name="oauth-profile"),
    re_path(r"", views.not_found, name="not-found"),
]
