"""The orchestration layer: the tasks the DAG wires, above the provider-style operators of ``pinterest_provider``
and the domain package ``include.pinterest``.

``profile_tasks(settings)`` returns the module of the deployment profile (``local`` or ``aws``). Both expose the
same factories (``ensure_connector``, ``ensure_jobs``, ``connector_running``, ``batch_jobs``, ``start_stream_job``), so the DAG
file reads the same for both and the profile is configuration (``PINTEREST_PROFILE``), never an edit.
"""

from __future__ import annotations

from types import ModuleType

from include.pinterest.settings import Settings


def profile_tasks(settings: Settings) -> ModuleType:
    if settings.profile == "aws":
        from include.orchestration import aws

        return aws
    from include.orchestration import local

    return local
