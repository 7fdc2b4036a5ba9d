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
        # grants (issue 4): allocate, amend, revoke; capacity; webhook endpoints and deliveries
        "grants.allocate_grants",
        "grants.view_grant",
        "grants.change_grant",
        "grants.view_tranche",
        "grants.view_outboxevent",
        "grants.view_webhookdelivery",
        "grants.change_webhookdelivery",
        "grants.view_deliveryattempt",
        "grants.view_usagereport",
        "centers.view_centercapacity",
        "centers.add_centercapacity",
        "centers.change_centercapacity",
        "centers.view_capacityentry",
        "centers.view_webhookendpoint",
        "centers.add_webhookendpoint",
        "centers.change_webhookendpoint",
        # milestones (issue 5): the review queue, evidence correction, verify / reject / waive /
        # extend / forfeit (every decision asks for a reason and is audited)
        "milestones.view_milestone",
        "milestones.change_milestone",
        "milestones.decide_milestone",
        "milestones.view_evidencecheck",
    ],
    AUDITORS: ["view:*"],
}
