"""Demo centers: the three state computing centers of the mission."""

from .models import Center, GpuType

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
    stdout.write(f"centers: {Center.objects.count()} computing centers")
