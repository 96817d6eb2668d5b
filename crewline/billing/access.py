"""Who may see prices: office staff always; technicians only where the organization allows it
(``BillingSettings.technicians_see_prices``). Everyone else gets a 403."""

from __future__ import annotations

from crewline.billing.services import billing_settings_for
from crewline.core.access import role_required
from crewline.core.models import Member


def member_sees_prices(member: Member) -> bool:
    if member.is_office:
        return True
    return billing_settings_for(member.organization).technicians_see_prices


# Like ``member_required``, and a technician needs the organization's permission.
prices_required = role_required(member_sees_prices, "member",
                                "Your organization does not show prices to technicians.")
