from django.http import HttpRequest


def crewline(request: HttpRequest) -> dict:
    return {
        "member": getattr(request, "member", None),
        "organization": getattr(request, "organization", None),
    }
