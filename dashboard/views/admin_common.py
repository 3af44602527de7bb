"""What the admin panels' create and edit forms share: a valid form runs one service call; the
service's refusal (duplicate, overlap, below usage...) becomes the form's readable message."""
from django.contrib import messages

from cloudproj.exceptions import CloudError

from .common import error_message


def submitted(request, form, action, success, errors=(CloudError,), error_field=None, describe=error_message) -> bool:
    """True when `form` is valid and `action(form.cleaned_data)` succeeded (then `success(result)`
    is flashed); False with the error on the form otherwise (nothing was written: each service
    call is one transaction)."""
    if not form.is_valid():
        return False
    try:
        result = action(form.cleaned_data)
    except errors as exc:
        form.add_error(error_field, describe(exc))
        return False
    messages.success(request, success(result))
    return True
