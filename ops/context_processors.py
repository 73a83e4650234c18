from django.conf import settings


def project(request):
    """The project's name, for page titles and the header (settings.PROJECT_NAME)."""
    return {"project_name": settings.PROJECT_NAME}
