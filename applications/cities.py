"""Registration cities offered on the form, as stable codes with names in both languages.

Django-free (the eligibility rules use the names in their messages)."""

CITIES: list[tuple[str, str, str]] = [
    ("wuhan", "武汉", "Wuhan"),
    ("qingyang", "庆阳", "Qingyang"),
    ("guiyang", "贵阳", "Guiyang"),
    ("beijing", "北京", "Beijing"),
    ("shanghai", "上海", "Shanghai"),
    ("shenzhen", "深圳", "Shenzhen"),
    ("guangzhou", "广州", "Guangzhou"),
    ("hangzhou", "杭州", "Hangzhou"),
    ("chengdu", "成都", "Chengdu"),
    ("chongqing", "重庆", "Chongqing"),
    ("nanjing", "南京", "Nanjing"),
    ("xian", "西安", "Xi'an"),
    ("hefei", "合肥", "Hefei"),
    ("changsha", "长沙", "Changsha"),
    ("lanzhou", "兰州", "Lanzhou"),
    ("tianjin", "天津", "Tianjin"),
    ("suzhou", "苏州", "Suzhou"),
    ("xiamen", "厦门", "Xiamen"),
    ("other", "其他城市", "Another city"),
]
CITY_NAMES_ZH = {code: zh for code, zh, _en in CITIES}
CITY_NAMES_EN = {code: en for code, _zh, en in CITIES}


def city_choices() -> list[tuple[str, str]]:
    """Choices whose labels follow the active language (zh-hans shows Chinese names)."""
    from django.utils.translation import get_language

    english = (get_language() or "").startswith("en")
    return [(code, en if english else zh) for code, zh, en in CITIES]
