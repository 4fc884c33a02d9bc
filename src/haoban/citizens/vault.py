"""ID numbers at rest: AES-GCM encrypted, found by a keyed hash (blind index)."""

from __future__ import annotations

from uuid import UUID

from haoban.kit.crypto import FieldCipher, keyed_hash


class IdNumberVault:
    def __init__(self, cipher: FieldCipher, index_key: bytes) -> None:
        self._cipher = cipher
        self._key = index_key

    def index(self, id_number: str) -> bytes:
        return keyed_hash(self._key, "id_number:" + id_number)

    def seal(self, citizen_id: UUID, id_number: str) -> str:
        return self._cipher.encrypt(id_number.encode(), aad=f"citizens:id_number:{citizen_id}")

    def open(self, citizen_id: UUID, sealed: str) -> str:
        return self._cipher.decrypt(sealed, aad=f"citizens:id_number:{citizen_id}").decode()
