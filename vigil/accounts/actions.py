from __future__ import annotations

from django.db import transaction

from vigil.accounts.models import ApiToken, User, hash_token
from vigil.core.audit import audit


@transaction.atomic(durable=True)
def issue_api_token(user: User, name: str, *, acting_user: User | str) -> str:
    token = ApiToken.generate()
    record = ApiToken.objects.create(user=user, name=name[:80], digest=hash_token(token))
    audit(acting_user, "api_token.issue", record)
    return token
