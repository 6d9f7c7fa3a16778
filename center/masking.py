"""Masking of personal data (PIPL; DOMAIN.md): shown masked unless a role needs it.

Reveals go through ``volunteers.services.pii_reveal`` (or its equivalent in
later apps), which writes an audit entry ``center.pii.revealed``.
"""


def mask_mobile(value: str | None) -> str:
    """13812345678 → 138****5678."""
    if not value:
        return ""
    value = str(value)
    if len(value) < 8:
        return "****"
    if value.startswith("0"):  # a landline keeps its area code: 0573****5678
        area = 3 if value[1] in "12" else 4
        return f"{value[:area]}****{value[-4:]}"
    return f"{value[:3]}****{value[-4:]}"


def mask_id_number(value: str | None) -> str:
    """330402199001011234 → 330402********1234 (first 6, last 4)."""
    if not value:
        return ""
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}" if len(value) > 10 else "****"


def mask_name(value: str | None) -> str:
    """张三 and 张三丰 → 张** (public pages): a fixed mask, so the length of the
    name does not show."""
    if not value:
        return ""
    return value[0] + "**"


def mask_email(value: str | None) -> str:
    """zhang.san@example.com → z***@example.com (the domain kept: it tells a
    typo in the provider, not the person)."""
    if not value:
        return ""
    local, at, domain = str(value).partition("@")
    if not at:
        return "****"
    return f"{local[:1]}***@{domain}"
