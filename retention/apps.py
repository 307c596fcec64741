from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = "Retention"

    def ready(self) -> None:
        from voipxs.registry import register_demo_seeder, register_keeper, register_retention_source, register_rotator

        from .keeper import retention_keeper, seed_retention
        from .rotation import held_cdr_rotate

        register_keeper(retention_keeper)  # erasure asks what must stay (invoices, open calls, holds)
        register_demo_seeder(30, "retention", seed_retention)
        register_rotator("retention.HeldCdr", held_cdr_rotate)  # held numbers live under the master keys
        register_retention_source(_policies_for_register)  # the processing register shows the policies in force


def _policies_for_register() -> list[dict]:
    from .selectors import retention_policy_current_list

    return [
        {"category": p.category, "label": str(p.get_category_display()), "period": p.period_label,
         "trigger": p.trigger, "action": p.action, "legal_basis": p.legal_basis}
        for p in retention_policy_current_list()
    ]
