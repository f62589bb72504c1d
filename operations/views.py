from django.http import HttpRequest, HttpResponse


def catalog(request: HttpRequest) -> HttpResponse:
    return HttpResponse("catalog")
