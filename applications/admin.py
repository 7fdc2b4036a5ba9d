from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Application, CityProgram, Commitment, PreferredCenter, Round, Stratum


@admin.register(CityProgram)
class CityProgramAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "city_zh"]


class StratumInline(admin.TabularInline):
    model = Stratum
    extra = 0


@admin.register(Round)
class RoundAdmin(SimpleHistoryAdmin):
    list_display = ["code", "title_zh", "opens_at", "closes_at", "winners"]
    inlines = [StratumInline]


class CommitmentInline(admin.TabularInline):
    model = Commitment
    extra = 0


class PreferredCenterInline(admin.TabularInline):
    model = PreferredCenter
    extra = 0


@admin.register(Application)
class ApplicationAdmin(SimpleHistoryAdmin):
    list_display = ["reference", "company_legal_name", "round", "status", "submitted_at"]
    list_filter = ["round", "status"]
    search_fields = ["reference", "company_legal_name", "uscc"]
    inlines = [PreferredCenterInline, CommitmentInline]
