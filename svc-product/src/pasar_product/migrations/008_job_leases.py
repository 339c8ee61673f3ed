"""Job leases: the reservation expiry sweep runs in the one process (of all the service's worker
processes and instances) that holds the job's row of ``job_leases`` (pasar_kit.leases: name,
owner, lease_until).

The rollback drops the table: the earlier code runs the job in every process.

Released migrations are never edited.
"""

import peewee as pw
from peewee_migrate import Migrator


class UtcDateTimeField(pw.DateTimeField):
    field_type = "DATETIME(6)"


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class JobLease(pw.Model):
        name = pw.CharField(max_length=64, primary_key=True)
        owner = pw.CharField(max_length=255, null=True)
        lease_until = UtcDateTimeField(null=True)

        class Meta:
            table_name = "job_leases"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("job_leases")
