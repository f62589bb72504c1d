from django import forms
from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from catalog.models import Api, ApiServer, Operation, Parameter, ParameterLocation, ResponseDoc
from catalog.registration import create_missing_template_parameters, template_parameter_problems
from httpcore.headers import HeaderError, validate_header

CREATE_MISSING_FIELD = "create_missing_parameters"


class ParameterInlineFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        # A header Try it would refuse to send (Host, X-HTTP-Method-Override...) is refused
        # here, where it is registered, with the same words.
        for form in self.forms:
            data = form.cleaned_data
            if data and not data.get("DELETE") and data["location"] == ParameterLocation.HEADER:
                try:
                    validate_header(data["name"], "")
                except HeaderError as error:
                    form.add_error("name", error.message)
        if any(self.errors):
            return
        parameters = [
            (form.cleaned_data["name"], form.cleaned_data["location"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        # The checkbox lives on the operation's form, which posts with this formset.
        allow_missing = self.data.get(CREATE_MISSING_FIELD) in {"on", "true", "1"}
        problems = template_parameter_problems(
            template=self.instance.url_template or "",
            parameters=parameters,
            allow_missing=allow_missing,
        )
        if problems:
            raise forms.ValidationError(problems)


class ParameterInline(admin.TabularInline):
    model = Parameter
    formset = ParameterInlineFormSet
    extra = 0
    fields = (
        "name",
        "location",
        "required",
        "type",
        "default",
        "allowed_values",
        "secret",
        "description",
        "order",
    )


class ResponseDocInline(admin.StackedInline):
    model = ResponseDoc
    extra = 0


class OperationAdminForm(forms.ModelForm):
    create_missing_parameters = forms.BooleanField(
        required=False,
        initial=True,
        label="Create missing parameters from the template",
        help_text="On save, add a parameter for every {name} in the URL template that has none.",
    )

    class Meta:
        model = Operation
        fields = (
            "api",
            "name",
            "slug",
            "method",
            "url_template",
            "description",
            "tags",
            "order",
            "request_content_type",
            "body_example",
        )


@admin.register(Operation)
class OperationAdmin(admin.ModelAdmin):
    form = OperationAdminForm
    list_display = ("name", "api", "method", "url_template", "order")
    list_filter = ("api", "method")
    search_fields = ("name", "slug", "url_template", "api__name")
    prepopulated_fields = {"slug": ("name",)}
    list_select_related = ("api",)
    inlines = (ParameterInline, ResponseDocInline)
    fieldsets = (
        (None, {"fields": ("api", "name", "slug", "method", "url_template", CREATE_MISSING_FIELD)}),
        ("Documentation", {"fields": ("description", "tags", "order")}),
        ("Request body", {"fields": ("request_content_type", "body_example")}),
    )

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        if form.cleaned_data.get(CREATE_MISSING_FIELD):
            created = create_missing_template_parameters(operation=form.instance)
            if created:
                names = ", ".join(parameter.name for parameter in created)
                self.message_user(
                    request, f"Created parameters from the template: {names}.", messages.INFO
                )


class OperationInline(admin.TabularInline):
    model = Operation
    extra = 0
    fields = ("name", "slug", "method", "url_template", "order")
    show_change_link = True
    prepopulated_fields = {"slug": ("name",)}


class ApiServerInline(admin.TabularInline):
    """The API's other base URLs, which Try it offers beside the service URL. Each is
    checked by the service URL's rules and the network policy (validate_service_url) when
    saved, and its addresses again on every call."""

    model = ApiServer
    extra = 0
    fields = ("url", "description", "order")
    verbose_name = "server"
    verbose_name_plural = "other servers"


@admin.register(Api)
class ApiAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "service_url", "version", "published")
    list_filter = ("published",)
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (ApiServerInline, OperationInline)
    fields = ("name", "slug", "url_suffix", "service_url", "version", "published", "description")

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        # Operations added in this inline cannot list parameters here; give each
        # {name} of their templates one, to be described on the operation's page.
        for operation in form.instance.operations.all():
            created = create_missing_template_parameters(operation=operation)
            if created:
                names = ", ".join(parameter.name for parameter in created)
                self.message_user(
                    request,
                    f"{operation.name}: created parameters from the template: {names}.",
                    messages.INFO,
                )
