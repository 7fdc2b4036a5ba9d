from django.urls import path

from letters import apis

app_name = "letters_api"
urlpatterns = [
    path("letters/", apis.LetterHashApi.as_view(), name="by_sha256"),
    path("letters/<str:code>/", apis.LetterVerifyApi.as_view(), name="by_code"),
]
