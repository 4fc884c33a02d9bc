-- A citizen who just verified with the enrolled face may enrol a new one (`POST /v1/me/face/re-enrolment`).
-- Such a reset has no staff member; `granted_by` tells the two kinds apart.
ALTER TABLE face_resets ALTER COLUMN staff_id DROP NOT NULL;
ALTER TABLE face_resets ADD COLUMN granted_by text NOT NULL DEFAULT 'staff'
    CHECK (granted_by IN ('staff', 'citizen'));
ALTER TABLE face_resets ADD CHECK ((granted_by = 'staff') = (staff_id IS NOT NULL));
