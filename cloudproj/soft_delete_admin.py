"""The admin lists every row of a soft-deleting model, deleted ones included (filter on
`deleted_at`): operators look there for what the APIs no longer show."""
from django.contrib import admin


class SoftDeleteAdmin(admin.ModelAdmin):
    def get_queryset(self, request):
        queryset = self.model.all_objects.get_queryset()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset
