from django.contrib.auth import forms as auth_forms
from django.template.loader import render_to_string

from ops.tasks import send_email


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's form, with the mail rendered here and sent by the worker: the request never
    waits for a mail server, nor fails when one is down."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        # A subject is one line, however the template is written.
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        html = ""
        if html_email_template_name:
            html = render_to_string(html_email_template_name, context)
        send_email.enqueue(
            subject=subject,
            body=render_to_string(email_template_name, context),
            to=[to_email],
            from_email=from_email,
            html=html,
        )
