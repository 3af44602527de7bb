"""Content negotiation of every API view: an empty Accept header means any type.

openstacksdk sends `Accept: ""` with server, volume and flavor actions; DRF's default
would answer 406 Not Acceptable to those.
"""
from rest_framework.negotiation import DefaultContentNegotiation


class EmptyAcceptMeansAny(DefaultContentNegotiation):
    def get_accept_list(self, request):
        return super().get_accept_list(request) or ["*/*"]
