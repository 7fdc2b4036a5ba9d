from django.contrib import admin

from .models import Center, GpuType


class GpuTypeInline(admin.TabularInline):
    model = GpuType
    extra = 0


@admin.register(Center)
class CenterAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "city_zh", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name_zh", "name_en"]
    inlines = [GpuTypeInline]
