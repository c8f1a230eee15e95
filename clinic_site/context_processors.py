"""Clinic identity for every template: name, phone and call to action come from settings."""

import re

from django.conf import settings
from django.http import HttpRequest


def tel_uri(phone: str) -> str:
    """The `tel:` target for a phone number as people write it: (310) 601-9999 → +13106019999."""
    digits = re.sub(r"\D", "", phone)
    if phone.strip().startswith("+"):
        return f"tel:+{digits}"
    if len(digits) == 10:  # a North American number written without the country code
        return f"tel:+1{digits}"
    return f"tel:{digits}"


def clinic(request: HttpRequest) -> dict:
    return {
        "clinic": {
            "name": settings.CLINIC_NAME,
            "location": settings.CLINIC_LOCATION,
            "phone": settings.CLINIC_PHONE,
            "phone_tel": tel_uri(settings.CLINIC_PHONE),
            "url": settings.CLINIC_URL,
            "cta_heading": settings.CLINIC_CTA_HEADING,
            "cta_text": settings.CLINIC_CTA_TEXT,
        }
    }
