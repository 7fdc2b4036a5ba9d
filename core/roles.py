"""Staff groups and exactly what each may do. The groups are created by a migration; their
permissions are (re)applied after every migrate, since permissions only exist after it.

Each app adds its own lines here. "app_label.*" means every permission of that app;
"view:*" in Auditors means every view permission in the portal."""

REVIEWERS = "Reviewers"
ALLOCATORS = "Allocators"
AUDITORS = "Auditors"

ROLE_PERMISSIONS: dict[str, list[str]] = {
    REVIEWERS: [
        "applications.view_application",
        "applications.decide_eligibility",
        "applications.view_round",
        "applications.view_stratum",
        "applications.view_commitment",
        "applications.view_preferredcenter",
        "applications.view_cityprogram",
        "centers.view_center",
    ],
    ALLOCATORS: [
        "applications.view_application",
        "applications.view_round",
        "applications.view_commitment",
        "applications.view_preferredcenter",
        "centers.view_center",
        "centers.view_gputype",
    ],
    AUDITORS: ["view:*"],
}
