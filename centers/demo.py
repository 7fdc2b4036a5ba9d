"""Demo centers: the three state computing centers of the mission."""

from django.conf import settings

from grants.webhook_signing import generate_secret

from .models import Center, GpuType, WebhookEndpoint

CENTERS = [
    (
        "wuhan-ai",
        "武汉人工智能计算中心",
        "Wuhan AI Computing Center",
        "武汉",
        "Wuhan",
        [("ascend-910b", "Ascend 910B", "gpu_hours")],
    ),
    (
        "qingyang-dc",
        "庆阳数据中心集群",
        "Qingyang Data Center Cluster",
        "庆阳",
        "Qingyang",
        [("h20", "NVIDIA H20", "gpu_hours"), ("llm-tokens", "LLM inference tokens", "tokens")],
    ),
    (
        "guiyang-gcc",
        "贵阳算力调度中心",
        "Guiyang Compute Dispatch Center",
        "贵阳",
        "Guiyang",
        [("a800", "NVIDIA A800", "gpu_hours")],
    ),
]


def load_demo(stdout) -> None:
    for code, name_zh, name_en, city_zh, city_en, gpu_types in CENTERS:
        center, _ = Center.objects.update_or_create(
            code=code,
            defaults={
                "name_zh": name_zh,
                "name_en": name_en,
                "city_zh": city_zh,
                "city_en": city_en,
                "is_active": True,
            },
        )
        for gpu_code, gpu_name, unit in gpu_types:
            GpuType.objects.update_or_create(
                center=center, code=gpu_code, defaults={"name": gpu_name, "unit": unit}
            )
        _billing_demo(center)
    stdout.write(f"centers: {Center.objects.count()} computing centers")
    stdout.write(
        f"center billing: every demo center posts to the reference receiver {settings.RECEIVER_URL}"
        f" (run: python -m receiver --secret {settings.DEMO_RECEIVER_SECRET})"
    )


def _billing_demo(center: Center) -> None:
    """Issue 4: each demo center's billing endpoint is the local reference receiver, signed
    with the demo secret runportal starts it with, so a newcomer sees credits arrive."""
    WebhookEndpoint.objects.get_or_create(
        center=center,
        url=settings.RECEIVER_URL,
        defaults={
            "secret": settings.DEMO_RECEIVER_SECRET,
            "description": "Demo: the reference center receiver (python -m receiver)",
        },
    )
    if not center.usage_secret:
        center.usage_secret = generate_secret()
        center.save(update_fields=["usage_secret"])
